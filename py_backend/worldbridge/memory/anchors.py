"""The one anchor builder: how posed RGB-D views become the frame model's anchor input.

Serving (:class:`~worldbridge.serving.worker.session.WorkerSession`, through
:class:`~worldbridge.models.pipeline.FramePipeline`) and training
(:class:`~worldbridge.training.clips.ClipDataset`, through
:func:`~worldbridge.training.stage2.frame_model_inputs`) both use these functions, so what
the model sees when served is what it saw when trained (InSpatio-WorldFM, arXiv
2603.11911, section 2.4.1: the anchor is the reference group's point cloud rendered at the
target pose):

* **Lifting and the sky rule** (:func:`lifting_depth`, :func:`add_view`): every valid depth
  pixel becomes a point; sky (+inf on the wire, or 0 in a recording whose engine writes 0
  only for sky, ``zero_depth_is_sky``) is lifted :data:`SKY_DEPTH_M` metres along its ray,
  behind every real surface and without visible parallax near the scene, so the sky is
  part of the anchor instead of a hole; NaN and non-positive depth stay invalid.
* **Resizing** (:func:`anchor_model_image`): an anchor rendered at the frame's own size is
  brought to the model's square size by coverage-normalised area averaging: colours are
  averaged over the covered source pixels only (holes never darken a covered pixel) and
  the covered fraction is kept as the coverage.
* **The hole value** (:func:`apply_hole_value`): uncovered pixels take the model's
  ``anchor_hole_value`` (:class:`~worldbridge.models.config.FrameModelConfig`).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worldbridge.geometry.views import PosedView

__all__ = ["SKY_DEPTH_M", "add_view", "anchor_model_image", "apply_hole_value", "depth_scale",
           "lifting_depth"]

SKY_DEPTH_M = 1.0e4
"""Where sky pixels are lifted along their rays, metres."""


def lifting_depth(depth: np.ndarray, zero_depth_is_sky: bool = False) -> np.ndarray:
    """The depth map that is lifted: sky moved to :data:`SKY_DEPTH_M`.

    Args:
        depth: ``[H, W]`` floating planar z, metres; +inf is sky; 0, negative and NaN are
            invalid (or sky too, for 0, with ``zero_depth_is_sky``).
        zero_depth_is_sky: treat exact zeros as sky (recordings store sky as 0).

    Returns:
        ``[H, W]`` float32: valid depth unchanged, sky at :data:`SKY_DEPTH_M`, invalid 0.

    Raises:
        ValueError: not a 2-D floating numpy array.
    """
    if not isinstance(depth, np.ndarray) or depth.ndim != 2 or depth.dtype.kind != "f":
        got = f"{depth.dtype} {list(depth.shape)}" if isinstance(depth, np.ndarray) \
            else type(depth).__name__
        raise ValueError(f"depth must be an [H, W] floating numpy array (metres), got {got}")
    d = depth.astype(np.float32, copy=True)
    sky = np.isposinf(d)
    if zero_depth_is_sky:
        sky |= d == 0
    d[~np.isfinite(d) | (d < 0)] = 0.0
    d[sky] = SKY_DEPTH_M
    return d


def add_view(memory: Any, view: PosedView, *, reference: bool,
             zero_depth_is_sky: bool = False) -> int:
    """Lift a posed RGB-D view into a scene memory with the sky rule.

    Args:
        memory: a :class:`~worldbridge.memory.SceneMemory`.
        view: the view; its ``rgb`` ``[H, W, 3]`` uint8 and ``depth`` ``[H, W]`` float32 planar
            z, metres (see :func:`lifting_depth`) are both required. Its camera was checked
            when it was made; no rigidity check runs here.
        reference: add in full (a reference view) or voxel de-duplicated (a keyframe).
        zero_depth_is_sky: see :func:`lifting_depth`.

    Returns:
        The number of points added.

    Raises:
        ValueError: a view without rgb or depth, or as :meth:`SceneMemory.add_camera_view`
            and :func:`lifting_depth`.
    """
    if view.rgb is None or view.depth is None:
        raise ValueError("a view lifted into the scene memory needs both rgb and depth")
    return memory.add_camera_view(view.rgb, lifting_depth(view.depth, zero_depth_is_sky),
                                  view.camera, reference=reference)


def anchor_model_image(rgb: np.ndarray, mask: np.ndarray, size: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """An anchor render resized to the model's square side, with its coverage.

    Args:
        rgb: ``[S0, S0, 3]`` uint8 anchor render (any value on holes), square.
        mask: ``[S0, S0]`` bool, True where an anchor point landed.
        size: S, the model's image side, pixels.

    Returns:
        ``(image, coverage)``: ``image [S, S, 3]`` float32 in [0, 255], the mean colour of
        the covered source pixels (0 where none is covered), and ``coverage [S, S]``
        float32 in [0, 1], the covered fraction (area averaging; equal to the mask when
        ``S0 == S``).

    Raises:
        ValueError: non-square or mismatched inputs.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] != rgb.shape[1]:
        raise ValueError(f"anchor rgb must be a square [S, S, 3] image, got {list(rgb.shape)}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"anchor mask is {list(mask.shape)}, rgb {list(rgb.shape)}")
    m = mask.astype(np.float32)
    img: np.ndarray = rgb.astype(np.float32) * m[..., None]
    if rgb.shape[0] != size:
        interp = cv2.INTER_AREA if size < rgb.shape[0] else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
        m = np.clip(cv2.resize(m, (size, size), interpolation=interp), 0.0, 1.0)
        img = np.where(m[..., None] > 1e-6, img / np.maximum(m, 1e-6)[..., None], 0.0)
    return np.clip(img, 0.0, 255.0).astype(np.float32), m.astype(np.float32)


def apply_hole_value(images: Any, coverage: Any, hole_value: float) -> Any:
    """Anchor images as the model takes them: uncovered pixels set to ``hole_value``.

    Args:
        images: ``[B, 3, S, S]`` float torch tensor, anchor images in [-1, 1].
        coverage: ``[B, 1, S, S]`` float coverage in [0, 1] (or bool), same device.
        hole_value: the model's ``anchor_hole_value`` in [-1, 1] (0.0 is mid grey).

    Returns:
        ``[B, 3, S, S]``, same dtype: ``images`` where coverage > 0, ``hole_value`` elsewhere.
    """
    return images.where(coverage > 0, float(hole_value))


def depth_scale(depth: Any) -> float:
    """The scene scale seen by one view: the median of its valid depth, metres.

    Valid means finite, positive and nearer than :data:`SKY_DEPTH_M` (sky lifted far away
    must not set the scale). It is the scale PRoPE's poses are divided by
    (:func:`~worldbridge.models.conditioning.normalize_cameras`).

    Args:
        depth: ``[H, W]`` planar z, metres (numpy or torch; 0, negative or non-finite are
            invalid), or None.

    Returns:
        The median valid depth, metres; 1.0 when there is no valid pixel (or no depth), so
        the normalisation falls back to raw metres.
    """
    if depth is None:
        return 1.0
    d = depth.detach().cpu().numpy() if hasattr(depth, "detach") else np.asarray(depth)
    d = d.astype(np.float64, copy=False).ravel()
    valid = d[np.isfinite(d) & (d > 0) & (d < SKY_DEPTH_M)]
    return float(np.median(valid)) if valid.size else 1.0

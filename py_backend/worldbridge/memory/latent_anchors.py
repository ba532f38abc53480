"""Latent anchors: scene memory whose points carry autoencoder latents instead of RGB.

The latent spatial memory of Mirage ("Latent Spatial Memory for Video World Models",
arXiv 2606.09828, section 3: latent token lifting, Eq. 3, and latent-space
warping, section 3.2): each latent cell of a posed view is lifted into 3D with the view's
depth (depth-guided back-projection of latent tokens), and a novel view's anchor is
rendered directly in latent space (latent-space warping).
The frame model then needs no VAE encode of an RGB anchor render per frame: on 2 CPU
cores a 512x512 latent anchor (4,096 points) renders in about 0.1 ms, where rendering the
RGB anchor (262,144 points, 4 ms) and encoding it costs about 210 ms with the default
:class:`~worldbridge.models.compact_autoencoder.CompactAutoencoder` and about 5.6 s with an
SDXL-sized VAE encoder; the memory holds 64x fewer points.

Resolution: the anchor is resampled on the latent grid, nearest point per cell, so its
geometry is quantised to latent cells (a position error of up to about half a cell, f / 2
pixels, where a pixel-space anchor has half a pixel). Encoding an RGB anchor render gives
sub-cell detail but costs the encode.

A latent grid is the image grid coarsened by the autoencoder's factor f: latent cell
``(i, j)`` covers image pixels ``[i*f, (i+1)*f) x [j*f, (j+1)*f)``. In continuous
image-plane coordinates (OpenCV, pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``) the
latent grid is the image plane scaled by ``1 / f``, so the latent camera is
``K_latent = diag(1/f, 1/f, 1) @ K`` (``cx' = cx / f``, ``cy' = cy / f``; no half-pixel
shift), and the centre of latent cell ``(i, j)``, ``(j + 0.5, i + 0.5)`` in latent
coordinates, is the centre of its f x f block of pixels.

Depth pooling (:func:`latent_view`): a latent cell gets the **nearest valid depth** of its
f x f pixels (the minimum over pixels with a finite depth > 0). At a depth edge the cell's
point sits on the foreground surface, so a moving camera never sees background latents
through a foreground object (a mean or median depth would put edge points in mid-air
between the two surfaces); the cost is that foreground objects grow by up to one cell. A
cell with no valid pixel is invalid (depth 0) and lifts no point. Sky (+inf) counts as
invalid here: no latent point is lifted for it, and the frame model fills it.

Everything else (OpenCV world and c2w poses, metres, keyframe de-duplication, capacity) is
:class:`~worldbridge.memory.SceneMemory`'s.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from worldbridge.geometry.conventions import validate_rigid
from worldbridge.geometry.intrinsics import Intrinsics
from worldbridge.memory.pointcloud import (
    DEFAULT_MAX_POINTS,
    DEFAULT_VOXEL_SIZE,
    SceneMemory,
    _check_depth,
)
from worldbridge.render import zbuffer

__all__ = ["LatentAnchorMemory", "latent_intrinsics", "latent_view", "pool_depth_min"]


def _check_factor(downsample: Any) -> int:
    try:
        f = operator.index(downsample)
    except TypeError:
        raise ValueError(f"downsample must be a positive integer, got {downsample!r}") from None
    if isinstance(downsample, bool) or f <= 0:
        raise ValueError(f"downsample must be a positive integer, got {downsample!r}")
    return f


def latent_intrinsics(K: Any, downsample: int) -> np.ndarray:
    """The latent grid's camera: ``diag(1/f, 1/f, 1) @ K``.

    Args:
        K: ``[3, 3]`` pinhole matrix in image pixels, or an
            :class:`~worldbridge.geometry.Intrinsics`.
        downsample: the autoencoder's factor f.

    Returns:
        ``[3, 3]`` float64 K in latent cells: ``fx/f, fy/f, cx/f, cy/f`` (module docstring).

    Raises:
        ValueError: a bad K or a non-positive f.
    """
    f = _check_factor(downsample)
    fx, fy, cx, cy = zbuffer._check_k(K)
    return np.array([[fx / f, 0.0, cx / f], [0.0, fy / f, cy / f], [0.0, 0.0, 1.0]])


def pool_depth_min(depth: np.ndarray, downsample: int) -> np.ndarray:
    """Nearest valid depth per f x f block (0 where a block has no valid pixel).

    Args:
        depth: ``[H, W]`` floating planar z, metres; valid pixels are finite and > 0
            (0, negative, NaN and +/-inf, i.e. sky, are invalid). H, W multiples of f.
        downsample: the block size f.

    Returns:
        ``[H / f, W / f]`` float32 metres.

    Raises:
        ValueError: depth not a ``[H, W]`` floating numpy array, or H / W not multiples
            of f.
    """
    f = _check_factor(downsample)
    d = _check_depth(depth)
    h, w = d.shape
    if h % f or w % f:
        raise ValueError(f"depth is {w}x{h} (W x H), not a multiple of the downsampling "
                         f"factor {f}")
    valid = np.isfinite(d) & (d > 0)
    blocks = np.where(valid, d, np.inf).reshape(h // f, f, w // f, f)
    pooled = blocks.min(axis=(1, 3))
    pooled[~np.isfinite(pooled)] = 0.0
    return pooled.astype(np.float32, copy=False)


def latent_view(latents: Any, depth: np.ndarray, K: Any, downsample: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Depth and intrinsics of a posed view at its latents' resolution.

    With these, ``SceneMemory.add_view(latents.permute(1, 2, 0).numpy(), depth_latent,
    K_latent, c2w)`` lifts one point per valid latent cell, carrying its C latent values.

    Args:
        latents: ``[C, h, w]`` latents of the view's image (numpy or torch; only the
            shape is used), with ``h = H / f`` and ``w = W / f``.
        depth: ``[H, W]`` floating planar z of the image, metres (0 = invalid, +inf =
            sky; both become invalid cells).
        K: ``[3, 3]`` pinhole matrix of the image in pixels, or an
            :class:`~worldbridge.geometry.Intrinsics` of size W x H.
        downsample: the autoencoder's factor f.

    Returns:
        ``(depth_latent, K_latent)``: ``[h, w]`` float32 metres, the nearest valid depth
        per cell (:func:`pool_depth_min`), and the ``[3, 3]`` float64 latent camera
        (:func:`latent_intrinsics`).

    Raises:
        ValueError: latents not 3-d, depth not ``[h * f, w * f]`` floating, intrinsics of
            another size, a bad K or f.
    """
    f = _check_factor(downsample)
    shape = tuple(getattr(latents, "shape", ()))
    if len(shape) != 3 or min(shape) <= 0:
        raise ValueError(f"latents must be [C, h, w], got shape {list(shape)}")
    d = _check_depth(depth)
    _, h, w = shape
    if d.shape != (h * f, w * f):
        raise ValueError(f"depth is {list(d.shape)} but latents [{h}, {w}] at factor {f} need "
                         f"[{h * f}, {w * f}] (H, W)")
    if isinstance(K, Intrinsics) and (K.height, K.width) != d.shape:
        raise ValueError(f"intrinsics are for a {K.width}x{K.height} image but the depth is "
                         f"{d.shape[1]}x{d.shape[0]} (width x height)")
    return pool_depth_min(d, f), latent_intrinsics(K, f)


def _latents_hwc(latents: Any) -> np.ndarray:
    """``[C, h, w]`` numpy / torch latents as a ``[h, w, C]`` float32 numpy array."""
    if isinstance(latents, np.ndarray):
        arr = latents
    elif zbuffer._is_tensor(latents):
        arr = latents.detach().to("cpu").float().numpy()
    else:
        raise ValueError(f"latents must be a numpy array or torch tensor, got "
                         f"{type(latents).__name__}")
    if arr.ndim != 3 or min(arr.shape) <= 0:
        raise ValueError(f"latents must be [C, h, w], got shape {list(arr.shape)}")
    if arr.dtype.kind != "f":
        raise ValueError(f"latents must be floating point, got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("latents have non-finite values")
    return np.ascontiguousarray(arr.transpose(1, 2, 0), dtype=np.float32)


class LatentAnchorMemory:
    """A :class:`~worldbridge.memory.SceneMemory` of latent points, rendered as latent anchors.

    Latents are stored as float32 (16 bytes per point for C = 4, plus 12 for the
    position and 8 for the voxel key). Not thread-safe, like SceneMemory.

    Args:
        downsample: the autoencoder's factor f (8 for SD / SDXL and the compact one).
        latent_channels: C, or None to take it from the first view.
        voxel_size: keyframe de-duplication voxel edge, metres (SceneMemory's).
        max_points: capacity in points (latent cells), or None (SceneMemory's).
        device: None (render on the CPU) or a torch device to keep and render the points
            on (SceneMemory's).

    Raises:
        ValueError: a bad f, C, voxel size or capacity.
    """

    def __init__(self, downsample: int = 8, latent_channels: int | None = None, *,
                 voxel_size: float = DEFAULT_VOXEL_SIZE,
                 max_points: int | None = DEFAULT_MAX_POINTS, device: Any = None) -> None:
        self.downsample = _check_factor(downsample)
        if latent_channels is not None:
            latent_channels = _check_factor(latent_channels)  # a positive integer too
        self.latent_channels = latent_channels
        self.device = device
        self.memory = SceneMemory(voxel_size=voxel_size, max_points=max_points, device=device)

    @classmethod
    def for_autoencoder(cls, autoencoder: Any, **kwargs: Any) -> LatentAnchorMemory:
        """A memory matching an :class:`~worldbridge.models.autoencoder.Autoencoder`'s
        ``downsample`` and ``latent_channels`` (other arguments as the constructor's)."""
        return cls(autoencoder.downsample, autoencoder.latent_channels, **kwargs)

    @property
    def num_points(self) -> int:
        """Latent points held."""
        return self.memory.num_points

    def clear(self) -> None:
        """Forget every view."""
        self.memory.clear()

    def add_view(self, latents: Any, depth: np.ndarray, K: Any, c2w: Any, *,
                 reference: bool = False) -> int:
        """Lift a posed view's latents into the memory (one point per valid latent cell).

        Args:
            latents: ``[C, h, w]`` floating latents of the view's image (numpy or torch,
                any device), as :meth:`Autoencoder.encode` returns them (batch index
                removed); h = H / f, w = W / f.
            depth: ``[H, W]`` floating planar z of the image, metres (0 = invalid, +inf =
                sky: both lift nothing); pooled with :func:`pool_depth_min`.
            K: ``[3, 3]`` pinhole matrix of the image in pixels, or an
                :class:`~worldbridge.geometry.Intrinsics` of size W x H.
            c2w: ``[4, 4]`` camera-to-world, OpenCV, metres.
            reference: add in full (a reference view) rather than de-duplicated (a keyframe).

        Returns:
            Number of latent points added.

        Raises:
            ValueError: latents not ``[C, h, w]`` finite floating, C different from the
                memory's, depth not ``[h * f, w * f]``, a bad K or pose.
        """
        lat = _latents_hwc(latents)
        c = lat.shape[2]
        if self.latent_channels is not None and c != self.latent_channels:
            raise ValueError(f"latents have {c} channels but this memory holds "
                             f"{self.latent_channels}")
        depth_latent, k_latent = latent_view(latents, depth, K, self.downsample)
        added = self.memory.add_view(lat, depth_latent, k_latent, c2w, reference=reference)
        self.latent_channels = c
        return added

    def render(self, c2w: Any, K: Any, image_h: int | None = None,
               image_w: int | None = None, *, point_radius_px: int = 0,
               near: float = zbuffer.DEFAULT_NEAR) -> tuple[Any, Any]:
        """Render the latent anchor at a camera.

        Args:
            c2w: ``[4, 4]`` camera-to-world, OpenCV, metres.
            K: ``[3, 3]`` pinhole matrix of the *image* in pixels, or an
                :class:`~worldbridge.geometry.Intrinsics` (then the size defaults to its).
            image_h, image_w: the image size, pixels; multiples of f. The anchor is
                ``image_h / f x image_w / f``.
            point_radius_px: splat radius in latent cells (see
                :func:`~worldbridge.render.render_points`); 1 closes cracks when the camera
                moves closer than the views the points came from.
            near: near plane, metres.

        Returns:
            ``(anchor, mask)``: ``anchor [C, h, w]`` float32 torch tensor, the winning
            point's latent per cell (zeros where uncovered); ``mask [h, w]`` bool torch
            tensor, True where covered. On ``device`` when set, else on the CPU.

        Raises:
            ValueError: the image size missing or not a multiple of f, an empty memory
                whose latent channel count is unknown, a bad K or pose.
        """
        import torch

        if isinstance(K, Intrinsics):
            image_h = K.height if image_h is None else image_h
            image_w = K.width if image_w is None else image_w
        if image_h is None or image_w is None:
            raise ValueError("image_h and image_w are required when K is a matrix, got "
                             f"image_h={image_h!r}, image_w={image_w!r}")
        f = self.downsample
        image_h = zbuffer._check_size(image_h, "image_h")
        image_w = zbuffer._check_size(image_w, "image_w")
        if image_h % f or image_w % f:
            raise ValueError(f"image size {image_w}x{image_h} (W x H) is not a multiple of the "
                             f"downsampling factor {f}")
        h, w = image_h // f, image_w // f
        k_latent = latent_intrinsics(K, f)
        if self.memory.num_points == 0:
            validate_rigid(zbuffer._host_f64(c2w, "c2w"), name="c2w")
            if self.latent_channels is None:
                raise ValueError("this memory is empty and its latent channel count is unknown; "
                                 "pass latent_channels to the constructor or add a view first")
            zbuffer._check_size(h * w, "image size")
            dev = self.device if self.device is not None else "cpu"
            return (torch.zeros((self.latent_channels, h, w), dtype=torch.float32, device=dev),
                    torch.zeros((h, w), dtype=torch.bool, device=dev))
        out = self.memory.render(c2w, k_latent, h, w, point_radius_px=point_radius_px, near=near)
        image, mask = out.image, out.mask
        if isinstance(image, np.ndarray):
            image, mask = torch.from_numpy(image), torch.from_numpy(mask)
        return image.permute(2, 0, 1).contiguous(), mask

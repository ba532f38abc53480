"""Scene memory: posed RGB-D views lifted into one global point cloud, rendered as anchors.

Everything is OpenCV world, metres (camera X right, Y down, Z forward); poses given here
are camera-to-world (c2w). Depth is planar z (along the camera's +Z) in metres with 0 (or a
non-finite value) marking invalid/sky pixels, as :func:`worldbridge.geometry.decode_depth`
returns it. Pixel ``(row, col)`` is lifted at its centre ``(col + 0.5, row + 0.5)``, so
rendering the lifted points at the same camera puts each back into its own pixel.

Memory policy (:class:`SceneMemory`):

* Reference views (``reference=True``) are added in full: every valid pixel becomes a point.
* Keyframes (the default) are voxel de-duplicated: a keyframe only adds the points whose
  voxel (a cube of ``voxel_size`` metres) holds no point yet, judged against the memory
  as it was before the keyframe (after eviction, below). Revisiting a place adds (almost)
  nothing, while a newly seen region is added at the keyframe's full pixel density; the
  first view into an empty memory is added in full either way. Points of a keyframe are
  not de-duplicated among themselves.
* Capacity: the memory never holds more than ``max_points`` points. Before a view with M
  valid pixels is added, whole views are evicted until M more points would fit: oldest
  keyframe first, then (only when no keyframe is left) oldest reference view. The view is
  then de-duplicated against what remains, so a region it sees is never lost to the
  eviction its own add caused. A view with more valid pixels than ``max_points`` is
  subsampled with a uniform pixel stride.
"""

from __future__ import annotations

import itertools
import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from worldbridge.geometry.conventions import invert_rigid, validate_rigid
from worldbridge.geometry.intrinsics import Intrinsics
from worldbridge.geometry.views import Camera
from worldbridge.memory import _unproject_numba, _voxel_set
from worldbridge.render import zbuffer
from worldbridge.render.zbuffer import AnchorRender

__all__ = ["unproject_depth", "SceneMemory", "ViewRecord", "warmup",
           "DEFAULT_VOXEL_SIZE", "DEFAULT_MAX_POINTS"]

DEFAULT_VOXEL_SIZE = 0.02
"""Default de-duplication voxel edge, metres."""

DEFAULT_MAX_POINTS = 2_000_000
"""Default capacity, points: 23 bytes each with RGB colours and voxel keys (about 46 MB),
and about 20 ms to render on 2 CPU cores."""


def _k_tuple(K: Any, height: int | None = None, width: int | None = None  # noqa: N803
             ) -> tuple[float, float, float, float]:
    """``(fx, fy, cx, cy)`` from an Intrinsics (checked against the image size) or a K."""
    if isinstance(K, Intrinsics):
        if height is not None and (K.height, K.width) != (height, width):
            raise ValueError(f"intrinsics are for a {K.width}x{K.height} image but the depth is "
                             f"{width}x{height} (width x height)")
        return K.fx, K.fy, K.cx, K.cy
    return zbuffer._check_k(K)


def _check_depth(depth: Any) -> np.ndarray:
    if not isinstance(depth, np.ndarray):
        raise ValueError(f"depth must be a numpy array, got {type(depth).__name__}")
    if depth.ndim != 2 or depth.shape[0] == 0 or depth.shape[1] == 0:
        raise ValueError(f"depth must be [H, W] with H, W > 0, got shape {list(depth.shape)}")
    if depth.dtype.kind != "f":
        raise ValueError(f"depth must be floating point (float32 metres), got dtype {depth.dtype}")
    return depth.astype(np.float32, copy=False)


def _unproject(depth: np.ndarray, k: tuple[float, float, float, float], c2w: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`unproject_depth` on checked inputs (``[H, W]`` float32, fx/fy/cx/cy, c2w)."""
    h, w = depth.shape
    fx, fy, cx, cy = k
    xn = ((np.arange(w, dtype=np.float64) + 0.5) - cx) / fx
    yn = ((np.arange(h, dtype=np.float64) + 0.5) - cy) / fy
    points = np.empty((h * w, 3), dtype=np.float32)
    pixels = np.empty(h * w, dtype=np.int64)
    m = _unproject_numba.unproject_kernel(np.ascontiguousarray(depth).reshape(-1), w, xn, yn,
                                          np.ascontiguousarray(c2w[:3]), points, pixels)
    return points[:m], pixels[:m]


def unproject_depth(depth: np.ndarray, K: Any, c2w: Any  # noqa: N803
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Lift a planar-z depth map into world points, one per valid pixel.

    Pixel ``(row, col)`` with depth ``z`` becomes the camera point
    ``z * [(col + 0.5 - cx) / fx, (row + 0.5 - cy) / fy, 1]`` and then ``c2w`` applied to
    it (computed in float64, returned as float32).

    Args:
        depth: ``[H, W]`` floating planar z (along the camera's +Z), metres; 0, negative,
            NaN or inf pixels are invalid and skipped.
        K: ``[3, 3]`` pinhole matrix in pixels, or an :class:`~worldbridge.geometry.Intrinsics`
            of size W x H.
        c2w: ``[4, 4]`` camera-to-world, OpenCV, metres (a rigid transform).

    Returns:
        ``(points, pixels)``: ``points [M, 3]`` float32 world positions (metres) and
        ``pixels [M]`` int64 row-major flat pixel indices ``row * W + col`` (ascending),
        so ``rgb.reshape(-1, C)[pixels]`` are the points' colours.

    Raises:
        ValueError: depth not a ``[H, W]`` floating numpy array, K not a finite pinhole
            matrix (or Intrinsics of another size), c2w not a finite rigid ``[4, 4]``
            (:class:`~worldbridge.geometry.PoseError`).
    """
    d = _check_depth(depth)
    k = _k_tuple(K, *d.shape)
    pose = validate_rigid(zbuffer._host_f64(c2w, "c2w"), name="c2w")
    return _unproject(d, k, pose)


@dataclass(frozen=True)
class ViewRecord:
    """One view held by a :class:`SceneMemory`.

    Attributes:
        view_id: the index of the :meth:`SceneMemory.add_view` call that added it (0 for
            the first call; views that added no point are not recorded).
        reference: True for a reference view (added in full), False for a keyframe.
        num_points: points this view contributes to the memory now.
    """

    view_id: int
    reference: bool
    num_points: int


@dataclass
class _View:
    view_id: int
    reference: bool
    start: int
    count: int


class SceneMemory:
    """One global point cloud built from posed RGB-D views (OpenCV world, metres).

    Points are stored in order of addition (the renderer's tie-break favours older
    points). Storage is numpy on the host; with ``device`` set, a torch copy is kept on
    that device (re-uploaded after each change) and :meth:`render` returns torch tensors
    there. Not thread-safe: use one memory per session and one thread at a time.

    Args:
        voxel_size: de-duplication voxel edge, metres (> 0); see the module docstring.
        max_points: capacity, points (> 0), or None for unlimited; eviction policy in the
            module docstring.
        device: None (numpy results) or a torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``)
            to render there and return tensors.

    Raises:
        ValueError: non-positive or non-finite ``voxel_size``, non-positive ``max_points``.
    """

    def __init__(self, voxel_size: float = DEFAULT_VOXEL_SIZE,
                 max_points: int | None = DEFAULT_MAX_POINTS, device: Any = None) -> None:
        if isinstance(voxel_size, bool) or not isinstance(voxel_size, numbers.Real) or not (
                math.isfinite(voxel_size) and voxel_size > 0):
            raise ValueError(f"voxel_size must be a finite number > 0 (metres), got {voxel_size!r}")
        if max_points is not None:
            try:
                max_points = operator.index(max_points)
            except TypeError:
                raise ValueError(
                    f"max_points must be an integer or None, got {max_points!r}") from None
            if max_points <= 0:
                raise ValueError(f"max_points must be > 0 or None, got {max_points}")
        self.voxel_size: float = float(voxel_size)
        self.max_points: int | None = max_points
        self.device: Any = device
        self._ids: itertools.count[int] = itertools.count()
        self.clear()

    # ----------------------------------------------------------------- state
    def clear(self) -> None:
        """Forget every view and point (the colour dtype and channel count too)."""
        self._n = 0
        self._points = np.empty((0, 3), dtype=np.float32)
        self._colors: np.ndarray | None = None
        self._keys = np.empty(0, dtype=np.int64)
        self._views: list[_View] = []
        self._voxels = _voxel_set.VoxelCounter()
        self._device_cache: tuple[Any, Any] | None = None

    @property
    def num_points(self) -> int:
        """Number of points held."""
        return self._n

    @property
    def num_views(self) -> int:
        """Number of views (reference views and keyframes) contributing points."""
        return len(self._views)

    @property
    def num_voxels(self) -> int:
        """Number of occupied de-duplication voxels."""
        return len(self._voxels)

    @property
    def views(self) -> list[ViewRecord]:
        """The views held, oldest first."""
        return [ViewRecord(v.view_id, v.reference, v.count) for v in self._views]

    @property
    def points(self) -> np.ndarray:
        """``[N, 3]`` float32 world positions, metres (read-only view)."""
        out = self._points[:self._n]
        out.flags.writeable = False
        return out

    @property
    def colors(self) -> np.ndarray | None:
        """``[N, C]`` per-point colours (or latents), the dtype of the first view; read-only
        view; None before the first view."""
        if self._colors is None:
            return None
        out = self._colors[:self._n]
        out.flags.writeable = False
        return out

    # ------------------------------------------------------------------- add
    def add_view(self, rgb: np.ndarray, depth: np.ndarray, K: Any, c2w: Any, *,  # noqa: N803
                 reference: bool = False) -> int:
        """Lift a posed RGB-D view into the memory.

        Args:
            rgb: ``[H, W, C]`` per-pixel colours, usually uint8 RGB; any real dtype and
                channel count C (e.g. latents), but the same for every view of a memory.
            depth: ``[H, W]`` floating planar z, metres; 0 / negative / non-finite =
                invalid (not added).
            K: ``[3, 3]`` pinhole matrix in pixels, or an
                :class:`~worldbridge.geometry.Intrinsics` of size W x H.
            c2w: ``[4, 4]`` camera-to-world, OpenCV, metres.
            reference: add in full (a reference view) instead of voxel de-duplicating
                against the memory (a keyframe).

        Returns:
            Number of points added (after de-duplication and any subsampling); views
            evicted to make room are not subtracted.

        Raises:
            ValueError: rgb not ``[H, W, C]`` numpy of a real dtype, depth of another size
                or not floating, a dtype or C different from the memory's, a bad K or
                intrinsics size, or c2w not a finite rigid transform (``PoseError``).
        """
        d = self._check_view_arrays(rgb, depth)
        k = _k_tuple(K, *d.shape)
        pose = validate_rigid(zbuffer._host_f64(c2w, "c2w"), name="c2w")
        return self._lift(rgb, d, k, pose, reference)

    def add_camera_view(self, rgb: np.ndarray, depth: np.ndarray, camera: Camera, *,
                        reference: bool = False) -> int:
        """:meth:`add_view` at a :class:`~worldbridge.geometry.views.Camera`, whose pose was
        checked when it was made (no rigidity check here).

        Args:
            rgb, depth, reference: as :meth:`add_view`; ``H, W`` are the camera's size.
            camera: the view's camera (OpenCV c2w, metres; intrinsics in pixels).

        Returns:
            Number of points added.

        Raises:
            ValueError: as :meth:`add_view` for the arrays, or arrays of another size than
                the camera's intrinsics.
        """
        d = self._check_view_arrays(rgb, depth)
        return self._lift(rgb, d, _k_tuple(camera.intrinsics, *d.shape), camera.c2w, reference)

    def _check_view_arrays(self, rgb: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Check a view's colours and depth against each other and the memory; return the
        depth as float32."""
        if not isinstance(rgb, np.ndarray):
            raise ValueError(f"rgb must be a numpy array, got {type(rgb).__name__}")
        if rgb.ndim != 3 or rgb.shape[2] < 1:
            raise ValueError(f"rgb must be [H, W, C], got shape {list(rgb.shape)}")
        if rgb.dtype.kind not in "biuf":
            raise ValueError(f"rgb must have a real dtype, got {rgb.dtype}")
        d = _check_depth(depth)
        if d.shape != rgb.shape[:2]:
            raise ValueError(f"depth is {list(d.shape)} but rgb is {list(rgb.shape)}; "
                             "they must have the same H and W")
        if self._colors is not None and (rgb.dtype != self._colors.dtype
                                         or rgb.shape[2] != self._colors.shape[1]):
            raise ValueError(f"rgb is {rgb.dtype} with {rgb.shape[2]} channels but this memory "
                             f"holds {self._colors.dtype} with {self._colors.shape[1]}")
        return d

    def _lift(self, rgb: np.ndarray, d: np.ndarray, k: tuple[float, float, float, float],
              pose: np.ndarray, reference: bool) -> int:
        points, pixels = _unproject(d, k, pose)
        if self.max_points is not None and len(points) > self.max_points:
            take = np.linspace(0, len(points) - 1, self.max_points).round().astype(np.int64)
            points, pixels = points[take], pixels[take]
        # Make room for the whole view first, then de-duplicate against what is left: a
        # region the view sees again is never lost to the eviction its own add causes.
        self._evict(incoming=len(points))
        keys = _voxel_set.voxel_keys(points, self.voxel_size)
        if not reference and self._n:
            fresh = np.flatnonzero(~self._voxels.occupied(keys))
            points, pixels, keys = points[fresh], pixels[fresh], keys[fresh]
        colors = rgb.reshape(-1, rgb.shape[2])[pixels]
        self._append(points, colors, keys, reference)
        return len(points)

    def _append(self, points: np.ndarray, colors: np.ndarray, keys: np.ndarray,
                reference: bool) -> None:
        m, n = len(points), self._n
        if self._colors is None:
            self._colors = np.empty((0, colors.shape[1]), dtype=colors.dtype)
        view_id = next(self._ids)
        if m == 0:
            return
        if n + m > len(self._points):
            cap = max(2 * len(self._points), 1 << 16)
            if self.max_points is not None:
                cap = min(cap, self.max_points)
            cap = max(cap, n + m)
            self._points = _grown(self._points, n, cap)
            self._colors = _grown(self._colors, n, cap)
            self._keys = _grown(self._keys, n, cap)
        self._points[n:n + m] = points
        self._colors[n:n + m] = colors
        self._keys[n:n + m] = keys
        self._voxels.add(keys)
        self._views.append(_View(view_id, bool(reference), n, m))
        self._n = n + m
        self._device_cache = None

    def _evict(self, incoming: int) -> None:
        """Drop whole views, oldest keyframe first (then oldest reference view), until
        ``incoming`` more points fit within ``max_points``."""
        if self.max_points is None or self._n + incoming <= self.max_points:
            return
        excess = self._n + incoming - self.max_points
        order = ([v for v in self._views if not v.reference]
                 + [v for v in self._views if v.reference])
        dropped: set[int] = set()
        for v in order:
            if excess <= 0:
                break
            dropped.add(v.view_id)
            excess -= v.count
        for v in self._views:
            if v.view_id in dropped:
                self._voxels.remove(self._keys[v.start:v.start + v.count])
        # Compact in place: kept views slide towards the front, keeping their order.
        start, views = 0, []
        for v in self._views:
            if v.view_id in dropped:
                continue
            if v.start != start:
                if self._colors is None:  # a kept view after a dropped one: points, so colours, exist
                    raise RuntimeError("the point memory holds views but no colours")
                src, dst = slice(v.start, v.start + v.count), slice(start, start + v.count)
                self._points[dst] = self._points[src]
                self._colors[dst] = self._colors[src]
                self._keys[dst] = self._keys[src]
            views.append(_View(v.view_id, v.reference, start, v.count))
            start += v.count
        self._views = views
        self._n = start
        self._device_cache = None

    # ---------------------------------------------------------------- render
    def render(self, c2w: Any, K: Any, height: int | None = None,  # noqa: N803
               width: int | None = None, *, point_radius_px: int = 0,
               near: float = zbuffer.DEFAULT_NEAR, backend: zbuffer.Backend = "auto"
               ) -> AnchorRender:
        """Render the memory's anchor image, depth and coverage mask at a camera.

        Args:
            c2w: ``[4, 4]`` camera-to-world, OpenCV, metres.
            K: ``[3, 3]`` pinhole matrix in pixels, or an
                :class:`~worldbridge.geometry.Intrinsics` (then height and width default to
                its size).
            height, width: output size, pixels (required with a K matrix).
            point_radius_px, near, backend: as :func:`worldbridge.render.render_points`.

        Returns:
            :class:`~worldbridge.render.AnchorRender` (image ``[H, W, C]`` in the memory's
            colour dtype, zeros where uncovered; depth ``[H, W]`` float32 metres; mask
            ``[H, W]`` bool); numpy arrays, or torch tensors on ``device`` when set. An
            empty memory renders an empty (all-uncovered) image with C = 3 uint8.

        Raises:
            ValueError: c2w not a finite rigid transform (``PoseError``), a bad K, a
                missing or non-positive size, or any error of ``render_points``.
        """
        if isinstance(K, Intrinsics):
            height = K.height if height is None else height
            width = K.width if width is None else width
        if height is None or width is None:
            raise ValueError("height and width are required when K is a matrix, got "
                             f"height={height!r}, width={width!r}")
        pose = validate_rigid(zbuffer._host_f64(c2w, "c2w"), name="c2w")
        return self._render_w2c(invert_rigid(pose), K, height, width, point_radius_px, near, backend)

    def render_camera(self, camera: Camera, *, point_radius_px: int = 0,
                      near: float = zbuffer.DEFAULT_NEAR, backend: zbuffer.Backend = "auto"
                      ) -> AnchorRender:
        """:meth:`render` at a :class:`~worldbridge.geometry.views.Camera`, at its intrinsics'
        size, with the world-to-camera it already holds (no rigidity check, no inversion).

        Raises:
            ValueError: any error of ``render_points``.
        """
        k = camera.intrinsics
        return self._render_w2c(camera.w2c, k, k.height, k.width, point_radius_px, near, backend)

    def _render_w2c(self, w2c: np.ndarray, K: Any, height: int, width: int,  # noqa: N803
                    point_radius_px: int, near: float, backend: zbuffer.Backend) -> AnchorRender:
        points, colors = self._render_inputs()
        return zbuffer.render_points(points, colors, w2c, K, height, width, near=near,
                                     point_radius_px=point_radius_px, backend=backend)

    def _render_inputs(self) -> tuple[Any, Any]:
        colors = self._colors if self._colors is not None else np.empty((0, 3), np.uint8)
        points, colors = self._points[:self._n], colors[:self._n]
        if self.device is None:
            return points, colors
        if self._device_cache is None:
            import torch

            self._device_cache = (torch.from_numpy(points).to(self.device),
                                  torch.from_numpy(colors).to(self.device))
        return self._device_cache


def _grown(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    out = np.empty((cap,) + a.shape[1:], dtype=a.dtype)
    out[:n] = a[:n]
    return out


def warmup() -> None:
    """Compile (or load from numba's on-disk cache) the memory's and renderer's kernels.

    Up to a few seconds on a cold cache, about 0.2 s once cached; call it at start-up.
    """
    _voxel_set.warmup()
    _unproject(np.ones((2, 2), np.float32), (1.0, 1.0, 1.0, 1.0), np.eye(4))
    zbuffer.warmup()

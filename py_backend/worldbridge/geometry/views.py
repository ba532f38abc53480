"""Camera and view value types (OpenCV camera-to-world, metres, pixels).

A :class:`Camera` is validated once, when it is made: a finite rigid ``c2w`` and its
intrinsics; its world-to-camera inverse is computed once and kept. Code that receives a
Camera trusts it: nothing downstream checks rigidity or inverts the pose again. A pose enters
a process once (:meth:`Camera.from_engine` at the gateway's edge, ``Camera(...)`` where a
worker decodes its message) and travels as a Camera from there to the anchor renderer, the
frame model and the recorder.

A :class:`PosedView` is a camera with its RGB and optional depth: an engine reference view, a
captured frame, a recorded frame read back. A :class:`ReferenceView` is a view the frame model
may take as its reference: one of a session's engine reference views or a keyframe it
generated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from worldbridge.geometry.conventions import Convention, invert_rigid, to_opencv_c2w, validate_rigid
from worldbridge.geometry.intrinsics import Intrinsics

__all__ = ["Camera", "EngineView", "PosedView", "ReferenceView", "pose_distance"]


@dataclass(frozen=True, eq=False)
class Camera:
    """A posed pinhole camera.

    Attributes:
        c2w: ``[4, 4]`` float64 OpenCV camera-to-world (X right, Y down, Z forward),
            metres; read-only.
        intrinsics: pixels, for a ``width x height`` image.
        w2c: ``[4, 4]`` float64 world-to-camera, the exact rigid inverse; read-only.

    Raises:
        PoseError (a ValueError): ``c2w`` not a finite rigid ``[4, 4]`` transform.
        ValueError: ``intrinsics`` not an :class:`Intrinsics`.
    """

    c2w: np.ndarray
    intrinsics: Intrinsics
    w2c: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.intrinsics, Intrinsics):
            raise ValueError(f"intrinsics must be an Intrinsics, got {type(self.intrinsics).__name__}")
        c2w = validate_rigid(np.array(self.c2w, dtype=np.float64), name="c2w")
        w2c = invert_rigid(c2w)
        c2w.flags.writeable = False
        w2c.flags.writeable = False
        object.__setattr__(self, "c2w", c2w)
        object.__setattr__(self, "w2c", w2c)

    @classmethod
    def _checked(cls, c2w: np.ndarray, w2c: np.ndarray, intrinsics: Intrinsics) -> Camera:
        """A Camera from matrices already known to be a read-only rigid pair (no new checks)."""
        camera = object.__new__(cls)
        object.__setattr__(camera, "c2w", c2w)
        object.__setattr__(camera, "intrinsics", intrinsics)
        object.__setattr__(camera, "w2c", w2c)
        return camera

    @classmethod
    def from_engine(cls, engine_c2w: np.ndarray, convention: int | Convention,
                    intrinsics: Intrinsics) -> Camera:
        """The camera of an engine pose, checked once.

        Args:
            engine_c2w: ``[4, 4]`` (or 16 row-major values) camera-to-world in the engine's
                convention and units (see :mod:`worldbridge.geometry.conventions`).
            convention: that convention.
            intrinsics: pixels.

        Raises:
            PoseError (a ValueError): an unknown or UNSPECIFIED convention, or a matrix that is
                not a finite rigid transform.
            ValueError: ``intrinsics`` not an :class:`Intrinsics`.
        """
        if not isinstance(intrinsics, Intrinsics):
            raise ValueError(f"intrinsics must be an Intrinsics, got {type(intrinsics).__name__}")
        c2w = to_opencv_c2w(engine_c2w, convention)  # validates; the axis change keeps it rigid
        w2c = invert_rigid(c2w)
        c2w.flags.writeable = False
        w2c.flags.writeable = False
        return cls._checked(c2w, w2c, intrinsics)

    def with_intrinsics(self, intrinsics: Intrinsics) -> Camera:
        """The same pose with other intrinsics (e.g. rescaled to an output size).

        Raises:
            ValueError: ``intrinsics`` not an :class:`Intrinsics`.
        """
        if not isinstance(intrinsics, Intrinsics):
            raise ValueError(f"intrinsics must be an Intrinsics, got {type(intrinsics).__name__}")
        return self._checked(self.c2w, self.w2c, intrinsics)

    def scaled_to(self, width: int, height: int) -> Camera:
        """This camera with its intrinsics rescaled to ``width x height`` pixels (itself when
        the size already matches); see :meth:`Intrinsics.scaled`."""
        k = self.intrinsics
        if (k.width, k.height) == (width, height):
            return self
        return self.with_intrinsics(k.scaled(width, height))

    @property
    def position(self) -> np.ndarray:
        """``[3]`` camera centre in the world, metres."""
        return self.c2w[:3, 3]


@dataclass(frozen=True, eq=False)
class PosedView:
    """A posed RGB(-D) view: an engine reference view, a captured frame, a recorded frame.

    Attributes:
        camera: its camera (intrinsics of size ``W x H``).
        rgb: ``[H, W, 3]`` uint8 RGB, top row first, or None (a pose-only capture).
        depth: ``[H, W]`` float32 planar z along the camera's +Z, metres (0 or NaN = invalid,
            +inf = sky), or None.

    The arrays are kept as given (no copy): the view is a typed handle, not a snapshot.

    Raises:
        ValueError: rgb or depth not of the camera's size and dtype.
    """

    camera: Camera
    rgb: np.ndarray | None = None
    depth: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.camera, Camera):
            raise ValueError(f"camera must be a Camera, got {type(self.camera).__name__}")
        k = self.camera.intrinsics
        if self.rgb is not None:
            rgb = self.rgb
            if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.shape != (k.height, k.width, 3):
                got = f"{rgb.dtype} {list(rgb.shape)}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
                raise ValueError(f"view rgb must be uint8 [{k.height}, {k.width}, 3] (the camera's size), "
                                 f"got {got}")
        if self.depth is not None:
            d = self.depth
            if not isinstance(d, np.ndarray) or d.dtype != np.float32 or d.shape != (k.height, k.width):
                got = f"{d.dtype} {list(d.shape)}" if isinstance(d, np.ndarray) else type(d).__name__
                raise ValueError(f"view depth must be float32 [{k.height}, {k.width}] metres (the camera's "
                                 f"size), got {got}")

    @property
    def intrinsics(self) -> Intrinsics:
        """The camera's intrinsics."""
        return self.camera.intrinsics



@dataclass(frozen=True, eq=False)
class EngineView:
    """A view as an engine sent it: the view in the backend's terms and the engine's own pose.

    What a recording keeps of a captured frame: the OpenCV camera for the backend and the
    engine's matrix and convention, so the dataset can be read back in either.

    Attributes:
        view: the view (OpenCV camera, metres).
        engine_c2w: ``[4, 4]`` float64 camera-to-world in the engine's convention and units;
            read-only.
        convention: that convention (never UNSPECIFIED).
    """

    view: PosedView
    engine_c2w: np.ndarray
    convention: Convention

    @classmethod
    def from_engine(cls, engine_c2w: np.ndarray, convention: int | Convention, intrinsics: Intrinsics,
                    rgb: np.ndarray | None = None, depth: np.ndarray | None = None) -> EngineView:
        """Check an engine pose once (:meth:`Camera.from_engine`) and wrap the view.

        Raises:
            PoseError (a ValueError): as :meth:`Camera.from_engine`.
            ValueError: as :class:`PosedView`.
        """
        camera = Camera.from_engine(engine_c2w, convention, intrinsics)
        engine = np.array(engine_c2w, dtype=np.float64).reshape(4, 4)
        engine.flags.writeable = False
        return cls(PosedView(camera, rgb, depth), engine, Convention(int(convention)))


def pose_distance(a: Camera, b: Camera, scale: float = 1.0) -> float:
    """How far apart two camera poses are: translation in scene units plus rotation angle.

    ``|c_a - c_b| / scale + angle(R_a^T R_b)``, the angle in radians: turning by one radian
    counts as much as moving by one scene scale (the median depth of the scene, so a turn
    that swings the view across the scene weighs like a walk across it).

    Args:
        a, b: the cameras.
        scale: scene scale, metres (> 0).

    Returns:
        A non-negative distance (unitless).

    Raises:
        ValueError: a non-positive or non-finite scale.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be finite and > 0 metres, got {scale!r}")
    t = float(np.linalg.norm(a.position - b.position)) / scale
    r = a.c2w[:3, :3].T @ b.c2w[:3, :3]
    cos = max(-1.0, min(1.0, (float(np.trace(r)) - 1.0) / 2.0))
    return t + math.acos(cos)


@dataclass(frozen=True, eq=False)
class ReferenceView:
    """A view the frame model may use as its reference view.

    Attributes:
        view_id: the session's id of the view, unique and never reused within a session
            (caches of the reference's keys and values are keyed by it).
        rgb: ``[H, W, 3]`` uint8 colours, top row first; read-only.
        camera: its camera (intrinsics of size ``W x H``).
        scale: the scene scale it sees, metres (the median of its valid depth,
            :func:`~worldbridge.memory.anchors.depth_scale`): PRoPE's pose normalisation.
        keyframe: True for a generated keyframe, False for an engine reference view.

    Raises:
        ValueError: rgb not ``[H, W, 3]`` uint8 of the camera's size, or a bad scale.
    """

    view_id: int
    rgb: np.ndarray
    camera: Camera
    scale: float = 1.0
    keyframe: bool = False

    def __post_init__(self) -> None:
        k = self.camera.intrinsics
        rgb = self.rgb
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.shape != (k.height, k.width, 3):
            got = f"{rgb.dtype} {list(rgb.shape)}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
            raise ValueError(f"reference rgb must be uint8 [{k.height}, {k.width}, 3] (the camera's "
                             f"size), got {got}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"reference scale must be finite and > 0 metres, got {self.scale!r}")
        rgb = np.array(rgb, copy=True)
        rgb.flags.writeable = False
        object.__setattr__(self, "rgb", rgb)

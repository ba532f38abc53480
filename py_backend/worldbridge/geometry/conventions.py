"""Camera-pose conventions: the one place where engine poses become OpenCV poses.

Every pose inside the backend is an OpenCV camera-to-world (c2w) matrix in metres:
camera X right, Y down, Z forward (the viewing direction), column-vector convention
(``p_world = c2w @ p_cam``), a proper rigid transform (rotation with det +1).

Engines send their camera's own camera-to-world transform, in column-vector convention,
serialised row-major, tagged with one of these conventions:

========  ==================================================  ======  ==================
name      axes (camera local == world axes, same handedness)  units   camera looks along
========  ==================================================  ======  ==================
UNREAL    left-handed: X forward, Y right, Z up               cm      local +X
UNITY     left-handed: X right, Y up, Z forward               m       local +Z
OPENGL    right-handed: X right, Y up, Z back                 m       local -Z
OPENCV    right-handed: X right, Y down, Z forward            m       local +Z
========  ==================================================  ======  ==================

For the two left-handed engines the world itself is re-expressed in a right-handed frame
by the same axis map ``A`` that maps the engine camera's axes onto OpenCV's, so an engine
camera with identity rotation becomes the identity OpenCV rotation:

* UNREAL: OpenCV (x, y, z) = (Y_ue, -Z_ue, X_ue) / 100   (forward -> +z, right -> +x, up -> -y)
* UNITY:  OpenCV (x, y, z) = (X_u, -Y_u, Z_u)            (forward -> +z, right -> +x, up -> -y)

and ``c2w_cv = A c2w_engine A^-1`` (rotation part), ``t_cv = A t_engine * scale``.
OPENGL keeps its (right-handed) world and only flips the camera's local Y and Z axes:
``c2w_cv = c2w_gl @ diag(1, -1, -1, 1)``. Unreal's ``FMatrix`` is row-vector (translation in
the last row): engine clients send its transpose.
"""

from __future__ import annotations

import enum

import numpy as np

from worldbridge.errors import InvalidInput

__all__ = [
    "Convention",
    "PoseError",
    "validate_rigid",
    "to_opencv_c2w",
    "from_opencv_c2w",
    "opencv_to_opengl_c2w",
    "opengl_to_opencv_c2w",
    "invert_rigid",
    "RIGID_TOLERANCE",
]

RIGID_TOLERANCE = 1e-4
"""Largest accepted |R^T R - I| entry and |det R - 1| for a pose's rotation block."""


class Convention(enum.IntEnum):
    """Pose conventions; the values equal the wire enum ``worldbridge.v1.Convention``."""

    UNSPECIFIED = 0
    UNREAL = 1
    UNITY = 2
    OPENGL = 3
    OPENCV = 4


class PoseError(InvalidInput):
    """A pose that is not a finite rigid 4x4 transform, or an unknown convention."""


# Axis maps A (OpenCV <- engine), applied to both world and camera-local axes.
_AXES = {
    Convention.UNREAL: np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]),
    Convention.UNITY: np.diag([1.0, -1.0, 1.0]),
}
_METRES_PER_UNIT = {Convention.UNREAL: 0.01, Convention.UNITY: 1.0, Convention.OPENGL: 1.0,
                    Convention.OPENCV: 1.0}
_GL_FLIP = np.diag([1.0, -1.0, -1.0, 1.0])


def _as_convention(convention: int | Convention) -> Convention:
    try:
        conv = Convention(int(convention))
    except ValueError:
        raise PoseError(f"unknown pose convention {convention!r}; expected one of "
                        f"{[c.name for c in Convention if c]}") from None
    if conv is Convention.UNSPECIFIED:
        raise PoseError("pose convention is UNSPECIFIED; the engine must tag its pose "
                        "(UNREAL, UNITY, OPENGL or OPENCV)")
    return conv


def validate_rigid(matrix: np.ndarray, name: str = "pose", tol: float = RIGID_TOLERANCE) -> np.ndarray:
    """Check that ``matrix`` is a finite 4x4 rigid transform and return it as float64.

    Args:
        matrix: ``[4, 4]`` or 16 values (row-major), any float dtype.
        name: what the matrix is, for the error message.
        tol: tolerance on orthonormality, determinant and the bottom row.

    Returns:
        ``[4, 4]`` float64 copy.

    Raises:
        PoseError: wrong size, NaN/inf, bottom row not ``[0, 0, 0, 1]``, rotation block
            not orthonormal (scale or shear) or a reflection (det -1).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.size != 16:
        raise PoseError(f"{name} must have 16 values (4x4 row-major), got {m.size}")
    m = m.reshape(4, 4).copy()
    if not np.all(np.isfinite(m)):
        raise PoseError(f"{name} has non-finite values: {m.ravel().tolist()}")
    if np.max(np.abs(m[3] - [0.0, 0.0, 0.0, 1.0])) > tol:
        raise PoseError(f"{name} bottom row must be [0, 0, 0, 1], got {m[3].tolist()}")
    r = m[:3, :3]
    ortho_err = float(np.max(np.abs(r.T @ r - np.eye(3))))
    det = float(np.linalg.det(r))
    if ortho_err > tol or abs(det - 1.0) > tol:
        raise PoseError(f"{name} rotation is not rigid (|R^T R - I| = {ortho_err:.3g}, "
                        f"det R = {det:.6g}); scale, shear and reflections are not accepted")
    return m


def to_opencv_c2w(c2w: np.ndarray, convention: int | Convention) -> np.ndarray:
    """Convert an engine camera-to-world transform to OpenCV c2w in metres.

    Args:
        c2w: ``[4, 4]`` (or 16 row-major values) engine camera-to-world, column-vector
            convention, engine units (see the module table).
        convention: a :class:`Convention` (or its wire integer).

    Returns:
        ``[4, 4]`` float64 OpenCV camera-to-world, metres.

    Raises:
        PoseError: unknown/unspecified convention or a non-rigid, non-finite matrix.
    """
    conv = _as_convention(convention)
    m = validate_rigid(c2w)
    if conv is Convention.OPENCV:
        return m
    if conv is Convention.OPENGL:
        return m @ _GL_FLIP
    a = _AXES[conv]
    out = np.eye(4)
    out[:3, :3] = a @ m[:3, :3] @ a.T
    out[:3, 3] = a @ m[:3, 3] * _METRES_PER_UNIT[conv]
    return out


def from_opencv_c2w(c2w_cv: np.ndarray, convention: int | Convention) -> np.ndarray:
    """Inverse of :func:`to_opencv_c2w`: OpenCV c2w (metres) to the engine's convention.

    Args:
        c2w_cv: ``[4, 4]`` OpenCV camera-to-world, metres.
        convention: target :class:`Convention`.

    Returns:
        ``[4, 4]`` float64 engine camera-to-world in engine units.

    Raises:
        PoseError: as :func:`to_opencv_c2w`.
    """
    conv = _as_convention(convention)
    m = validate_rigid(c2w_cv)
    if conv is Convention.OPENCV:
        return m
    if conv is Convention.OPENGL:
        return m @ _GL_FLIP
    a = _AXES[conv]
    out = np.eye(4)
    out[:3, :3] = a.T @ m[:3, :3] @ a
    out[:3, 3] = a.T @ m[:3, 3] / _METRES_PER_UNIT[conv]
    return out


def opencv_to_opengl_c2w(c2w_cv: np.ndarray) -> np.ndarray:
    """OpenCV c2w to OpenGL/nerfstudio c2w (same world; camera Y and Z flipped). ``[4, 4]``."""
    return np.asarray(c2w_cv, dtype=np.float64) @ _GL_FLIP


def opengl_to_opencv_c2w(c2w_gl: np.ndarray) -> np.ndarray:
    """OpenGL/nerfstudio c2w to OpenCV c2w (the flip is its own inverse). ``[4, 4]``."""
    return np.asarray(c2w_gl, dtype=np.float64) @ _GL_FLIP


def invert_rigid(c2w: np.ndarray) -> np.ndarray:
    """Invert a rigid ``[4, 4]`` transform (c2w -> w2c or back) without a general inverse."""
    m = np.asarray(c2w, dtype=np.float64)
    out = np.eye(4)
    r_t = m[:3, :3].T
    out[:3, :3] = r_t
    out[:3, 3] = -r_t @ m[:3, 3]
    return out

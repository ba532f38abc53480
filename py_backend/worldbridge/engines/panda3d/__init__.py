"""A real engine client: Panda3D rendering its garden offscreen on Mesa's software EGL.

Panda3D plays the part of a game engine. It renders its bundled ``models/environment``
garden (plus a panda and a teapot placed in it for parallax, or any :class:`SceneLayout`:
the garden scaled and turned, other props) offscreen through EGL, reads back colour and an
exact float depth buffer, and streams the camera poses, with the engine's depth, to a
WorldBridge server. Needs the ``engine`` extra (``pip install 'worldbridge[engine]'``, Panda3D
1.10.16) and Mesa's EGL (``apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri``); importing
this package without Panda3D raises an :class:`ImportError` that says so.

Modules:

* :mod:`~worldbridge.engines.panda3d.scene`: the garden, its clearing, props and
  :class:`SceneLayout` (pure Python).
* :mod:`~worldbridge.engines.panda3d.engine`: :class:`PandaEngine`, the offscreen renderer.
* :mod:`~worldbridge.engines.panda3d.paths`: :func:`look_at_gl` and the demo's camera paths.
* :mod:`~worldbridge.engines.panda3d.client`: the streaming client of ``worldbridge demo``
  (``python -m worldbridge.engines.panda3d``).
* :mod:`~worldbridge.engines.panda3d.record`: ``worldbridge record``, synthetic training
  trajectories (``python -m worldbridge.engines.panda3d.record``).

Conventions (read this before changing anything):

* World: Panda's own world, right-handed, Z up. **1 Panda unit = 1 metre.** The garden model is
  authored at roughly decimetre scale, so it is scaled by :data:`ENVIRONMENT_SCALE` (0.1) and
  shifted so that the middle of the clearing inside the bamboo ring is the world origin and
  the (flat) ground there is exactly the plane z = 0; bamboo is about 8 m tall, the panda
  about 1.2 m. The scene carries no other scale: every pose and depth here is in metres.
* Scene layouts (:class:`SceneLayout`): the garden may be scaled (relative to
  :data:`ENVIRONMENT_SCALE`) and turned about +Z around that origin, the ground staying the
  plane z = 0, and props from the wheel's models (:data:`PROP_MODELS`:
  panda, teapot, box, smiley, frowney, jack, camera, the walking panda) stand at given
  places in metres; :func:`random_layout` draws one from a numpy ``Generator``. The default
  (:data:`DEFAULT_LAYOUT`: scale 1, heading 0, the panda and the teapot) renders exactly
  as the engine always did.
* Poses in and out of this package are OpenGL camera-to-world matrices (column-vector
  convention, ``p_world = c2w @ p_cam``): camera X right, Y up, looking down -Z. The world is
  Panda's Z-up world above; only the camera's local axes follow OpenGL. WorldBridge's
  ``Convention.OPENGL`` means exactly this (the backend only flips the camera's Y and Z).
* Panda's camera looks down its local +Y with +Z up, and Panda matrices are row-vector
  (``p_row @ M``, translation in the last row), i.e. the transpose of ours. The camera node's
  matrix is ``convert_mat(CS_zup_right, CS_yup_right) * Mat4(c2w_gl.T)``: the first factor maps
  Panda camera coordinates to OpenGL camera coordinates (x, y, z) -> (x, z, -y).
* Images are returned top row first (Panda's textures are stored bottom row first).
* Depth is planar z (distance along the optical axis) in metres, float32, 0 where nothing was
  drawn (sky / beyond the far plane). From the depth-buffer value ``d`` in [0, 1]:
  ``z = near * far / (far - d * (far - near))`` (Panda's lens maps z=near to NDC -1 and z=far
  to +1, the GL depth range is [0, 1]; checked against ``PerspectiveLens.project``).
* Threads: all Panda calls run on one process-wide render thread (see :class:`PandaEngine`).
* Intrinsics follow OpenCV (:class:`worldbridge.geometry.Intrinsics`): ``cx = W / 2``,
  ``cy = H / 2``, pixel centres at +0.5, which is where GL rasterisation samples.
* The bamboo leaves are alpha-textured cards. They are drawn with alpha *testing*
  (``TransparencyAttrib.M_binary``), not blending, so a pixel's colour and its depth always
  come from the same surface (blended cards would write depth where they show the sky).
"""

from __future__ import annotations

ENGINE_EXTRA_HINT = "pip install 'worldbridge[engine]'"
"""How to install what this package needs (Panda3D 1.10.16)."""

try:
    import panda3d  # noqa: F401  (only the package: panda3d.core loads with the first engine)
except ImportError as _e:
    raise ImportError(
        f"worldbridge.engines.panda3d needs Panda3D, an optional dependency of WorldBridge: "
        f"{ENGINE_EXTRA_HINT} (offscreen rendering also needs Mesa's EGL: apt-get install "
        f"libegl1 libegl-mesa0 libgl1-mesa-dri); the import said: {_e}",
        name="panda3d") from None

from worldbridge.engines.panda3d.client import main  # noqa: E402
from worldbridge.engines.panda3d.engine import (  # noqa: E402
    SKY_RGB,
    EngineUnavailable,
    PandaEngine,
    _core,  # noqa: F401  (panda3d.core with the offscreen configuration, for tools and tests)
    wire_depth,
)
from worldbridge.engines.panda3d.paths import PATH_KINDS, camera_path, look_at_gl  # noqa: E402
from worldbridge.engines.panda3d.scene import (  # noqa: E402
    DEFAULT_LAYOUT,
    DEFAULT_PROPS,
    ENVIRONMENT_SCALE,
    PROP_MODELS,
    TRAIN_PROP_MODELS,
    Clearing,
    Prop,
    PropModel,
    SceneLayout,
    random_layout,
)

__all__ = ["PandaEngine", "EngineUnavailable", "camera_path", "look_at_gl", "main",
           "wire_depth", "PATH_KINDS", "ENVIRONMENT_SCALE", "SKY_RGB", "PropModel",
           "PROP_MODELS", "TRAIN_PROP_MODELS", "Prop", "DEFAULT_PROPS", "Clearing",
           "SceneLayout", "DEFAULT_LAYOUT", "random_layout", "ENGINE_EXTRA_HINT"]

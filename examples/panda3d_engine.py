"""A real engine client: Panda3D rendering offscreen on Mesa's software EGL.

This example plays the part of a game engine. Panda3D renders its bundled ``models/environment``
garden (plus a panda and a teapot placed in it for parallax, or any :class:`SceneLayout`:
the garden scaled and turned, other props) offscreen through EGL, reads back
colour and an exact float depth buffer, and streams the camera poses, with the engine's depth,
to a WorldBridge server. The frames that come back are shown beside the engine's own view::

    python examples/panda3d_engine.py --server 127.0.0.1:50051 --frames 48 \\
        --out out/preview.png --video out/preview.mp4
    python examples/panda3d_engine.py --server 127.0.0.1:50051 --record garden_walk

Setup (Debian/Ubuntu, no display, no GPU needed)::

    apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri    # Mesa EGL + llvmpipe
    pip install panda3d==1.10.16                                # or: pip install -e .[engine]

Panda3D loads its ``p3headlessgl`` display module, which opens an EGL display without X11
(Mesa answers with the llvmpipe software rasteriser). Panda's own EGL pbuffer cannot carry a
float depth buffer, so a 1x1 pbuffer only hosts the GL context and the images are drawn into a
framebuffer object (FBO) with an RGBA8 colour and a 32-bit float depth attachment, both copied
to RAM after every frame. ``p3tinydisplay`` is deliberately not used: it has no usable depth.

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
* Poses in and out of this module are OpenGL camera-to-world matrices (column-vector
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

import argparse
import colorsys
import math
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO / "py_backend") not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(_REPO / "py_backend"))

from worldbridge.client import BridgeClient, CapturedView, PoseRequest, ReferenceView  # noqa: E402
from worldbridge.geometry import Convention, Intrinsics  # noqa: E402

__all__ = ["PandaEngine", "EngineUnavailable", "camera_path", "look_at_gl", "main",
           "ENVIRONMENT_SCALE", "SKY_RGB", "PropModel", "PROP_MODELS", "TRAIN_PROP_MODELS",
           "Prop", "DEFAULT_PROPS", "Clearing", "SceneLayout", "DEFAULT_LAYOUT", "random_layout"]

ENVIRONMENT_SCALE = 0.1
"""Metres per unit of ``models/environment`` (the garden is authored ~10 units to the metre)."""

_GARDEN_CENTRE = (5.0, -165.0)
"""Middle of the clearing inside the bamboo ring, in the model's own units (x, y)."""

SKY_RGB = (135, 190, 235)
"""Background (clear) colour, 8-bit RGB: every pixel with depth 0 has exactly this colour."""

# -- scene layouts -----------------------------------------------------------------------------

_CLEARING_CENTRE_UNITS = (29.256, -167.949)
"""Centre of the clearing's boundary, model units (x, y) of ``models/environment``.

The boundary is the garden's ``Cylinder01`` node: a 12-sided elliptic cylinder that draws
nothing (hiding it changes no pixel) around the clearing. Centre and semi-axes are
its tight bounds (``NodePath.get_tight_bounds``); its 12 vertices lie on the ellipse. No
rock, tree or bamboo of the garden stands inside it: a top-down render shows only flat
ground there (``tests/test_scene_layouts.py``); the nearest rock's foot is 0.3 m outside it
at the default scale."""

_CLEARING_SEMI_AXES_UNITS = (75.543, 62.744)
"""Semi-axes of the clearing's boundary along the model's x and y axes, model units."""


def _rotate(heading_deg: float, x: float, y: float) -> tuple[float, float]:
    """``(x, y)`` turned by ``heading_deg`` about +Z (counter-clockwise seen from above), like
    Panda's ``set_h``."""
    h = math.radians(heading_deg)
    c, s = math.cos(h), math.sin(h)
    return c * x - s * y, s * x + c * y


def _finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


@dataclass(frozen=True)
class Clearing:
    """An ellipse on the ground plane z = 0 of Panda's world: the garden's clearing.

    Attributes:
        centre: ``(x, y)``, metres.
        semi_axes: ``(a, b)`` metres, along the ellipse's own x and y axes; both > 0.
        angle_deg: the ellipse's x axis measured from world +X, counter-clockwise seen from
            above (+Z), degrees.
    """

    centre: tuple[float, float]
    semi_axes: tuple[float, float]
    angle_deg: float = 0.0

    def __post_init__(self) -> None:
        a, b = (_finite("Clearing semi-axis", v) for v in self.semi_axes)
        if a <= 0 or b <= 0:
            raise ValueError(f"Clearing semi-axes must be > 0, got {self.semi_axes}")

    def level(self, x: float, y: float) -> float:
        """``(u / a)^2 + (v / b)^2`` of the point in the ellipse's frame: < 1 inside."""
        u, v = _rotate(-self.angle_deg, x - self.centre[0], y - self.centre[1])
        return (u / self.semi_axes[0]) ** 2 + (v / self.semi_axes[1]) ** 2

    def contains(self, x: float, y: float) -> bool:
        """Whether ``(x, y)`` (metres) lies strictly inside the ellipse."""
        return self.level(x, y) < 1.0

    def contains_disc(self, x: float, y: float, radius: float) -> bool:
        """Whether the disc of ``radius`` metres about ``(x, y)`` lies inside the ellipse.

        Checks the centre and 32 points on the circle, so the disc may reach past the
        ellipse by at most ``radius * (1 - cos(pi / 32))`` (0.5 % of the radius)."""
        if not self.contains(x, y):
            return False
        angles = np.linspace(0.0, 2.0 * math.pi, 32, endpoint=False)
        return all(self.contains(x + radius * math.cos(t), y + radius * math.sin(t))
                   for t in angles)

    def shrunk(self, margin_m: float) -> Clearing:
        """The same ellipse with both semi-axes ``margin_m`` metres shorter.

        Raises:
            ValueError: a semi-axis would not stay > 0.
        """
        a, b = self.semi_axes[0] - margin_m, self.semi_axes[1] - margin_m
        if a <= 0 or b <= 0:
            raise ValueError(f"a margin of {margin_m} m leaves nothing of the clearing with "
                             f"semi-axes {self.semi_axes} m")
        return Clearing(self.centre, (a, b), self.angle_deg)

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Axis-aligned bounding box ``((xmin, ymin), (xmax, ymax))`` in metres."""
        h = math.radians(self.angle_deg)
        a, b = self.semi_axes
        hx = math.sqrt((a * math.cos(h)) ** 2 + (b * math.sin(h)) ** 2)
        hy = math.sqrt((a * math.sin(h)) ** 2 + (b * math.cos(h)) ** 2)
        cx, cy = self.centre
        return (cx - hx, cy - hy), (cx + hx, cy + hy)

    def sample(self, rng: np.random.Generator) -> tuple[float, float]:
        """A point drawn uniformly from the ellipse's area (two draws from ``rng``)."""
        r = math.sqrt(rng.random())
        t = rng.uniform(0.0, 2.0 * math.pi)
        u, v = _rotate(self.angle_deg, self.semi_axes[0] * r * math.cos(t),
                       self.semi_axes[1] * r * math.sin(t))
        return self.centre[0] + u, self.centre[1] + v


@dataclass(frozen=True)
class PropModel:
    """A model from Panda3D's wheel (``panda3d/models``) that can stand in the garden.

    Attributes:
        path: model path on Panda's model-path, e.g. ``"models/teapot"``.
        metres_per_unit: the model's scale at :attr:`Prop.scale` 1 (its nominal size).
        offset: ``(x, y, z)`` model units added to the model's own coordinates so that the
            point a :class:`Prop` places is the middle of the model's footprint at its
            bottom (zero for the panda and the teapot, whose origin already is).
        footprint_radius: radius of the vertical cylinder about that point that holds the
            model at any heading, model units (from its tight bounds).
        height: the model's height above its bottom, model units.
        color: RGB in [0, 1] the model is drawn with when the prop gives none (``None``: as
            authored).
        textured: whether the model carries a texture (a ``color`` then tints it).
    """

    path: str
    metres_per_unit: float
    offset: tuple[float, float, float]
    footprint_radius: float
    height: float
    color: tuple[float, float, float] | None = None
    textured: bool = True


PROP_MODELS: dict[str, PropModel] = {
    # 16 x 6.2 x 12.2 units, origin under its middle: 1.6 m long, 1.2 m tall
    "panda": PropModel("models/panda", 0.1, (0.0, 0.0, 0.0), 8.63, 12.21),
    # 6.4 x 4 x 3.15 units (spout and handle along x): 1.6 m long, 0.79 m tall
    "teapot": PropModel("models/teapot", 0.25, (0.0, 0.0, 0.0), 3.98, 3.15,
                        color=(0.75, 0.35, 0.2), textured=False),
    # unit cube with a corner at the origin, "noise" texture: 0.8 m
    "box": PropModel("models/box", 0.8, (-0.5, -0.5, 0.0), 0.71, 1.0),
    # unit spheres about the origin: 0.8 m across
    "smiley": PropModel("models/smiley", 0.4, (0.0, 0.0, 1.0), 1.0, 2.0),
    "frowney": PropModel("models/frowney", 0.4, (0.0, 0.0, 1.0), 1.0, 2.0),
    "jack": PropModel("models/jack", 0.4, (0.0, 0.0, 1.0), 1.0, 2.0, textured=False),  # orange
    # a dark grey film camera, 1 x 2.7 x 1.8 units: 1.1 m long, 0.72 m tall
    "camera": PropModel("models/camera", 0.4, (0.0, 0.45, 1.0), 1.44, 1.8, textured=False),
    # the walking panda (Actor model) in its bind pose, 546 x 1087 x 550 units: 1.6 m long,
    # 0.83 m tall
    "panda-model": PropModel("models/panda-model", 0.0015, (11.394, 116.215, 0.688), 608.1,
                             550.21),
}
"""Props that render sensibly (textured or coloured, closed surfaces, opaque). Left out of
the wheel's models: ``ripple`` (a paper-thin disc), ``environment`` (the garden itself), the
fonts and GUI models."""

TRAIN_PROP_MODELS = ("panda", "teapot", "smiley", "frowney", "box", "jack")
"""The models :func:`random_layout` places by default. ``camera`` and ``panda-model`` are
kept out of them for held-out scenes."""


@dataclass(frozen=True)
class Prop:
    """One model placed in the garden.

    Attributes:
        model: a key of :data:`PROP_MODELS`.
        x, y: where the middle of its footprint stands, metres, Panda world (Z up).
        heading_deg: rotation about +Z (Panda's ``set_h``), degrees.
        scale: size relative to the model's nominal size (:attr:`PropModel.metres_per_unit`),
            > 0.
        z: height of its bottom above the ground, metres, >= 0 (0 stands on the ground; a
            prop may stand on another).
        color: RGB in [0, 1], or ``None`` for the model's default colour.

    Raises:
        ValueError: an unknown model, a non-finite number, ``scale <= 0``, ``z < 0`` or a
            colour outside [0, 1].
    """

    model: str
    x: float
    y: float
    heading_deg: float = 0.0
    scale: float = 1.0
    z: float = 0.0
    color: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.model not in PROP_MODELS:
            raise ValueError(f"unknown prop model {self.model!r}; expected one of "
                             f"{sorted(PROP_MODELS)}")
        for name in ("x", "y", "heading_deg", "scale", "z"):
            object.__setattr__(self, name, _finite(f"Prop.{name}", getattr(self, name)))
        if self.scale <= 0:
            raise ValueError(f"Prop.scale must be > 0, got {self.scale}")
        if self.z < 0:
            raise ValueError(f"Prop.z must be >= 0 (on or above the ground), got {self.z}")
        if self.color is not None:
            rgb = tuple(_finite("Prop.color", c) for c in self.color)
            if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
                raise ValueError(f"Prop.color must be 3 values in [0, 1], got {self.color}")
            object.__setattr__(self, "color", rgb)

    @property
    def metres_per_unit(self) -> float:
        """The model's scale in the scene: metres per model unit."""
        return PROP_MODELS[self.model].metres_per_unit * self.scale

    @property
    def footprint_radius_m(self) -> float:
        """Radius of the vertical cylinder about ``(x, y)`` that holds the prop, metres."""
        return PROP_MODELS[self.model].footprint_radius * self.metres_per_unit

    @property
    def height_m(self) -> float:
        """The prop's own height, metres (its top is at ``z + height_m``)."""
        return PROP_MODELS[self.model].height * self.metres_per_unit


DEFAULT_PROPS = (Prop("panda", 0.0, 0.5, heading_deg=200.0),
                 Prop("teapot", -1.6, -1.4, heading_deg=-30.0))
"""The demo's props: the panda (1.2 m tall) in the middle, the terracotta teapot to its
south-west."""


@dataclass(frozen=True)
class SceneLayout:
    """What :class:`PandaEngine` draws: the garden at a scale and heading, and its props.

    The garden is turned and scaled about the world origin (the demo's middle of the
    clearing, see the module docstring), with the flat ground there at z = 0; the
    clearing's ellipse (:meth:`clearing`) turns and scales with it. The default is the
    demo scene.

    Attributes:
        environment_scale: garden size relative to the default (1.0: :data:`ENVIRONMENT_SCALE`
            metres per model unit, bamboo ~8 m tall, clearing ~15 x 12.5 m), > 0.
        environment_heading_deg: the garden's rotation about +Z, degrees.
        props: the :class:`Prop` s, in world metres (they do not move with the garden).

    Raises:
        ValueError: a non-finite or non-positive scale, a non-finite heading.
        TypeError: a prop that is not a :class:`Prop`.
    """

    environment_scale: float = 1.0
    environment_heading_deg: float = 0.0
    props: tuple[Prop, ...] = DEFAULT_PROPS

    def __post_init__(self) -> None:
        scale = _finite("SceneLayout.environment_scale", self.environment_scale)
        if scale <= 0:
            raise ValueError(f"SceneLayout.environment_scale must be > 0, got {scale}")
        object.__setattr__(self, "environment_scale", scale)
        object.__setattr__(self, "environment_heading_deg",
                           _finite("SceneLayout.environment_heading_deg",
                                   self.environment_heading_deg))
        props = tuple(self.props)
        for p in props:
            if not isinstance(p, Prop):
                raise TypeError(f"SceneLayout.props must hold Prop values, got {p!r}")
        object.__setattr__(self, "props", props)

    def environment_to_world(self, x: float, y: float) -> tuple[float, float]:
        """A point of ``models/environment`` (model units) in the world (metres)."""
        s = ENVIRONMENT_SCALE * self.environment_scale
        gx, gy = _GARDEN_CENTRE
        return _rotate(self.environment_heading_deg, (x - gx) * s, (y - gy) * s)

    def clearing(self) -> Clearing:
        """The clearing: the ellipse on the ground inside which the garden is flat and
        empty, world metres.

        Nothing but the ground and the props stands inside it (the rocks, trees and
        bamboo are outside). For the default layout: centre (2.43, -0.29) m, semi-axes
        7.55 x 6.27 m along world x and y; it scales and turns with the garden."""
        s = ENVIRONMENT_SCALE * self.environment_scale
        a, b = _CLEARING_SEMI_AXES_UNITS
        return Clearing(self.environment_to_world(*_CLEARING_CENTRE_UNITS), (a * s, b * s),
                        self.environment_heading_deg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form; :meth:`from_dict` reads it back to an equal layout."""
        return {"environment_scale": self.environment_scale,
                "environment_heading_deg": self.environment_heading_deg,
                "props": [{"model": p.model, "x": p.x, "y": p.y, "heading_deg": p.heading_deg,
                           "scale": p.scale, "z": p.z,
                           "color": list(p.color) if p.color is not None else None}
                          for p in self.props]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneLayout:
        """The layout of a :meth:`to_dict` dictionary.

        Raises:
            ValueError: unknown or missing keys, or bad values (the message names them).
            TypeError: ``data`` or one of its props is not a dict.
        """
        if not isinstance(data, dict):
            raise TypeError(f"a scene layout must be a dict, got {type(data).__name__}")
        unknown = set(data) - {"environment_scale", "environment_heading_deg", "props"}
        if unknown:
            raise ValueError(f"unknown scene layout keys {sorted(unknown)}")
        props = []
        for p in data.get("props", []):
            if not isinstance(p, dict):
                raise TypeError(f"a prop must be a dict, got {p!r}")
            bad = set(p) - {"model", "x", "y", "heading_deg", "scale", "z", "color"}
            if bad or "model" not in p or "x" not in p or "y" not in p:
                raise ValueError(f"a prop needs model, x, y (and optionally heading_deg, "
                                 f"scale, z, color); got keys {sorted(p)}")
            color = p.get("color")
            props.append(Prop(p["model"], p["x"], p["y"], p.get("heading_deg", 0.0),
                              p.get("scale", 1.0), p.get("z", 0.0),
                              tuple(color) if color is not None else None))
        return cls(data.get("environment_scale", 1.0), data.get("environment_heading_deg", 0.0),
                   tuple(props))


DEFAULT_LAYOUT = SceneLayout()
"""The demo scene: the garden at 0.1 m per unit, heading 0, with :data:`DEFAULT_PROPS`."""


def random_layout(rng: np.random.Generator, *, scale_range: tuple[float, float] = (0.75, 1.25),
                  headings_deg: Sequence[float] | None = None,
                  models: Sequence[str] = TRAIN_PROP_MODELS,
                  num_props: tuple[int, int] = (2, 5),
                  prop_scale_range: tuple[float, float] = (0.7, 1.4),
                  fixed_props: Sequence[Prop] | None = None, wall_margin_m: float = 1.0,
                  gap_m: float = 0.4, recolour: float = 0.5,
                  max_tries: int = 500) -> SceneLayout:
    """Draw a garden layout: a scale, a heading and props standing apart in the clearing.

    Draws, in this order: the garden's scale (uniform in ``scale_range``), its heading
    (uniform in [0, 360) degrees, or one of ``headings_deg``), the number of props (uniform
    integer in ``num_props``, both ends included), then per prop: its model (uniform over
    ``models``), scale (uniform in ``prop_scale_range``; the defaults give a 0.85-1.7 m tall
    panda, 0.55-1.1 m boxes, spheres and teapots, like the demo's 1.2 m panda and 0.8 m
    teapot), heading, a colour for untextured models (with probability ``recolour``;
    otherwise the model's own), and a position: uniform in the clearing until the prop's
    footprint disc lies inside the clearing's ellipse with semi-axes ``wall_margin_m``
    shorter, and ``gap_m`` away from every footprint placed before it. The same generator
    state gives the same layout.

    Args:
        rng: the only source of randomness.
        scale_range: ``(lo, hi)`` of :attr:`SceneLayout.environment_scale`, 0 < lo <= hi.
        headings_deg: headings to choose from, degrees; ``None``: any heading.
        models: :data:`PROP_MODELS` keys to choose from.
        num_props: ``(lo, hi)`` number of props, 0 <= lo <= hi.
        prop_scale_range: ``(lo, hi)`` of :attr:`Prop.scale`, 0 < lo <= hi.
        fixed_props: use these props instead of drawing any: scale and heading are then
            drawn again (up to ``max_tries`` times) until every one of them stands
            ``wall_margin_m`` inside the clearing, and nothing else is drawn.
        wall_margin_m: how much shorter the semi-axes of the ellipse props stand in are than
            the clearing's (:meth:`SceneLayout.clearing`), metres, >= 0.
        gap_m: least distance between two props' footprints, metres, >= 0.
        recolour: probability that an untextured prop gets a random colour, in [0, 1].
        max_tries: positions tried per prop (or garden draws with ``fixed_props``).

    Returns:
        The :class:`SceneLayout`.

    Raises:
        ValueError: a bad range, model, probability or count, or a ``wall_margin_m``
            that leaves no clearing.
        RuntimeError: a prop found no free place in ``max_tries`` draws (too many or too
            large props for the clearing), or no draw fitted ``fixed_props``.
    """
    lo, hi = (_finite("scale_range", v) for v in scale_range)
    if not 0 < lo <= hi:
        raise ValueError(f"scale_range must satisfy 0 < lo <= hi, got {tuple(scale_range)}")
    plo, phi = (_finite("prop_scale_range", v) for v in prop_scale_range)
    if not 0 < plo <= phi:
        raise ValueError(f"prop_scale_range must satisfy 0 < lo <= hi, got "
                         f"{tuple(prop_scale_range)}")
    nlo, nhi = (int(v) for v in num_props)
    if not 0 <= nlo <= nhi:
        raise ValueError(f"num_props must satisfy 0 <= lo <= hi, got {tuple(num_props)}")
    models = tuple(models)
    unknown = [m for m in models if m not in PROP_MODELS]
    if unknown or (not models and nhi > 0 and fixed_props is None):
        raise ValueError(f"models must be keys of PROP_MODELS {sorted(PROP_MODELS)}, got "
                         f"{list(models)}")
    if not 0.0 <= recolour <= 1.0:
        raise ValueError(f"recolour is a probability in [0, 1], got {recolour}")
    if headings_deg is not None:
        headings = [_finite("headings_deg", h) for h in headings_deg]
        if not headings:
            raise ValueError("headings_deg is empty; pass None for any heading")
    if int(max_tries) < 1:
        raise ValueError(f"max_tries must be >= 1, got {max_tries}")
    if not (wall_margin_m >= 0 and gap_m >= 0):
        raise ValueError(f"wall_margin_m and gap_m must be >= 0, got {wall_margin_m} and "
                         f"{gap_m}")

    for _ in range(int(max_tries) if fixed_props is not None else 1):
        scale = float(rng.uniform(lo, hi))
        heading = float(rng.uniform(0.0, 360.0)) if headings_deg is None else \
            float(headings[int(rng.integers(len(headings)))])
        room = SceneLayout(scale, heading, ()).clearing().shrunk(wall_margin_m)
        if fixed_props is None:
            break
        if all(room.contains_disc(p.x, p.y, p.footprint_radius_m) for p in fixed_props):
            return SceneLayout(scale, heading, tuple(fixed_props))
    else:
        raise RuntimeError(f"random_layout: in {max_tries} draws no garden scale in "
                           f"{tuple(scale_range)} and heading left the fixed props "
                           f"{wall_margin_m} m inside the clearing")
    props: list[Prop] = []
    for i in range(int(rng.integers(nlo, nhi + 1))):
        model = models[int(rng.integers(len(models)))]
        spec = PROP_MODELS[model]
        pscale = float(rng.uniform(plo, phi))
        pheading = float(rng.uniform(0.0, 360.0))
        color = None
        if not spec.textured and rng.random() < recolour:
            color = tuple(round(c, 4) for c in colorsys.hsv_to_rgb(
                rng.random(), rng.uniform(0.35, 0.85), rng.uniform(0.55, 0.95)))
        radius = spec.footprint_radius * spec.metres_per_unit * pscale
        for _ in range(int(max_tries)):
            x, y = room.sample(rng)
            if room.contains_disc(x, y, radius) and all(
                    math.hypot(x - q.x, y - q.y) > radius + q.footprint_radius_m + gap_m
                    for q in props):
                props.append(Prop(model, x, y, pheading, pscale, 0.0, color))
                break
        else:
            raise RuntimeError(f"random_layout: no free place for prop {i} ({model}, "
                               f"{2 * radius:.2f} m across) in {max_tries} draws; the clearing "
                               f"(scale {scale:.2f}) holds {len(props)} props already")
    return SceneLayout(scale, heading, tuple(props))

_PRC = """
load-display p3headlessgl
aux-display p3headlessgl
window-type offscreen
audio-library-name null
notify-level warning
notify-level-egldisplay error
notify-level-display error
default-directnotify-level warning
sync-video false
framebuffer-multisample false
multisamples 0
textures-power-2 none
model-cache-dir
keep-texture-ram true
"""
# `keep-texture-ram true`: by default Panda drops a texture's RAM copy once it is uploaded; a
# later engine instance (a new GL context) then reloads it and draws its first frame with the
# alpha-tested bamboo cards incomplete. Keeping the RAM copy makes every instance identical.
# `model-cache-dir` (empty): never write Panda's model cache under the user's home.
# `notify-level-egldisplay error` hides the one expected warning: Panda first asks EGL for the
# default (X11) display, which does not exist here, then falls back to a device display.


class EngineUnavailable(RuntimeError):
    """Panda3D is missing or an offscreen EGL buffer cannot be created on this machine."""


_panda_core = None


def _core():
    """Import ``panda3d.core`` once, after loading the offscreen configuration."""
    global _panda_core
    if _panda_core is None:
        try:
            from panda3d import core
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise EngineUnavailable(f"panda3d is not installed ({e}); "
                                    "pip install panda3d==1.10.16") from e
        core.load_prc_file_data("worldbridge-panda3d-engine", _PRC)
        _panda_core = core
    return _panda_core


_egl_pipe = None
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_render_thread_id: int | None = None


def _mark_render_thread() -> None:
    global _render_thread_id
    _render_thread_id = threading.get_ident()


def _render_thread() -> ThreadPoolExecutor:
    """The process's one Panda3D render thread (see :class:`PandaEngine`, "Threads")."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="panda3d-render",
                                           initializer=_mark_render_thread)
        return _executor


def _pipe():
    """The process's one ``p3headlessgl`` pipe (one EGL display); call on the render thread.

    Every pipe owns an EGL display connection and terminates it when it is destroyed; EGL
    hands out the *same* display to every caller, so a second pipe dying would tear down the
    contexts of the first. All engines therefore share this pipe; each still has its own
    ``GraphicsEngine``, context and buffers.
    """
    global _egl_pipe
    if _egl_pipe is None:
        p3d = _core()
        pipe = p3d.GraphicsPipeSelection.get_global_ptr().make_module_pipe("p3headlessgl")
        if pipe is None or not pipe.is_valid():
            raise EngineUnavailable("Panda3D could not open the p3headlessgl (EGL) pipe; install "
                                    "libegl1 libegl-mesa0 libgl1-mesa-dri")
        _egl_pipe = pipe
    return _egl_pipe


def look_at_gl(eye: Sequence[float], target: Sequence[float],
               up: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """OpenGL camera-to-world pose at ``eye`` looking at ``target``.

    Args:
        eye: camera centre ``[3]``, metres, Panda world (Z up).
        target: point to look at ``[3]``, metres.
        up: world up direction ``[3]`` (Panda's +Z).

    Returns:
        ``[4, 4]`` float64 c2w, OpenGL camera axes (X right, Y up, looking down -Z).

    Raises:
        ValueError: ``eye == target`` or viewing direction parallel to ``up``.
    """
    eye = np.asarray(eye, dtype=np.float64)
    fwd = np.asarray(target, dtype=np.float64) - eye
    n = np.linalg.norm(fwd)
    if n < 1e-9:
        raise ValueError(f"look_at_gl: eye {eye.tolist()} equals target")
    fwd /= n
    right = np.cross(fwd, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(right) < 1e-9:
        raise ValueError(f"look_at_gl: view direction {fwd.tolist()} is parallel to up {up}")
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, fwd)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, cam_up, -fwd, eye
    return c2w


class PandaEngine:
    """Offscreen Panda3D renderer of the garden scene with exact depth.

    Each instance owns its own ``GraphicsEngine``, GL context (via a 1x1 EGL pbuffer) and
    framebuffer object, and its own copy of the scene graph, so several instances can live in
    one process; :meth:`close` (or the context manager) releases the GL objects. Rendering is
    synchronous: :meth:`render` returns the images of the pose it was given.

    Threads: an EGL context can be current in only one thread, and EGL's client API choice
    (``eglBindAPI``, made by Panda when it opens the pipe) is per thread: a context created on
    another thread silently comes out as OpenGL ES without float depth. So every Panda call of
    every instance runs on one process-wide render thread (:func:`_render_thread`), and
    :meth:`render` may be called from any thread (for example a gRPC request iterator); calls
    are serialised.

    Args:
        width, height: image size in pixels.
        fov_y_deg: vertical field of view, degrees (horizontal follows from the aspect ratio,
            square pixels).
        near, far: clip planes, metres (``0 < near < far``). Geometry beyond ``far`` is sky.
        props: place the panda and the teapot in the clearing (parallax for the demo);
            ``False`` draws the garden alone. Ignored when ``layout`` is given.
        layout: what to draw (:class:`SceneLayout`): the garden's scale and heading and the
            props. ``None``: :data:`DEFAULT_LAYOUT` (or no props with ``props=False``).
            :meth:`set_layout` changes it later.

    Raises:
        ValueError: bad size, FOV or clip planes; ``props=False`` together with a layout.
        TypeError: ``layout`` is not a :class:`SceneLayout`.
        EngineUnavailable: panda3d missing, or no EGL offscreen buffer with float depth.
    """

    def __init__(self, width: int = 512, height: int = 512, fov_y_deg: float = 60.0,
                 near: float = 0.05, far: float = 200.0, props: bool = True,
                 layout: SceneLayout | None = None) -> None:
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"image size must be > 0, got {width}x{height}")
        if not (0.0 < fov_y_deg < 180.0):
            raise ValueError(f"vertical FOV must be in (0, 180) degrees, got {fov_y_deg}")
        if not (0.0 < near < far and math.isfinite(far)):
            raise ValueError(f"need 0 < near < far < inf, got near={near}, far={far}")
        if layout is None:
            layout = DEFAULT_LAYOUT if props else SceneLayout(props=())
        elif not isinstance(layout, SceneLayout):
            raise TypeError(f"layout must be a SceneLayout, got {type(layout).__name__}")
        elif not props:
            raise ValueError("props=False and a layout: give the layout without props "
                             "(SceneLayout(props=())) instead")
        self.width, self.height = int(width), int(height)
        self.fov_y_deg, self.near, self.far = float(fov_y_deg), float(near), float(far)
        self.layout = layout
        self._closed = False
        self._engine = None
        self._render = None
        self._intrinsics = Intrinsics.from_vertical_fov(self.fov_y_deg, self.width, self.height)
        self._thread = _render_thread()
        try:
            self._call(self._setup, layout)
        except BaseException:
            self.close()
            raise

    def _call(self, fn, *args):
        """Run ``fn(*args)`` on the render thread and return its result (or raise its error)."""
        if threading.get_ident() == _render_thread_id:  # e.g. __del__ from a gc on that thread
            return fn(*args)
        return self._thread.submit(fn, *args).result()

    def _setup(self, layout: SceneLayout) -> None:
        p3d = _core()
        self._p3d = p3d
        pipe = _pipe()
        self._engine = p3d.GraphicsEngine(pipe)
        self._make_buffers(p3d, pipe)
        self._build_scene(p3d, layout)

    # -- setup ---------------------------------------------------------------------------------

    def _make_buffers(self, p3d, pipe) -> None:
        ge = self._engine
        host_fbp = p3d.FrameBufferProperties()
        host_fbp.set_rgba_bits(8, 8, 8, 8)
        host_fbp.set_depth_bits(24)
        self._host = ge.make_output(pipe, "wb-host", -10, host_fbp, p3d.WindowProperties.size(1, 1),
                                    p3d.GraphicsPipe.BF_refuse_window)
        if self._host is None:
            raise EngineUnavailable("Panda3D could not create an EGL pbuffer (no EGL display? "
                                    "install libegl1 libegl-mesa0 libgl1-mesa-dri)")
        self._host.set_active(False)  # only hosts the context; never drawn
        fbp = p3d.FrameBufferProperties()
        fbp.set_rgba_bits(8, 8, 8, 8)
        fbp.set_depth_bits(32)
        fbp.set_float_depth(True)
        fbp.set_multisamples(0)
        flags = p3d.GraphicsPipe.BF_refuse_window | p3d.GraphicsPipe.BF_refuse_parasite
        self._buffer = ge.make_output(pipe, "wb-fbo", 0, fbp,
                                      p3d.WindowProperties.size(self.width, self.height), flags,
                                      self._host.get_gsg(), self._host)
        if self._buffer is None:
            raise EngineUnavailable("Panda3D could not create an FBO with RGBA8 colour and float "
                                    "depth on this GL driver")
        got = self._buffer.get_fb_properties()
        if not got.get_float_depth():
            raise EngineUnavailable(f"the offscreen buffer has no float depth: {got}")
        gsg = self._host.get_gsg()
        self.renderer = f"{gsg.get_driver_renderer()} / {gsg.get_driver_version()}"

        self._color_tex = p3d.Texture("wb-color")
        self._depth_tex = p3d.Texture("wb-depth")
        out = p3d.GraphicsOutput
        self._buffer.add_render_texture(self._color_tex, out.RTM_copy_ram, out.RTP_color)
        self._buffer.add_render_texture(self._depth_tex, out.RTM_copy_ram, out.RTP_depth)
        sky = p3d.LColor(*(c / 255.0 for c in SKY_RGB), 1.0)
        self._buffer.set_clear_color_active(True)
        self._buffer.set_clear_color(sky)
        self._buffer.set_clear_depth_active(True)
        self._buffer.set_clear_depth(1.0)

    def _build_scene(self, p3d, layout: SceneLayout) -> None:
        self._render = p3d.NodePath("wb-render")
        self._scene = self._add_layout(p3d, layout)
        ambient = p3d.AmbientLight("ambient")
        ambient.set_color(p3d.LColor(0.55, 0.55, 0.6, 1.0))
        sun = p3d.DirectionalLight("sun")
        sun.set_color(p3d.LColor(0.75, 0.72, 0.65, 1.0))
        sun_np = self._render.attach_new_node(sun)
        sun_np.set_hpr(35.0, -50.0, 0.0)
        self._render.set_light(self._render.attach_new_node(ambient))
        self._render.set_light(sun_np)

        lens = p3d.PerspectiveLens()
        fov_y = math.radians(self.fov_y_deg)
        fov_x = 2.0 * math.atan(math.tan(fov_y / 2.0) * self.width / self.height)
        lens.set_fov(math.degrees(fov_x), self.fov_y_deg)
        lens.set_near_far(self.near, self.far)
        self._lens = lens
        cam = p3d.Camera("wb-camera", lens)
        self._camera = self._render.attach_new_node(cam)
        region = self._buffer.make_display_region()
        region.set_camera(self._camera)
        self._to_gl_cam = p3d.Mat4.convert_mat(p3d.CS_zup_right, p3d.CS_yup_right)
        # One throw-away frame uploads the textures, so the first real render is complete.
        self._engine.render_frame()

    def _add_layout(self, p3d, layout: SceneLayout):
        """Load the garden and the props of ``layout`` under a new ``wb-scene`` node."""
        scene = self._render.attach_new_node("wb-scene")
        loader = p3d.Loader.get_global_ptr()

        def load(name: str):
            node = loader.load_sync(p3d.Filename(name))
            if node is None:
                raise EngineUnavailable(f"Panda3D could not load {name!r} (is the panda3d wheel's "
                                        "models/ folder on the model-path?)")
            # copy: the loader returns the node shared through the model pool
            return p3d.NodePath(node).copy_to(scene)

        env = load("models/environment")
        s = ENVIRONMENT_SCALE * layout.environment_scale
        env.set_scale(s)
        gx, gy = _GARDEN_CENTRE
        ground = env.find("**/Ground")  # flat, authored 0.05 units above the model's origin
        ground_z = ground.get_tight_bounds()[0].z if not ground.is_empty() else 0.0
        # turned about the clearing's middle, which stays the world origin
        px, py = _rotate(layout.environment_heading_deg, -gx * s, -gy * s)
        env.set_pos(px, py, -ground_z * s)
        env.set_h(layout.environment_heading_deg)
        env.set_transparency(p3d.TransparencyAttrib.M_binary, 1)
        for prop in layout.props:
            spec = PROP_MODELS[prop.model]
            node = load(spec.path)
            k = prop.metres_per_unit
            node.set_scale(k)
            ox, oy = _rotate(prop.heading_deg, spec.offset[0] * k, spec.offset[1] * k)
            node.set_pos(prop.x + ox, prop.y + oy, prop.z + spec.offset[2] * k)
            node.set_h(prop.heading_deg)
            color = prop.color if prop.color is not None else spec.color
            if color is not None:
                node.set_color(*color, 1.0)
        return scene

    def set_layout(self, layout: SceneLayout) -> None:
        """Replace the garden and props by ``layout``; buffers, camera and lights stay.

        Renders after this are those of a new engine built with ``layout``.

        Raises:
            TypeError: ``layout`` is not a :class:`SceneLayout`.
            RuntimeError: the engine was closed.
        """
        if not isinstance(layout, SceneLayout):
            raise TypeError(f"layout must be a SceneLayout, got {type(layout).__name__}")
        if self._closed:
            raise RuntimeError("PandaEngine.set_layout() after close()")
        self._call(self._set_layout_on_thread, layout)
        self.layout = layout

    def _set_layout_on_thread(self, layout: SceneLayout) -> None:
        self._scene.remove_node()
        self._scene = self._add_layout(self._p3d, layout)
        self._engine.render_frame()  # uploads the new models' textures, as in _build_scene

    # -- public API ----------------------------------------------------------------------------

    def intrinsics(self) -> Intrinsics:
        """The camera's pinhole intrinsics (OpenCV pixel convention, ``cx = W/2``, ``cy = H/2``)."""
        return self._intrinsics

    def render(self, c2w_gl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Render the scene from an OpenGL camera-to-world pose.

        Args:
            c2w_gl: ``[4, 4]`` float64 camera-to-world, column-vector convention, OpenGL camera
                axes (X right, Y up, looking down -Z), Panda world (Z up), metres. Must be rigid.

        Returns:
            ``(rgb, depth)``: ``rgb`` ``[H, W, 3]`` uint8, top row first; ``depth`` ``[H, W]``
            float32 planar z in metres, top row first, 0 where nothing was drawn (sky).

        Raises:
            ValueError: ``c2w_gl`` is not a finite 4x4 rigid transform.
            RuntimeError: the engine was closed.
        """
        if self._closed:
            raise RuntimeError("PandaEngine.render() after close()")
        from worldbridge.geometry import PoseError, validate_rigid
        try:
            c2w = validate_rigid(c2w_gl, name="c2w_gl")
        except PoseError as e:
            raise ValueError(str(e)) from None
        return self._call(self._render_on_thread, c2w)

    def _render_on_thread(self, c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Panda is row-vector: its camera matrix is (ours)^T, preceded by Panda cam -> GL cam.
        self._camera.set_mat(self._to_gl_cam * self._p3d.Mat4(*c2w.T.ravel().tolist()))
        self._engine.render_frame()
        return self._read_color(), self._read_depth()

    def _read_color(self) -> np.ndarray:
        tex = self._color_tex
        h, w, nc = tex.get_y_size(), tex.get_x_size(), tex.get_num_components()
        raw = np.frombuffer(memoryview(tex.get_ram_image()), dtype=np.uint8)
        img = raw.reshape(h, w, nc)  # Panda stores 8-bit colour as BGR(A), bottom row first
        return np.ascontiguousarray(img[::-1, :, 2::-1])

    def _read_depth(self) -> np.ndarray:
        tex = self._depth_tex
        h, w = tex.get_y_size(), tex.get_x_size()
        if tex.get_component_type() != self._p3d.Texture.T_float:
            raise RuntimeError(f"depth texture is not float (component type "
                               f"{tex.get_component_type()})")
        d = np.frombuffer(memoryview(tex.get_ram_image()), dtype=np.float32).reshape(h, w)[::-1]
        d = d.astype(np.float64)
        n, f = self.near, self.far
        valid = d < 1.0  # cleared to exactly 1.0; geometry beyond `far` is clipped
        z = np.where(valid, n * f / (f - np.minimum(d, 1.0) * (f - n)), 0.0)
        return z.astype(np.float32)

    def close(self) -> None:
        """Release the buffers and the GL context. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._teardown)
        except RuntimeError:  # interpreter shutting down: the thread is gone, EGL goes with it
            pass

    def _teardown(self) -> None:
        if self._engine is not None:
            self._engine.remove_all_windows()
            self._engine = None
        self._buffer = self._host = None
        self._color_tex = self._depth_tex = None
        if self._render is not None:
            self._render.remove_node()
            self._render = self._scene = None

    def __enter__(self) -> "PandaEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; close() is the API
        try:
            if hasattr(self, "_thread"):
                self.close()
        except Exception:
            pass


# -- camera paths ------------------------------------------------------------------------------

_PATH_KINDS = ("orbit", "dolly", "walk")


def camera_path(n: int, kind: str = "orbit") -> list[np.ndarray]:
    """Camera poses through the garden clearing; every pose moves the camera centre.

    * ``orbit``: a 150-degree arc of radius 4.5 m around the panda at 1.8 m eye height,
      looking at the panda's chest (0, 0, 0.8); the bamboo, rocks and trees behind it slide by.
    * ``dolly``: 5.9 m straight towards the panda from the south-east, eye height sinking
      from 2.2 m to 1.5 m, looking along the track and slightly down (fixed orientation).
    * ``walk``: a gently curving walk through the clearing at 1.6 m eye height with a small
      head bob, looking along the direction of travel (a little down, a little side to side).

    All poses stay inside the bamboo ring, above the ground (z = 0), clear of the rocks.

    Args:
        n: number of poses, >= 1.
        kind: ``"orbit"``, ``"dolly"`` or ``"walk"``.

    Returns:
        ``n`` ``[4, 4]`` float64 OpenGL camera-to-world matrices (Panda world, Z up, metres).

    Raises:
        ValueError: ``n < 1`` or an unknown kind.
    """
    if int(n) < 1:
        raise ValueError(f"camera_path needs n >= 1, got {n}")
    if kind not in _PATH_KINDS:
        raise ValueError(f"unknown camera path kind {kind!r}; expected one of {_PATH_KINDS}")
    n = int(n)
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    poses = []
    for t in s:
        if kind == "orbit":
            a = math.radians(-60.0 + 150.0 * t)
            eye = (4.5 * math.cos(a), 4.5 * math.sin(a), 1.8)
            target = (0.0, 0.0, 0.8)
        elif kind == "dolly":
            start, end = np.array([6.0, -5.5, 2.2]), np.array([2.0, -1.2, 1.5])
            eye = start + (end - start) * t
            d = (end - start) / np.linalg.norm(end - start)
            target = eye + np.array([d[0], d[1], -0.25])
        else:  # walk
            # a curve from the south-west of the clearing round behind the panda, Bezier-smooth
            p0, p1, p2, p3 = (np.array(p) for p in ([-3.5, -4.5], [3.5, -5.5], [5.5, 3.0],
                                                     [-2.5, 3.5]))
            u = 1.0 - t
            xy = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
            dxy = 3 * u**2 * (p1 - p0) + 6 * u * t * (p2 - p1) + 3 * t**2 * (p3 - p2)
            dxy /= np.linalg.norm(dxy)
            sway = 0.25 * math.sin(2 * math.pi * 1.5 * t)
            look = np.array([dxy[0] - sway * dxy[1], dxy[1] + sway * dxy[0]])
            eye = (xy[0], xy[1], 1.6 + 0.04 * math.sin(2 * math.pi * 6.0 * t))
            target = (xy[0] + look[0], xy[1] + look[1], eye[2] - 0.2)
        poses.append(look_at_gl(eye, target))
    return poses


# -- the bridge client -------------------------------------------------------------------------


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2
    out = np.ascontiguousarray(img).copy()
    cv2.rectangle(out, (0, 0), (min(out.shape[1], 10 + 9 * len(text)), 22), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def _side_by_side(engine_rgb: np.ndarray, frame_rgb: np.ndarray | None, i: int,
                  note: str = "") -> np.ndarray:
    import cv2
    h, w = engine_rgb.shape[:2]
    if frame_rgb is None:
        frame_rgb = np.zeros_like(engine_rgb)
    elif frame_rgb.shape[:2] != (h, w):
        frame_rgb = cv2.resize(frame_rgb, (w, h), interpolation=cv2.INTER_LINEAR)
    left = _label(engine_rgb, f"engine #{i}")
    right = _label(frame_rgb, f"worldbridge #{i}{note}")
    return np.concatenate([left, np.full((h, 4, 3), 255, np.uint8), right], axis=1)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default="127.0.0.1:50051", help="host:port of `worldbridge serve`")
    p.add_argument("--token", default=None, help="bearer token, if the server wants one")
    p.add_argument("--frames", type=int, default=48, help="poses along the camera path")
    p.add_argument("--size", type=int, default=512, help="square image size in pixels")
    p.add_argument("--fov", type=float, default=60.0, help="vertical field of view, degrees")
    p.add_argument("--path", choices=_PATH_KINDS, default="orbit", help="camera path")
    p.add_argument("--out", default="out/preview.png", help="side-by-side strip image")
    p.add_argument("--video", default=None, help="side-by-side mp4 (OpenCV VideoWriter)")
    p.add_argument("--generator", default="anchor", help="frame generator on the server")
    p.add_argument("--rows", type=int, default=4, help="rows in the strip image")
    p.add_argument("--references", type=int, default=1,
                   help="reference views (RGB-D) that build the session's world: the first "
                        "pose, and with N > 1, N poses spread evenly along the path")
    p.add_argument("--keyframe-every", type=int, default=0, metavar="N",
                   help="every N-th pose is a keyframe: the returned frame is lifted into the "
                        "session's memory with the engine's depth and becomes a reference view "
                        "(0: none)")
    p.add_argument("--record", default=None, metavar="NAME",
                   help="record the rendered trajectory as dataset NAME instead of streaming")
    p.add_argument("--timeout", type=float, default=10.0, help="client call timeout, seconds")
    args = p.parse_args(argv)
    if args.frames < 1 or args.size < 16 or args.rows < 1 or args.references < 1 \
            or args.keyframe_every < 0:
        p.error(f"need --frames >= 1, --size >= 16, --rows >= 1, --references >= 1, "
                f"--keyframe-every >= 0 (got {args.frames}, {args.size}, {args.rows}, "
                f"{args.references}, {args.keyframe_every})")
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line entry point; see the module docstring.

    Returns:
        Stats of the run. Streaming: ``frames`` (received without error), ``fps`` (frames
        over the wall time of the stream, engine rendering included), ``latency_median_ms``
        and ``latency_p95_ms`` (end to end, the client's round trip from handing the request
        to gRPC to the decoded frame), ``render_median_ms`` (engine), ``skipped``, ``errors``.
        Recording: ``frames``, ``frames_written``, ``path``, ``render_median_ms``.
    """
    args = _parse_args(argv)
    poses = camera_path(args.frames, args.path)
    render_ms: list[float] = []
    with PandaEngine(args.size, args.size, fov_y_deg=args.fov) as engine:
        K = engine.intrinsics()
        print(f"panda3d engine: {engine.renderer}, {args.size}x{args.size}, "
              f"{args.frames} poses ({args.path})", flush=True)

        def timed_render(c2w):
            t0 = time.perf_counter()
            out = engine.render(c2w)
            render_ms.append((time.perf_counter() - t0) * 1e3)
            return out

        with BridgeClient(args.server, token=args.token, timeout_s=args.timeout) as client:
            if args.record:
                return _record(client, args, poses, timed_render, K, render_ms)
            return _stream(client, args, poses, timed_render, K, render_ms)


def wire_depth(depth: np.ndarray) -> np.ndarray:
    """The engine's depth as WorldBridge reads it: nothing drawn here means sky, which the
    wire marks +inf (0 would mean "unknown")."""
    return np.where(depth > 0, depth, np.float32(np.inf)).astype(np.float32)


def _record(client, args, poses, timed_render, K, render_ms) -> dict:
    def views() -> Iterator:
        for c2w in poses:
            rgb, depth = timed_render(c2w)
            yield CapturedView(rgb=rgb, depth=wire_depth(depth), c2w=c2w, convention=Convention.OPENGL,
                               intrinsics=K)

    summary = client.record(args.record, views())
    stats = {"frames": len(poses), "frames_written": int(summary.frames_written),
             "path": str(summary.path), "render_median_ms": _percentile(render_ms, 50)}
    print(f"recorded {stats['frames_written']} frames to {stats['path']} "
          f"(render median {stats['render_median_ms']:.1f} ms/frame)")
    return stats


def _stream(client, args, poses, timed_render, K, render_ms) -> dict:
    import cv2

    # Reference views: the first pose, plus (--references N) poses spread along the path.
    ref_idx = sorted({int(round(x)) for x in np.linspace(0, len(poses) - 1, args.references)})
    views = []
    for i in ref_idx:
        ref_rgb, ref_depth = timed_render(poses[i])
        views.append(ReferenceView(rgb=ref_rgb, depth=wire_depth(ref_depth), c2w=poses[i],
                                   convention=Convention.OPENGL, intrinsics=K))
    session = client.open_session(views=views, generator=args.generator, width=args.size,
                                  height=args.size)
    render_ms.clear()  # report the per-frame render time of the stream only

    engine_views: list[np.ndarray] = []
    yielded_at: dict[int, float] = {}

    def requests() -> Iterator:
        for i, c2w in enumerate(poses):
            rgb, depth = timed_render(c2w)
            engine_views.append(rgb)
            yielded_at[i] = time.perf_counter()
            n = args.keyframe_every
            yield PoseRequest(c2w=c2w, convention=Convention.OPENGL, intrinsics=K,
                              depth=wire_depth(depth), keyframe=n > 0 and i % n == n - 1)

    writer = None
    if args.video:
        Path(args.video).parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(args.video, cv2.VideoWriter_fourcc(*"mp4v"), 12.0,
                                 (2 * args.size + 4, args.size))
        if not writer.isOpened():
            print(f"warning: OpenCV cannot write {args.video}; no video", file=sys.stderr)
            writer = None

    returned: dict[int, np.ndarray] = {}
    coverage: list[float] = []
    latency_ms: list[float] = []
    skipped: set[int] = set()
    errors: list[str] = []
    t_start = time.perf_counter()
    try:
        for frame in session.stream(requests(), lockstep=True):
            now = time.perf_counter()
            seq = int(frame.sequence)
            skipped.update(int(s) for s in (frame.skipped or ()))
            if frame.error:
                errors.append(f"#{seq}: {frame.error}")
                print(f"frame #{seq}: error: {frame.error}", file=sys.stderr)
                continue
            # End to end as the engine sees it: the client's round trip (request handed to
            # gRPC -> frame decoded), which includes transport, queueing, generation and
            # texture encoding/decoding. Fallback (a client without it): from our yield, which
            # in lockstep mode also counts the wait for the previous frame.
            rt = (frame.timings_ms or {}).get("round_trip")
            if rt is not None:
                latency_ms.append(float(rt))
            elif seq in yielded_at:
                latency_ms.append((now - yielded_at[seq]) * 1e3)
            returned[seq] = frame.rgb
            coverage.append(float(frame.coverage))
            if writer is not None and 0 <= seq < len(engine_views):
                writer.write(cv2.cvtColor(_side_by_side(engine_views[seq], frame.rgb, seq),
                                          cv2.COLOR_RGB2BGR))
    finally:
        elapsed = time.perf_counter() - t_start
        if writer is not None:
            writer.release()
        session.close()

    n_rows = min(args.rows, len(engine_views))
    # rows between the reference views, so the strip shows novel poses
    picks = sorted({int(round(x)) for x in np.linspace(0, len(engine_views) - 1, n_rows + 2)[1:-1]})
    refs = set(ref_idx)
    rows = [_side_by_side(engine_views[i], returned.get(i), i,
                          " (none)" if i not in returned else " (reference)" if i in refs else "")
            for i in picks]
    if rows:
        sep = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
        strip = rows[0]
        for r in rows[1:]:
            strip = np.concatenate([strip, sep, r], axis=0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(args.out, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
            print(f"warning: could not write {args.out}", file=sys.stderr)

    stats = {
        "frames": len(returned),
        "fps": len(returned) / elapsed if elapsed > 0 else float("nan"),
        "latency_median_ms": _percentile(latency_ms, 50),
        "latency_p95_ms": _percentile(latency_ms, 95),
        "render_median_ms": _percentile(render_ms, 50),
        "skipped": len(skipped),
        "errors": len(errors),
        "coverage_mean": float(np.mean(coverage)) if coverage else float("nan"),
    }
    print(f"{stats['frames']} frames in {elapsed:.2f} s: {stats['fps']:.2f} frames/s (including "
          f"engine render, median {stats['render_median_ms']:.1f} ms); end-to-end latency "
          f"median {stats['latency_median_ms']:.1f} ms, p95 {stats['latency_p95_ms']:.1f} ms; "
          f"{stats['skipped']} skipped, {stats['errors']} errors")
    print(f"wrote {args.out}" + (f" and {args.video}" if writer is not None else ""))
    return stats


if __name__ == "__main__":
    main()

"""The garden scene: its scale and clearing, the props, scene layouts.

Pure Python and numpy; Panda3D loads the models only when :class:`PandaEngine` draws a
layout (see the package docstring for the world's conventions: Panda's Z-up world, metres).
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

__all__ = ["ENVIRONMENT_SCALE", "Clearing", "PropModel", "PROP_MODELS", "TRAIN_PROP_MODELS",
           "Prop", "DEFAULT_PROPS", "SceneLayout", "DEFAULT_LAYOUT", "random_layout"]

ENVIRONMENT_SCALE = 0.1
"""Metres per unit of ``models/environment`` (the garden is authored ~10 units to the metre)."""

_GARDEN_CENTRE = (5.0, -165.0)
"""Middle of the clearing inside the bamboo ring, in the model's own units (x, y)."""


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


def _layout_ranges(scale_range: tuple[float, float], headings_deg: Sequence[float] | None,
                   models: Sequence[str], num_props: tuple[int, int],
                   prop_scale_range: tuple[float, float], fixed_props: Sequence[Prop] | None,
                   wall_margin_m: float, gap_m: float, recolour: float, max_tries: int
                   ) -> tuple[float, float, float, float, int, int, tuple[str, ...], list[float] | None]:
    """:func:`random_layout`'s arguments checked: ``(scale lo, hi, prop scale lo, hi, props lo,
    hi, models, headings or None)``.

    Raises:
        ValueError: as :func:`random_layout`.
    """
    headings = None
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
    return lo, hi, plo, phi, nlo, nhi, models, headings


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
    lo, hi, plo, phi, nlo, nhi, models, headings = _layout_ranges(
        scale_range, headings_deg, models, num_props, prop_scale_range, fixed_props, wall_margin_m, gap_m,
        recolour, max_tries)

    for _ in range(int(max_tries) if fixed_props is not None else 1):
        scale = float(rng.uniform(lo, hi))
        heading = float(rng.uniform(0.0, 360.0)) if headings is None else \
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
        color: tuple[float, float, float] | None = None
        if not spec.textured and rng.random() < recolour:
            color = cast("tuple[float, float, float]", tuple(round(c, 4) for c in colorsys.hsv_to_rgb(
                rng.random(), rng.uniform(0.35, 0.85), rng.uniform(0.55, 0.95))))
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

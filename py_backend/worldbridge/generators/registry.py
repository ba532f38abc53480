"""Generator names and factories: what ``OpenSession.generator`` may name."""

from __future__ import annotations

from typing import Callable

from worldbridge.generators.anchor import AnchorGenerator
from worldbridge.generators.base import FrameGenerator

__all__ = ["GENERATORS", "create_generator", "UnknownGeneratorError", "DEFAULT_GENERATOR"]

DEFAULT_GENERATOR = "anchor"

GENERATORS: dict[str, tuple[str, Callable[[], FrameGenerator]]] = {
    AnchorGenerator.name: (AnchorGenerator.description, AnchorGenerator),
}
"""name -> (description, factory)."""


class UnknownGeneratorError(ValueError):
    """A generator name the server does not have."""


def create_generator(name: str) -> FrameGenerator:
    """Create a generator by name (empty means :data:`DEFAULT_GENERATOR`).

    Raises:
        UnknownGeneratorError: naming the unknown name and the ones available.
    """
    key = name or DEFAULT_GENERATOR
    if key not in GENERATORS:
        raise UnknownGeneratorError(f"unknown generator {name!r}; available: {sorted(GENERATORS)}")
    return GENERATORS[key][1]()

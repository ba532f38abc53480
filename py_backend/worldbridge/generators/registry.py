"""Generator names and factories: what ``OpenSession.generator`` may name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from worldbridge.generators.anchor import AnchorGenerator
from worldbridge.generators.base import FrameGenerator

__all__ = ["GENERATORS", "GeneratorSpec", "create_generator", "available_generators",
           "UnknownGeneratorError", "GeneratorUnavailableError", "DEFAULT_GENERATOR"]

DEFAULT_GENERATOR = "anchor"


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator the server knows: description, factory and whether it can run here."""

    description: str
    factory: Callable[[], FrameGenerator]
    available: Callable[[], bool]


def _frame_model() -> FrameGenerator:
    from worldbridge.generators.frame_model import FrameModelGenerator

    return FrameModelGenerator()


def _frame_model_available() -> bool:
    from worldbridge.generators.frame_model import frame_model_available

    return frame_model_available()


def _frame_model_onnx() -> FrameGenerator:
    from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator

    return FrameModelOnnxGenerator()


def _frame_model_onnx_available() -> bool:
    from worldbridge.generators.frame_model_onnx import frame_model_onnx_available

    return frame_model_onnx_available()


GENERATORS: dict[str, GeneratorSpec] = {
    AnchorGenerator.name: GeneratorSpec(AnchorGenerator.description, AnchorGenerator, lambda: True),
    "frame-model": GeneratorSpec(
        "distilled 2-step frame model (DiT + PRoPE) on anchor and reference latents; weights from "
        "$WORLDBRIDGE_FRAME_MODEL or the shipped starter model", _frame_model, _frame_model_available),
    "frame-model-onnx": GeneratorSpec(
        "the frame model run by ONNX Runtime (TensorRT / CUDA / CPU providers); graphs from "
        "`worldbridge export-onnx`, found in $WORLDBRIDGE_FRAME_MODEL_ONNX or <bundle>/onnx",
        _frame_model_onnx, _frame_model_onnx_available),
}


class UnknownGeneratorError(ValueError):
    """A generator name the server does not have."""


class GeneratorUnavailableError(ValueError):
    """A known generator whose weights are not present on this worker."""


def available_generators() -> list[str]:
    """Names of the generators that can run in this process."""
    return sorted(name for name, spec in GENERATORS.items() if spec.available())


def create_generator(name: str) -> FrameGenerator:
    """Create a generator by name (empty means :data:`DEFAULT_GENERATOR`).

    Raises:
        UnknownGeneratorError: naming the unknown name and the ones available.
        GeneratorUnavailableError: the generator exists but cannot run here (no weights).
    """
    key = name or DEFAULT_GENERATOR
    if key not in GENERATORS:
        raise UnknownGeneratorError(f"unknown generator {name!r}; available: {sorted(GENERATORS)}")
    spec = GENERATORS[key]
    if not spec.available():
        raise GeneratorUnavailableError(f"generator {key!r} has no weights on this worker: {spec.description}")
    return spec.factory()

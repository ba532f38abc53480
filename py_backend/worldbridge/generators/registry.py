"""Generator names and factories: what ``OpenSession.generator`` may name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worldbridge.errors import FailedPrecondition, InvalidInput
from worldbridge.generators.anchor import AnchorGenerator
from worldbridge.generators.base import FrameGenerator
from worldbridge.generators.options import GeneratorOptions

__all__ = ["GENERATORS", "GeneratorSpec", "create_generator", "available_generators",
           "UnknownGeneratorError", "GeneratorUnavailableError", "DEFAULT_GENERATOR"]

DEFAULT_GENERATOR = "anchor"


@dataclass(frozen=True)
class GeneratorSpec:
    """A generator the server knows: description, factory and whether it can run here."""

    description: str
    factory: Callable[[GeneratorOptions], FrameGenerator]
    available: Callable[[GeneratorOptions], bool]


def _frame_model(options: GeneratorOptions) -> FrameGenerator:
    from worldbridge.generators.frame_model import FrameModelGenerator

    return FrameModelGenerator(options)


def _frame_model_available(options: GeneratorOptions) -> bool:
    from worldbridge.generators.frame_model import frame_model_available

    return frame_model_available(options)


def _frame_model_onnx(options: GeneratorOptions) -> FrameGenerator:
    from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator

    return FrameModelOnnxGenerator(options)


def _frame_model_onnx_available(options: GeneratorOptions) -> bool:
    from worldbridge.generators.frame_model_onnx import frame_model_onnx_available

    return frame_model_onnx_available(options)


GENERATORS: dict[str, GeneratorSpec] = {
    AnchorGenerator.name: GeneratorSpec(AnchorGenerator.description,
                                        lambda options: AnchorGenerator(), lambda options: True),
    "frame-model": GeneratorSpec(
        "distilled 2-step frame model (DiT + PRoPE) filling what the anchors miss (anchor lock "
        "on by default); weights from --frame-model, $WORLDBRIDGE_FRAME_MODEL or the shipped "
        "starter model", _frame_model, _frame_model_available),
    "frame-model-onnx": GeneratorSpec(
        "the frame model run by ONNX Runtime (TensorRT / CUDA / CPU providers); graphs from "
        "`worldbridge export-onnx`, found at --onnx, $WORLDBRIDGE_FRAME_MODEL_ONNX or <bundle>/onnx",
        _frame_model_onnx, _frame_model_onnx_available),
}


class UnknownGeneratorError(InvalidInput):
    """A generator name the server does not have."""


class GeneratorUnavailableError(FailedPrecondition, ValueError):
    """A known generator whose weights are not present on this worker."""


def available_generators(options: GeneratorOptions | None = None) -> list[str]:
    """Names of the generators that can run in this process with ``options``."""
    o = options or GeneratorOptions()
    return sorted(name for name, spec in GENERATORS.items() if spec.available(o))


def create_generator(name: str, options: GeneratorOptions | None = None) -> FrameGenerator:
    """Create a generator by name (empty means :data:`DEFAULT_GENERATOR`).

    Args:
        name: a key of :data:`GENERATORS` or "".
        options: what frame-model generators load and how they serve (default
            :class:`GeneratorOptions`).

    Raises:
        UnknownGeneratorError: naming the unknown name and the ones available.
        GeneratorUnavailableError: the generator exists but cannot run here (no weights).
    """
    key = name or DEFAULT_GENERATOR
    if key not in GENERATORS:
        raise UnknownGeneratorError(f"unknown generator {name!r}; available: {sorted(GENERATORS)}")
    o = options or GeneratorOptions()
    spec = GENERATORS[key]
    if not spec.available(o):
        raise GeneratorUnavailableError(f"generator {key!r} has no weights on this worker: {spec.description}")
    return spec.factory(o)

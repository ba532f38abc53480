"""Frame generators: the slot between the anchor render and the texture."""

from worldbridge.generators.anchor import AnchorGenerator, fill_holes
from worldbridge.generators.base import FrameGenerator, GenerationContext, pose_seed
from worldbridge.generators.options import GeneratorOptions, add_generator_arguments
from worldbridge.generators.registry import (
    DEFAULT_GENERATOR,
    GENERATORS,
    GeneratorSpec,
    GeneratorUnavailableError,
    UnknownGeneratorError,
    available_generators,
    create_generator,
)

__all__ = ["AnchorGenerator", "fill_holes", "FrameGenerator", "GenerationContext", "pose_seed",
           "GeneratorOptions", "add_generator_arguments",
           "DEFAULT_GENERATOR", "GENERATORS", "GeneratorSpec", "GeneratorUnavailableError",
           "UnknownGeneratorError", "available_generators", "create_generator"]

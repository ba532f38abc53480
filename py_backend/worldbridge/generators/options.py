"""Generator options: what a worker's frame-model generators load and how they serve.

One :class:`GeneratorOptions` travels from the command line (``worldbridge serve`` /
``worldbridge worker`` flags, :func:`add_generator_arguments`) through the worker to every
session's generator; a session may override :attr:`GeneratorOptions.anchor_lock`
(``OpenSessionRequest.generator_options.anchor_lock``). Environment variables are only the
fallback for paths the flags leave unset.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["ENV_BUNDLE", "ENV_ONNX", "GeneratorOptions", "add_generator_arguments"]

ENV_BUNDLE = "WORLDBRIDGE_FRAME_MODEL"
"""Environment variable naming a bundle directory, used when ``--frame-model`` is not given."""

ENV_ONNX = "WORLDBRIDGE_FRAME_MODEL_ONNX"
"""Environment variable naming an ONNX export directory, used when ``--onnx`` is not given."""

_PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class GeneratorOptions:
    """How a worker's frame-model generators are built.

    Attributes:
        bundle: frame-model bundle directory; None: ``$WORLDBRIDGE_FRAME_MODEL``, else the
            starter model shipped in the package.
        onnx_dir: ONNX export for ``frame-model-onnx``; None: ``$WORLDBRIDGE_FRAME_MODEL_ONNX``,
            else ``<bundle>/onnx``.
        device: PyTorch device (``cpu``, ``cuda``, ``cuda:1``); None: CUDA when available.
        precision: ``auto`` (bf16 autocast on CUDA), ``fp32`` or ``bf16``.
        cuda_graphs: replay the denoiser, encoder and decoder as CUDA graphs (CUDA only).
        ort_providers: ONNX Runtime providers, best first; None: TensorRT, CUDA, CPU as
            available (or ``$WORLDBRIDGE_ORT_PROVIDERS``).
        ort_threads: ONNX Runtime intra-op threads; None: its default.
        anchor_lock: the default for sessions that do not choose: keep covered anchor
            pixels exactly and let the model fill only the holes.
        feather_px: width of the anchor-lock seam inside the holes, pixels.

    Raises:
        ValueError: a bad precision, thread count or feather width.
    """

    bundle: Path | None = None
    onnx_dir: Path | None = None
    device: str | None = None
    precision: str = "auto"
    cuda_graphs: bool = False
    ort_providers: tuple[str, ...] | None = None
    ort_threads: int | None = None
    anchor_lock: bool = True
    feather_px: float = 2.0

    def __post_init__(self) -> None:
        if self.precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {_PRECISIONS}, got {self.precision!r}")
        t = self.ort_threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 0):
            raise ValueError(f"ort_threads must be an int >= 0 or None, got {t!r}")
        if not (isinstance(self.feather_px, (int, float)) and 0 <= self.feather_px < 64):
            raise ValueError(f"feather_px must be a number in [0, 64), got {self.feather_px!r}")
        if self.bundle is not None:
            object.__setattr__(self, "bundle", Path(self.bundle))
        if self.onnx_dir is not None:
            object.__setattr__(self, "onnx_dir", Path(self.onnx_dir))
        if self.ort_providers is not None:
            object.__setattr__(self, "ort_providers", tuple(self.ort_providers))

    def bundle_path(self) -> Path:
        """The bundle directory to serve (see :attr:`bundle`)."""
        if self.bundle is not None:
            return self.bundle
        env = os.environ.get(ENV_BUNDLE)
        if env:
            return Path(env)
        return Path(str(resources.files("worldbridge"))) / "assets" / "starter_model"

    def onnx_path(self) -> Path:
        """The ONNX export directory to serve (see :attr:`onnx_dir`)."""
        if self.onnx_dir is not None:
            return self.onnx_dir
        env = os.environ.get(ENV_ONNX)
        return Path(env) if env else self.bundle_path() / "onnx"

    def to_argv(self) -> list[str]:
        """Command-line flags that rebuild these options (for local worker processes)."""
        argv: list[str] = []
        if self.bundle is not None:
            argv += ["--frame-model", str(self.bundle)]
        if self.onnx_dir is not None:
            argv += ["--onnx", str(self.onnx_dir)]
        if self.device is not None:
            argv += ["--device", self.device]
        argv += ["--precision", self.precision]
        if self.cuda_graphs:
            argv.append("--cuda-graphs")
        if self.ort_providers is not None:
            argv += ["--ort-providers", ",".join(self.ort_providers)]
        if self.ort_threads is not None:
            argv += ["--ort-threads", str(self.ort_threads)]
        argv += ["--anchor-lock", "on" if self.anchor_lock else "off",
                 "--feather-px", repr(float(self.feather_px))]
        return argv

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GeneratorOptions:
        """Options from flags added by :func:`add_generator_arguments`.

        Raises:
            ValueError: as the constructor.
        """
        providers = None
        if args.ort_providers:
            providers = tuple(p.strip() for p in args.ort_providers.split(",") if p.strip())
        return cls(bundle=args.frame_model, onnx_dir=args.onnx, device=args.device,
                   precision=args.precision, cuda_graphs=args.cuda_graphs,
                   ort_providers=providers, ort_threads=args.ort_threads,
                   anchor_lock=args.anchor_lock == "on", feather_px=args.feather_px)


def add_generator_arguments(p: argparse.ArgumentParser) -> None:
    """Add the generator flags shared by ``worldbridge serve`` and ``worldbridge worker``."""
    g = p.add_argument_group("frame-model generators")
    g.add_argument("--frame-model", type=Path, default=None, metavar="BUNDLE",
                   help=f"frame-model bundle to serve (default: ${ENV_BUNDLE}, else the starter "
                        "model in the package)")
    g.add_argument("--onnx", type=Path, default=None, metavar="DIR",
                   help=f"ONNX export for frame-model-onnx (default: ${ENV_ONNX}, else "
                        "<bundle>/onnx)")
    g.add_argument("--device", default=None, help="PyTorch device of the frame model: cpu, cuda, "
                                                   "cuda:1 (default: cuda when available)")
    g.add_argument("--precision", choices=_PRECISIONS, default="auto",
                   help="auto: bf16 autocast on CUDA, float32 on CPU (default)")
    g.add_argument("--cuda-graphs", action="store_true",
                   help="replay the frame model's denoiser, encoder and decoder as CUDA graphs")
    g.add_argument("--ort-providers", default=None, metavar="P1,P2",
                   help="ONNX Runtime providers, best first (default: TensorRT, CUDA, CPU as "
                        "available)")
    g.add_argument("--ort-threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    g.add_argument("--anchor-lock", choices=("on", "off"), default="on",
                   help="default for sessions that do not choose: keep every pixel the anchors "
                        "cover and let the model fill only the holes (on), or regenerate every "
                        "pixel (off)")
    g.add_argument("--feather-px", type=float, default=2.0,
                   help="width of the anchor-lock seam inside the holes, pixels (default 2)")

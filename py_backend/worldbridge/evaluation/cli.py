"""``worldbridge eval``: the command line of :func:`~worldbridge.evaluation.runner.evaluate`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from worldbridge.evaluation.cases import DEFAULT_DISTANCES, PROTOCOLS
from worldbridge.evaluation.runner import evaluate

__all__ = ["build_parser", "eval_main"]


def build_parser(prog: str = "worldbridge eval") -> argparse.ArgumentParser:
    """The ``worldbridge eval`` argument parser (see :func:`eval_main`)."""
    p = argparse.ArgumentParser(
        prog=prog, description="Evaluate the nearest and Telea fills, a frame-model bundle "
        "(anchor-locked and not) and optionally its Stage II teacher on held-out recorded "
        "trajectories, through the serving pipeline: pooled PSNR / SSIM per region "
        "(covered, crack, disoccluded, outside), the hole gradient-energy ratio and the "
        "warping error on hallucinated pixels.")
    p.add_argument("--data", type=Path, nargs="+", required=True,
                   help="held-out recorded dataset directories (with depth)")
    p.add_argument("--bundle", type=Path, default=None,
                   help="frame-model bundle (default: $WORLDBRIDGE_FRAME_MODEL or the starter "
                        "model)")
    p.add_argument("--protocol", choices=PROTOCOLS, default="extrapolation")
    p.add_argument("--references", type=int, nargs="+", default=[1, 2],
                   help="reference-view counts (extrapolation; default 1 2)")
    p.add_argument("--distances", type=int, nargs="+", default=list(DEFAULT_DISTANCES),
                   help="target distances in frames (extrapolation; default 4 8 16)")
    p.add_argument("--reference-gap", type=int, default=4,
                   help="frames between the references of a case (default 4)")
    p.add_argument("--cases-per-recording", type=int, default=2,
                   help="reference positions per recording (default 2)")
    p.add_argument("--teacher", type=Path, default=None,
                   help="Stage II checkpoint (or output folder) for the teacher rows")
    p.add_argument("--teacher-steps", type=int, nargs="+", default=[2, 20],
                   help="DDIM steps of the teacher rows (default 2 20)")
    p.add_argument("--seed", type=int, default=0, help="session seed of the noise (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if "
                                                   "available)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    p.add_argument("--out", type=Path, default=None, help="write the report as JSON here")
    p.add_argument("--markdown", type=Path, default=None,
                   help="write the Markdown tables here (they are always printed)")
    return p


def eval_main(argv: Sequence[str] | None = None) -> int:
    """``worldbridge eval``: run :func:`evaluate` and write its report.

    Returns:
        0 on success; 2 on a usage, checkpoint or dataset error (message on stderr).
    """
    from worldbridge.recording import DatasetError

    args = build_parser().parse_args(argv)
    try:
        report = evaluate(args.bundle, args.data, protocol=args.protocol,
                          references=args.references, distances=args.distances,
                          reference_gap=args.reference_gap,
                          cases_per_recording=args.cases_per_recording,
                          teacher_dir=args.teacher, teacher_steps=args.teacher_steps,
                          seed=args.seed, device=args.device, precision=args.precision,
                          progress=lambda line: print(line, file=sys.stderr, flush=True))
    except (ValueError, DatasetError, FileNotFoundError) as e:
        print(f"worldbridge eval: {e}", file=sys.stderr)
        return 2
    md = report.to_markdown()
    print(md, end="")
    for path, text in ((args.out, report.to_json() + "\n"), (args.markdown, md)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return 0

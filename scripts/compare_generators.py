"""Run `worldbridge demo` with the anchor and the frame-model generators at the same poses and
write one `engine | anchor generator | frame model` strip (the README's comparison still).

    python scripts/compare_generators.py --out docs/walk_compare.jpg --path walk \
        --references 1 --keyframe-every 6 [--frame-model BUNDLE] [--video out/walk_fm.mp4]

Both demos fly the same deterministic camera path through the same garden, so row i of both
strips is the same pose; the frame-model run can also write its mp4.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

SEPARATOR_PX = 4  # white gap between the columns of a demo strip


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.rectangle(out, (0, 24), (10 + 9 * len(text), 46), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def split_strip(strip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(engine column, returned column)`` of a demo strip ``[H, 2W + 4, 3]``."""
    w = (strip.shape[1] - SEPARATOR_PX) // 2
    if 2 * w + SEPARATOR_PX != strip.shape[1]:
        raise ValueError(f"not a demo strip: width {strip.shape[1]}")
    return strip[:, :w], strip[:, w + SEPARATOR_PX:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="comparison image (.jpg or .png)")
    p.add_argument("--path", default="walk", choices=["orbit", "dolly", "walk"])
    p.add_argument("--references", type=int, default=1)
    p.add_argument("--keyframe-every", type=int, default=6)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--frame-model", default=None, help="bundle (default: the starter model)")
    p.add_argument("--video", default=None, help="also write the frame-model run's mp4 here")
    args = p.parse_args(argv)

    common = ["--path", args.path, "--references", str(args.references), "--keyframe-every",
              str(args.keyframe_every), "--frames", str(args.frames), "--size", str(args.size)]
    columns = []
    with tempfile.TemporaryDirectory(prefix="worldbridge-compare-") as tmp:
        for generator in ("anchor", "frame-model"):
            png = Path(tmp) / f"{generator}.png"
            cmd = [sys.executable, "-m", "worldbridge.cli", "demo", "--generator", generator,
                   "--out", str(png), *common]
            if generator == "frame-model":
                if args.frame_model:
                    cmd += ["--frame-model", args.frame_model]
                if args.video:
                    cmd += ["--video", args.video]
            subprocess.run(cmd, check=True)
            strip = cv2.imread(str(png))
            if strip is None:
                raise SystemExit(f"the {generator} demo wrote no strip")
            columns.append(split_strip(strip))
    (engine, anchor), (engine_fm, frame_model) = columns
    if engine.shape != engine_fm.shape:
        raise SystemExit("the two demos returned strips of different sizes")
    gap = np.full((engine.shape[0], SEPARATOR_PX, 3), 255, np.uint8)
    out = np.concatenate([engine, gap, _label(anchor, "anchor generator"), gap,
                          _label(frame_model, "frame model")], axis=1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(args.out, out, [cv2.IMWRITE_JPEG_QUALITY, 88]):
        raise SystemExit(f"could not write {args.out}")
    print(f"wrote {args.out} ({out.shape[1]}x{out.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Summarise `worldbridge eval` reports of the starter model: goals, comparison, provenance.

    python scripts/starter_report.py goals EVAL.json
        the frame-model goals (1 reference, d = 8 unless --d) against their targets
    python scripts/starter_report.py compare OLD.json NEW.json
        pooled hole PSNR of the anchor-locked frame model of two bundles on the same cases
    python scripts/starter_report.py provenance EVAL.json --name N --trained-on T --recipe R \
        --out info.json
        the provenance JSON `worldbridge export-bundle --info` stores in bundle.json

Every number is read from the reports (`scores[refs][d][method][region]`: pooled PSNR and
SSIM, gradient ratio, warp error; `engine_warp[refs][d]["holes"]` is the engine's own warp
error on the same pixels); nothing is recomputed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HOLES = "holes"
SUMMARY = ("covered_psnr", "holes_psnr", "holes_ssim", "hole_gradient_ratio",
           "hallucinated_warp_error")


def load(path: str | Path) -> dict:
    report = json.loads(Path(path).read_text())
    if report.get("protocol") != "extrapolation":
        raise SystemExit(f"{path}: not an extrapolation report (protocol "
                         f"{report.get('protocol')!r})")
    return report


def summary(report: dict, refs: str, d: str, method: str) -> dict[str, float]:
    """The five headline numbers of one method at one reference count and distance."""
    s = report["scores"][refs][d][method]
    return {"covered_psnr": s["covered"]["psnr"], "holes_psnr": s[HOLES]["psnr"],
            "holes_ssim": s[HOLES]["ssim"], "hole_gradient_ratio": s[HOLES]["gradient_ratio"],
            "hallucinated_warp_error": s[HOLES]["warp_error"]}


def goals(report: dict, d: str = "8") -> list[tuple[str, str, float, bool]]:
    """``(goal, measured, margin, met)`` rows of the starter-model goals."""
    fm = summary(report, "1", d, "frame-model")
    anchor = summary(report, "1", d, "anchor")
    telea = summary(report, "1", d, "telea")
    engine = report["engine_warp"]["1"][d][HOLES]
    best_fill = max(anchor["holes_psnr"], telea["holes_psnr"])
    fills = (f"{fm['holes_psnr']:.2f} vs nearest {anchor['holes_psnr']:.2f}, "
             f"Telea {telea['holes_psnr']:.2f}")
    covered = f"{fm['covered_psnr']:.2f} vs {anchor['covered_psnr']:.2f}"
    warp = fm["hallucinated_warp_error"]
    warp_text = f"{warp:.2f} vs engine {engine:.2f} ({warp / engine:.2f}x)"
    rows = [
        ("holes PSNR: frame model - best classical fill >= 1.0 dB", fills,
         fm["holes_psnr"] - best_fill, fm["holes_psnr"] - best_fill >= 1.0),
        ("covered PSNR within 0.1 dB of the anchors", covered,
         fm["covered_psnr"] - anchor["covered_psnr"],
         abs(fm["covered_psnr"] - anchor["covered_psnr"]) <= 0.1),
        ("hole gradient ratio >= 0.7", f"{fm['hole_gradient_ratio']:.2f}",
         fm["hole_gradient_ratio"] - 0.7, fm["hole_gradient_ratio"] >= 0.7),
        ("hallucinated warp error <= 1.5x the engine's", warp_text, 1.5 - warp / engine,
         warp <= 1.5 * engine),
    ]
    methods = report["scores"]["1"][d]
    if "teacher-2" in methods and "teacher-20" in methods:
        t2 = summary(report, "1", d, "teacher-2")["holes_psnr"]
        t20 = summary(report, "1", d, "teacher-20")["holes_psnr"]
        rows.append(("student - 2-step teacher >= 1.0 dB (holes)",
                     f"{fm['holes_psnr']:.2f} vs {t2:.2f}", fm["holes_psnr"] - t2,
                     fm["holes_psnr"] - t2 >= 1.0))
        rows.append(("student within 0.5 dB of the 20-step teacher (holes)",
                     f"{fm['holes_psnr']:.2f} vs {t20:.2f}", fm["holes_psnr"] - t20,
                     fm["holes_psnr"] - t20 >= -0.5))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("goals")
    g.add_argument("report")
    g.add_argument("--d", default="8", help="target distance, frames")
    c = sub.add_parser("compare")
    c.add_argument("old")
    c.add_argument("new")
    v = sub.add_parser("provenance")
    v.add_argument("report")
    v.add_argument("--name", required=True)
    v.add_argument("--trained-on", required=True)
    v.add_argument("--recipe", required=True)
    v.add_argument("--data", required=True, help="what the report's held-out data is")
    v.add_argument("--out", required=True)
    args = p.parse_args(argv)

    if args.command == "goals":
        for goal, measured, margin, met in goals(load(args.report), args.d):
            print(f"{'met   ' if met else 'missed'}  {goal}: {measured} (margin {margin:+.2f})")
        return 0
    if args.command == "compare":
        old, new = load(args.old), load(args.new)
        if old["cases"] != new["cases"]:
            raise SystemExit("the two reports were run on different cases")
        better = 0
        for refs in sorted(new["scores"]):
            for d in sorted(new["scores"][refs], key=int):
                a = summary(old, refs, d, "frame-model")["holes_psnr"]
                b = summary(new, refs, d, "frame-model")["holes_psnr"]
                better += b > a
                print(f"{refs} reference(s), d = {d:>2}: holes PSNR {a:.2f} -> {b:.2f} dB "
                      f"({b - a:+.2f})")
        print(f"new better in {better} of {sum(len(v) for v in new['scores'].values())} settings")
        return 0
    report = load(args.report)
    scores = {f"{refs}_reference{'s' if refs != '1' else ''}": {
        f"d{d}": {m: {k: round(v, 3) for k, v in summary(report, refs, d, m).items()}
                  for m in report["scores"][refs][d]}
        for d in report["scores"][refs]} for refs in report["scores"]}
    info = {"name": args.name, "trained_on": args.trained_on, "recipe": args.recipe,
            "eval_heldout": {"protocol": "extrapolation", "data": args.data,
                             "regions": "pooled PSNR dB; holes = disoccluded + outside",
                             "scores": scores}}
    Path(args.out).write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

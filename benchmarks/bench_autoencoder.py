"""Benchmark compact-autoencoder encode and decode time per image (batch 1) on the CPU.

Configs (RANDOM weights unless ``--checkpoint`` adds trained ones; speed does not depend on
the weights):

* ``f8 C4 (default)``: :class:`CompactAutoencoderConfig` defaults, block channels
  32 64 128 128, patch 1: the baseline every ratio is against;
* ``f4 C8 32-64-128``: the default's first three levels, 8 latent channels;
* ``f4 C8 p2 64-128``: 2 x 2 space-to-depth, then levels of 64 and 128 channels, 8 latent
  channels (the ``train-autoencoder`` f = 4 recipe in the README).

At each ``--threads`` value (default 2, then 1; on a 2-core machine where another process is
busy, multi-threaded runs slow down many times over, so one thread is a control) and each
``--size``: warm-up calls, then ``--repeats`` timed calls of ``encode`` and of ``decode``;
median and p95 milliseconds, and the ratio of each median to the baseline's measured in the
same run. FLOPs of one encode and one decode are counted with
:class:`torch.utils.flop_counter.FlopCounterMode` (convolutions; norms and activations are
not counted; a multiply-add is 2 FLOPs). The 1-minute load average is printed with every row.

    python benchmarks/bench_autoencoder.py [--sizes 128] [--threads 2,1] [--repeats 30]
                                           [--warmup 3] [--checkpoint NAME=DIR ...]
                                           [--json results.json | --json -]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig

CONFIGS = {
    "f8 C4 (default)": CompactAutoencoderConfig(),
    "f4 C8 32-64-128": CompactAutoencoderConfig(latent_channels=8, block_channels=(32, 64, 128)),
    "f4 C8 p2 64-128": CompactAutoencoderConfig(latent_channels=8, block_channels=(64, 128),
                                                patch_size=2),
}
BASELINE = "f8 C4 (default)"


def _time(fn, repeats: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t)), float(np.percentile(t, 95))


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


@torch.no_grad()
def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="128", help="comma-separated square image sizes, pixels")
    p.add_argument("--threads", default="2,1", help="comma-separated torch thread counts")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--checkpoint", nargs="*", default=[], metavar="NAME=DIR",
                   help="also time trained autoencoder checkpoints")
    p.add_argument("--json", default=None, help="write the rows as JSON to this file ('-': stdout)")
    args = p.parse_args(argv)
    models = {name: CompactAutoencoder(cfg).eval() for name, cfg in CONFIGS.items()}
    for spec in args.checkpoint:
        name, _, path = spec.partition("=")
        models[name] = CompactAutoencoder.load(path)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        x = torch.rand(1, 3, size, size) * 2 - 1
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            base = None
            for name, m in models.items():
                z = m.encode(x)
                load = os.getloadavg()[0]
                enc = _time(lambda m=m, x=x: m.encode(x), args.repeats, args.warmup)
                dec = _time(lambda m=m, z=z: m.decode(z), args.repeats, args.warmup)
                row = {"config": name, "size": size, "threads": threads,
                       "parameters": m.num_parameters(), "latent": list(z.shape[1:]),
                       "encode_ms": enc[0], "encode_ms_p95": enc[1], "decode_ms": dec[0],
                       "decode_ms_p95": dec[1],
                       "encode_gflop": _flops(lambda m=m, x=x: m.encode(x)) / 1e9,
                       "decode_gflop": _flops(lambda m=m, z=z: m.decode(z)) / 1e9,
                       "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}
                if name == BASELINE:
                    base = row
                if base is not None:
                    row["encode_vs_baseline"] = row["encode_ms"] / base["encode_ms"]
                    row["decode_vs_baseline"] = row["decode_ms"] / base["decode_ms"]
                rows.append(row)
                print(f"{size}px {threads} thr  {name:<22} {row['parameters'] / 1e6:5.2f}M  "
                      f"latent {row['latent']}  encode {enc[0]:6.1f} ms (p95 {enc[1]:6.1f}, "
                      f"{row['encode_gflop']:.2f} GFLOP)  decode {dec[0]:6.1f} ms (p95 "
                      f"{dec[1]:6.1f}, {row['decode_gflop']:.2f} GFLOP)  vs baseline "
                      f"{row.get('encode_vs_baseline', float('nan')):.2f} / "
                      f"{row.get('decode_vs_baseline', float('nan')):.2f}  load "
                      f"{row['load_before']:.2f} -> {row['load_after']:.2f}", flush=True)
    if args.json == "-":
        print(json.dumps(rows, indent=1))
    elif args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()

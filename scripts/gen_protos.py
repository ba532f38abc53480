#!/usr/bin/env python3
"""Generate the Python protobuf/gRPC stubs in py_backend/worldbridge/v1 from protos/.

The one way stubs are made. ``--check`` regenerates into a temporary folder and exits 1
when the committed stubs differ from what the protos produce (CI runs it through the tests).

Usage:
    python scripts/gen_protos.py            # regenerate in place
    python scripts/gen_protos.py --check    # verify, change nothing
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
OUT_ROOT = ROOT / "py_backend"
PACKAGE_DIR = Path("worldbridge") / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out_root: Path) -> list[Path]:
    """Run protoc (grpcio-tools) for every proto; return generated paths relative to out_root."""
    from grpc_tools import protoc  # dev dependency
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE_DIR}")
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out_root}",
            f"--pyi_out={out_root}", f"--grpc_python_out={out_root}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(p.relative_to(out_root) for p in (out_root / PACKAGE_DIR).iterdir()
                  if p.name.endswith(GENERATED_SUFFIXES))


def committed(out_root: Path) -> list[Path]:
    return sorted(p.relative_to(out_root) for p in (out_root / PACKAGE_DIR).iterdir()
                  if p.name.endswith(GENERATED_SUFFIXES))


def check() -> list[str]:
    """Differences between committed stubs and freshly generated ones (empty = in sync)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        (fresh_root / PACKAGE_DIR).mkdir(parents=True)
        fresh = generate(fresh_root)
        have = committed(OUT_ROOT)
        problems = [f"missing: {p}" for p in fresh if p not in have]
        problems += [f"stale (no proto makes it): {p}" for p in have if p not in fresh]
        problems += [f"differs: {p}" for p in fresh
                     if p in have and not filecmp.cmp(fresh_root / p, OUT_ROOT / p, shallow=False)]
        return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for p in problems:
            print(p)
        if problems:
            print("stubs are out of date: run python scripts/gen_protos.py")
        return 1 if problems else 0
    for p in committed(OUT_ROOT):
        (OUT_ROOT / p).unlink()
    for p in generate(OUT_ROOT):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

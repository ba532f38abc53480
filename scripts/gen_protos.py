#!/usr/bin/env python3
"""Generate the protobuf/gRPC stubs from protos/: Python for the backend, C# for Unity; copy the
protos into the Unreal plugin.

The one way stubs are made. ``--check`` regenerates into a temporary folder and exits 1
when the committed stubs or proto copies differ from what the protos produce, or when one is
missing or has no source (CI runs it).

- Python: py_backend/worldbridge/v1/*_pb2*.py(i), by grpcio-tools.
- C#: unity_package/Runtime/Generated/*.g.cs. Messages by the system ``protoc`` (pinned to
  the 3.21 series, Debian bookworm's ``protobuf-compiler``, so output is reproducible); the
  service client by scripts/csharp_grpc.py from the same descriptors; each with a Unity
  .meta whose GUID is derived from its path.
- Unreal: unreal_plugin/WorldBridge/Protos/worldbridge/v1/*.proto, byte-for-byte copies of
  protos/worldbridge/v1/*.proto. The plugin folder is copied into a project on its own
  (<Project>/Plugins/WorldBridge), so the protos travel inside it; its ThirdParty build scripts
  and unreal_plugin/CMakeLists.txt compile these copies.
- C++ stubs are not committed: CMake and the Unreal ThirdParty build generate them with the
  protoc that matches the libraries they link.

Usage:
    python scripts/gen_protos.py            # regenerate in place
    python scripts/gen_protos.py --check    # verify, change nothing
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = Path("worldbridge") / "v1"
PY_DIR = Path("py_backend") / PACKAGE_DIR
CS_DIR = Path("unity_package") / "Runtime" / "Generated"
UNREAL_PROTO_DIR = Path("unreal_plugin") / "WorldBridge" / "Protos" / PACKAGE_DIR
PY_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
CS_SUFFIX = ".g.cs"
CS_META_SUFFIX = ".g.cs.meta"
# Unity skips package files without a .meta; the GUID is derived from the file's path so
# regenerating never changes it.
CS_META = """fileFormatVersion: 2
guid: {guid}
MonoImporter:
  externalObjects: {{}}
  serializedVersion: 2
  defaultReferences: []
  executionOrder: 0
  icon: {{instanceID: 0}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""  # noqa: W291 (Unity writes these keys with a trailing space; the .meta files match its output)
CS_PROTOC_SERIES = "3.21."


def _protos(proto_root: Path = PROTO_ROOT) -> list[str]:
    protos = sorted(str(p.relative_to(proto_root)) for p in (proto_root / PACKAGE_DIR).glob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {proto_root / PACKAGE_DIR}")
    return protos


def _generate_python(root: Path, proto_root: Path = PROTO_ROOT) -> None:
    import grpc_tools
    from grpc_tools import protoc  # dev dependency

    include = Path(grpc_tools.__file__).parent / "_proto"
    out = root / "py_backend"
    args = ["protoc", f"-I{proto_root}", f"-I{include}", f"--python_out={out}",
            f"--pyi_out={out}", f"--grpc_python_out={out}", *_protos(proto_root)]
    if protoc.main(args) != 0:
        raise SystemExit("protoc (grpcio-tools) failed")


def _system_protoc() -> str:
    exe = shutil.which("protoc")
    if exe is None:
        raise SystemExit("protoc not found: the C# stubs need protobuf-compiler "
                         f"{CS_PROTOC_SERIES}x (apt-get install protobuf-compiler)")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[-1]
    if not version.startswith(CS_PROTOC_SERIES):
        raise SystemExit(f"protoc {version} at {exe}: the committed C# stubs come from "
                         f"{CS_PROTOC_SERIES}x; use that series so the output is reproducible")
    return exe


def _generate_csharp(root: Path, proto_root: Path = PROTO_ROOT) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from csharp_grpc import service_source
    from google.protobuf import descriptor_pb2, descriptor_pool

    out = root / CS_DIR
    protoc = _system_protoc()
    with tempfile.TemporaryDirectory() as tmp:
        desc_set = Path(tmp) / "set.pb"
        subprocess.run([protoc, f"-I{proto_root}", f"--csharp_out={out}",
                        f"--csharp_opt=file_extension={CS_SUFFIX}", "--include_imports",
                        f"--descriptor_set_out={desc_set}", *_protos(proto_root)], check=True)
        files = descriptor_pb2.FileDescriptorSet.FromString(desc_set.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in files.file:
        pool.Add(f)
    for proto in _protos(proto_root):
        fd = pool.FindFileByName(proto)
        stem = "".join(p.capitalize() for p in re.split(r"[_.]", Path(proto).stem))
        for service in fd.services_by_name.values():
            text = service_source(fd, service, proto, reflection_class=f"{stem}Reflection")
            (out / f"{stem}Grpc{CS_SUFFIX}").write_text(text)
    for source in out.glob(f"*{CS_SUFFIX}"):
        guid = hashlib.md5(f"com.worldbridge.client/{CS_DIR.relative_to('unity_package')}/"
                           f"{source.name}".encode()).hexdigest()
        source.with_name(source.name + ".meta").write_text(CS_META.format(guid=guid))


def _copy_protos(root: Path, proto_root: Path = PROTO_ROOT) -> None:
    """The Unreal plugin's copies of the protos, byte for byte."""
    out = root / UNREAL_PROTO_DIR
    out.mkdir(parents=True, exist_ok=True)
    for proto in _protos(proto_root):
        shutil.copyfile(proto_root / proto, out / Path(proto).name)


def _is_generated(path: Path) -> bool:
    return path.name.endswith(PY_SUFFIXES + (CS_SUFFIX, CS_META_SUFFIX))


def _listing(root: Path) -> list[Path]:
    """Everything this script writes under ``root``. In the Unreal proto folder that is every
    file (anything else there would ship with the plugin without a source in protos/)."""
    found = []
    for d in (PY_DIR, CS_DIR):
        if (root / d).is_dir():
            found += [p.relative_to(root) for p in (root / d).iterdir() if _is_generated(p)]
    if (root / UNREAL_PROTO_DIR).is_dir():
        found += [p.relative_to(root) for p in (root / UNREAL_PROTO_DIR).iterdir()]
    return sorted(found)


def generate(root: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Write every stub and proto copy under ``root`` (mirroring the repo layout) from the protos
    in ``proto_root``; return their paths."""
    for d in (PY_DIR, CS_DIR):
        (root / d).mkdir(parents=True, exist_ok=True)
    _generate_python(root, proto_root)
    _generate_csharp(root, proto_root)
    _copy_protos(root, proto_root)
    return _listing(root)


def check(root: Path = ROOT) -> list[str]:
    """Differences between the stubs and proto copies under ``root`` and what ``root``/protos
    makes (empty = in sync)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        fresh = generate(fresh_root, root / "protos")
        have = _listing(root)
        problems = [f"missing: {p}" for p in fresh if p not in have]
        problems += [f"stale (no proto makes it): {p}" for p in have if p not in fresh]
        problems += [f"differs: {p}" for p in fresh
                     if p in have and not filecmp.cmp(fresh_root / p, root / p, shallow=False)]
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
            print("stubs or proto copies are out of date: run python scripts/gen_protos.py")
        return 1 if problems else 0
    for p in _listing(ROOT):
        (ROOT / p).unlink()
    for p in generate(ROOT):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

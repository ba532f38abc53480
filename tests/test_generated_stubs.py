"""The committed protobuf/gRPC stubs and the Unreal plugin's proto copies are exactly what
scripts/gen_protos.py makes from protos/."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_stubs_match_protos():
    pytest.importorskip("grpc_tools")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_enum_values_match_python_mirrors():
    """Python enums that mirror wire enums must keep the wire values."""
    from worldbridge.geometry import Convention, DepthEncoding, DepthKind
    from worldbridge.v1 import camera_pb2, image_pb2
    from worldbridge.wire.texture import RowOrder, TextureFormat

    pairs = [(Convention, camera_pb2.Convention, "CONVENTION_"),
             (DepthEncoding, image_pb2.DepthEncoding, "DEPTH_ENCODING_"),
             (DepthKind, image_pb2.DepthKind, "DEPTH_KIND_"),
             (TextureFormat, image_pb2.TextureFormat, "TEXTURE_FORMAT_"),
             (RowOrder, image_pb2.RowOrder, "ROW_ORDER_")]
    for py_enum, wire_enum, prefix in pairs:
        wire = {name[len(prefix):]: value for name, value in wire_enum.items()}
        assert {m.name: int(m) for m in py_enum} == wire, py_enum.__name__


def _gen_protos():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_protos
    finally:
        sys.path.pop(0)
    return gen_protos


@pytest.fixture
def repo_copy(tmp_path):
    """The parts of the repository gen_protos.py reads and writes, copied into a temp root."""
    pytest.importorskip("grpc_tools")
    gen_protos = _gen_protos()
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    for rel in gen_protos._listing(ROOT):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, tmp_path / rel)
    assert gen_protos.check(tmp_path) == []
    return gen_protos, tmp_path


def test_unreal_proto_copies_are_checked(repo_copy):
    """--check fails when the Unreal plugin's copy of a proto differs from protos/, when one is
    missing, and when the plugin's proto folder holds a file no proto makes."""
    gen_protos, root = repo_copy
    copies = root / gen_protos.UNREAL_PROTO_DIR
    edited = copies / "camera.proto"
    edited.write_text(edited.read_text() + "\n// edited\n")
    (copies / "session.proto").unlink()
    (copies / "extra.proto").write_text('syntax = "proto3";\n')
    rel = gen_protos.UNREAL_PROTO_DIR
    assert sorted(gen_protos.check(root)) == sorted([
        f"differs: {rel / 'camera.proto'}",
        f"missing: {rel / 'session.proto'}",
        f"stale (no proto makes it): {rel / 'extra.proto'}",
    ])


def test_unreal_proto_copies_follow_protos(repo_copy):
    """A change in protos/ is a change the plugin's copy must follow."""
    gen_protos, root = repo_copy
    source = root / "protos" / "worldbridge" / "v1" / "image.proto"
    source.write_text(source.read_text() + "\n// edited\n")
    problems = gen_protos.check(root)
    assert f"differs: {gen_protos.UNREAL_PROTO_DIR / 'image.proto'}" in problems

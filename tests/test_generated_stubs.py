"""The committed protobuf/gRPC stubs are exactly what scripts/gen_protos.py makes from protos/."""

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
    from worldbridge.serving.texture import RowOrder, TextureFormat
    from worldbridge.v1 import camera_pb2, image_pb2

    pairs = [(Convention, camera_pb2.Convention, "CONVENTION_"),
             (DepthEncoding, image_pb2.DepthEncoding, "DEPTH_ENCODING_"),
             (DepthKind, image_pb2.DepthKind, "DEPTH_KIND_"),
             (TextureFormat, image_pb2.TextureFormat, "TEXTURE_FORMAT_"),
             (RowOrder, image_pb2.RowOrder, "ROW_ORDER_")]
    for py_enum, wire_enum, prefix in pairs:
        wire = {name[len(prefix):]: value for name, value in wire_enum.items()}
        assert {m.name: int(m) for m in py_enum} == wire, py_enum.__name__

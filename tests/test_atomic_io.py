"""The one atomic-write utility (worldbridge.atomic_io) and its use everywhere a file is replaced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worldbridge.atomic_io import atomic_path, atomic_write_bytes, atomic_write_text, temp_path

PACKAGE = Path(__file__).resolve().parents[1] / "py_backend" / "worldbridge"


def test_a_completed_write_replaces_the_file(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    atomic_write_text(target, "new", fsync=True)
    assert target.read_text() == "new"
    atomic_write_bytes(target, memoryview(b"bytes"))
    assert target.read_bytes() == b"bytes"
    assert not temp_path(target).exists()


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "weights.safetensors"
    target.write_bytes(b"old weights")
    with pytest.raises(RuntimeError, match="writer failed"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half of the new")
            raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old weights"
    assert not temp_path(target).exists() and temp_path(target).name == ".weights.safetensors.tmp"


def test_files_are_replaced_only_through_atomic_io():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "atomic_io.py" or "v1" in path.parts:
            continue
        code = path.read_text(encoding="utf-8")
        if re.search(r"\bos\.(replace|rename)\(|\btmp\w*\.replace\(", code):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert not offenders, f"replace files with worldbridge.atomic_io, not by hand: {offenders}"

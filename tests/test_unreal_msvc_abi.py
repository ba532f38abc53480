"""Win64 export rules for the Unreal plugin's engine-layer headers, checked without the engine.

clang in MSVC mode (``--target=x86_64-pc-windows-msvc -fms-extensions -fms-compatibility``)
compiles ``unreal_plugin/tests/msvc_abi/check_exports.cpp``: the exported headers
(``WORLDBRIDGE_API`` / ``WORLDBRIDGEEDITOR_API`` as ``__declspec(dllexport)``) against stand-ins
for the few engine types they use, so an exported class whose implicit copy constructor cannot be
defined (a move-only member such as ``TArray<TFuture<void>>``) fails here as it fails under MSVC.
``known_bad.cpp`` must fail, which proves the stand-ins still reproduce the rule. What can and
cannot be compiled this way is listed at the top of check_exports.cpp.

Without clang these tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ABI_DIR = REPO / "unreal_plugin" / "tests" / "msvc_abi"
SOURCE = REPO / "unreal_plugin" / "WorldBridge" / "Source"
INCLUDES = [ABI_DIR / "include", SOURCE / "WorldBridge" / "Public", SOURCE / "WorldBridgeEditor" / "Public"]
MSVC_FLAGS = ["--target=x86_64-pc-windows-msvc", "-fms-extensions", "-fms-compatibility",
              "-std=c++20", "-fsyntax-only"]


@pytest.fixture(scope="module")
def clang() -> str:
    exe = shutil.which("clang++") or shutil.which("clang")
    if exe is None:
        reason = "clang is not installed (Debian: apt-get install clang)"
        if os.environ.get("CI"):
            pytest.fail(f"the MSVC export check must run in CI: {reason}")
        pytest.skip(reason)
    return exe


def _compile(clang: str, source: Path) -> subprocess.CompletedProcess:
    cmd = [clang, *MSVC_FLAGS, *(f"-I{d}" for d in INCLUDES), str(source)]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_exported_headers_compile_with_dllexport(clang):
    result = _compile(clang, ABI_DIR / "check_exports.cpp")
    assert result.returncode == 0, result.stdout + result.stderr


def test_move_only_member_of_exported_class_is_caught(clang):
    result = _compile(clang, ABI_DIR / "known_bad.cpp")
    assert result.returncode != 0, "known_bad.cpp compiled: the check no longer reproduces dllexport"
    assert "deleted" in result.stderr, result.stderr

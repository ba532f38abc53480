"""The Unreal plugin's gRPC build scripts and module rules, checked without the engine or vcpkg.

- ``resolve-libs.sh`` turns what vcpkg installed into the ordered link list of
  ``link-libraries.txt``: protobuf without protobuf-lite, OpenSSL and zlib left to the engine,
  and a hard stop on any library the list does not know (tried on empty stand-in files named
  like vcpkg's Linux and Windows output).
- The shell scripts parse (``bash -n``) and pass shellcheck.
- Every triplet builds with the engine's flags (no RTTI; hidden visibility off Windows).
- Every Build.cs warning setting is guarded by engine version, and gRPC.Build.cs links the
  libraries of ``libs.txt`` rather than whatever its lib folder holds.

shellcheck is skipped locally when missing and required in CI (``CI`` set).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "unreal_plugin" / "WorldBridge" / "Source"
GRPC_DIR = SOURCE / "ThirdParty" / "gRPC"
RESOLVE = GRPC_DIR / "resolve-libs.sh"
SCRIPTS = [GRPC_DIR / "build.sh", RESOLVE]

# What vcpkg installs for gRPC, protobuf, abseil and their dependencies (a representative set;
# the upb and abseil names vary between releases, which the list's patterns absorb).
CORE_LIBS = ["grpc++", "grpc", "gpr", "address_sorting", "upb_base_lib", "upb_mem_lib",
             "upb_wire_lib", "re2", "cares", "protobuf", "utf8_validity", "utf8_range",
             "absl_base", "absl_strings", "absl_synchronization"]
NOT_LINKED = ["protobuf-lite", "protoc", "grpc_unsecure", "grpc++_unsecure", "grpc++_reflection",
              "grpc_plugin_support", "ssl", "crypto"]
EXPECTED_ORDER = ["grpc++", "grpc", "gpr", "address_sorting", "upb_base_lib", "upb_mem_lib",
                  "upb_wire_lib", "re2", "cares", "protobuf", "utf8_validity", "utf8_range",
                  "absl_base", "absl_strings", "absl_synchronization"]


def _linux_file(name: str) -> str:
    return f"lib{name}.a"


def _windows_file(name: str) -> str:
    # vcpkg's Windows names: protobuf and OpenSSL keep their "lib" prefix, the rest have none.
    return f"lib{name}.lib" if name in ("protobuf", "protobuf-lite", "protoc", "ssl", "crypto") else f"{name}.lib"


def _resolve(lib_dir: Path, ext: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RESOLVE), str(lib_dir), ext], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("ext, file_of, zlib", [("a", _linux_file, "libz.a"),
                                                ("lib", _windows_file, "zlib.lib")])
def test_link_list_orders_and_filters(tmp_path, ext, file_of, zlib):
    for name in CORE_LIBS + NOT_LINKED:
        (tmp_path / file_of(name)).touch()
    (tmp_path / zlib).touch()
    result = _resolve(tmp_path, ext)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [file_of(name) for name in EXPECTED_ORDER]


def test_link_list_rejects_unknown_and_missing_libraries(tmp_path):
    for name in CORE_LIBS:
        if name != "re2":
            (tmp_path / _linux_file(name)).touch()
    (tmp_path / "libsomething_new.a").touch()
    result = _resolve(tmp_path, "a")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "libsomething_new.a" in result.stderr
    assert "not installed: re2" in result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_pass_shellcheck(script):
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI"):
            pytest.fail("shellcheck must run in CI (apt-get install shellcheck)")
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_triplets_use_engine_flags():
    triplets = sorted((GRPC_DIR / "triplets").glob("*-ue.cmake"))
    assert len(triplets) == 4, triplets
    for triplet in triplets:
        text = triplet.read_text()
        assert "WORLDBRIDGE_GRPC_RTTI" in text.split("VCPKG_ENV_PASSTHROUGH", 1)[1].splitlines()[0], triplet.name
        if "windows" in triplet.name:
            assert 'set(WORLDBRIDGE_RTTI_FLAG "/GR-")' in text, triplet.name
        else:
            assert 'set(WORLDBRIDGE_RTTI_FLAG "-fno-rtti")' in text, triplet.name
            assert "-fvisibility=hidden -fvisibility-inlines-hidden ${WORLDBRIDGE_RTTI_FLAG}" in text, triplet.name
    toolchain = (GRPC_DIR / "toolchains" / "ue-linux-clang.cmake").read_text()
    assert "${VCPKG_CXX_FLAGS}" in toolchain and "${VCPKG_C_FLAGS}" in toolchain


WARNING_SETTINGS = re.compile(r"\b(bEnableUndefinedIdentifierWarnings|UndefinedIdentifierWarningLevel|"
                              r"ShadowVariableWarningLevel|bEnableShadowVariableWarnings|"
                              r"CppCompileWarningSettings)\b")


def test_build_cs_warning_settings_are_guarded_by_engine_version():
    build_files = sorted(SOURCE.rglob("*.Build.cs"))
    assert len(build_files) == 4, build_files
    for path in build_files:
        depth = 0
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("#if"):
                depth += 1
            elif stripped.startswith("#endif"):
                depth -= 1
            elif WARNING_SETTINGS.search(stripped) and not stripped.startswith("//"):
                assert depth > 0, f"{path.name}:{number}: warning setting outside #if UE_x_y_OR_LATER"


def test_grpc_build_cs_links_the_resolved_list():
    text = (GRPC_DIR / "gRPC.Build.cs").read_text()
    assert '"libs.txt"' in text
    assert "Directory.GetFiles" not in text

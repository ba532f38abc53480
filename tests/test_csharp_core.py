"""The Unity package's engine-free C# core, compiled with Mono and tested with NUnit 2.6.

The same NUnit tests run inside Unity's Test Runner (Tests/Editor); here they run under
Debian's Mono so CI checks the core without Unity. Mono and NUnit missing skip these tests,
except under CI (env CI set), where that is a failure.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "unity_package"
CORE = PACKAGE / "Runtime" / "Core"
CORE_TESTS = PACKAGE / "Tests" / "Editor"
VECTORS = ROOT / "tests" / "vectors"
MIN_TESTS = 70


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI: "
                    "apt-get install mono-mcs mono-runtime nunit-console libnunit-cil-dev)")
    pytest.skip(reason)


def _nunit_framework() -> str | None:
    try:
        libs = subprocess.run(["pkg-config", "--libs", "nunit"], check=False, capture_output=True, text=True,
                              timeout=30).stdout
        for token in libs.split():
            path = token.removeprefix("-r:")
            if path.endswith("nunit.framework.dll") and Path(path).is_file():
                return path
    except (OSError, subprocess.SubprocessError):
        pass
    found = sorted(glob.glob("/usr/lib/cli/nunit.framework-*/nunit.framework.dll"))
    return found[-1] if found else None


@pytest.fixture(scope="module")
def toolchain() -> dict[str, str]:
    tools = {name: shutil.which(name) for name in ("mcs", "mono", "nunit-console")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        _skip_or_fail(f"Mono/NUnit tools not found: {', '.join(missing)}")
    framework = _nunit_framework()
    if framework is None:
        _skip_or_fail("nunit.framework.dll not found (pkg-config nunit, /usr/lib/cli/nunit.framework-*)")
    tools["nunit.framework"] = framework
    return tools


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300):
    r = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    return r, f"$ {' '.join(cmd)}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"


def _compile(toolchain, out: Path, sources: list[Path], refs: list[str]) -> None:
    assert sources, "no C# sources"
    cmd = [toolchain["mcs"], "-target:library", "-langversion:7.2", "-warnaserror+", "-nowarn:1591",
           f"-out:{out}", *[f"-r:{r}" for r in refs], *map(str, sources)]
    r, log = _run(cmd, out.parent)
    assert r.returncode == 0, log


@pytest.fixture(scope="module")
def core_dll(toolchain, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csharp") / "WorldBridge.Core.dll"
    _compile(toolchain, out, sorted(CORE.glob("*.cs")), [])
    return out


def test_core_compiles_without_warnings(core_dll):
    assert core_dll.is_file()


def test_core_nunit_suite_passes(toolchain, core_dll):
    work = core_dll.parent
    tests_dll = work / "WorldBridge.Core.Tests.dll"
    _compile(toolchain, tests_dll, sorted(CORE_TESTS.glob("*.cs")),
             [str(core_dll), toolchain["nunit.framework"], "System.Runtime.Serialization"])
    shutil.copy(toolchain["nunit.framework"], work)
    result_xml = work / "TestResult.xml"
    env = dict(os.environ, WORLDBRIDGE_VECTORS=str(VECTORS / "conventions.json"))
    r, log = _run([toolchain["nunit-console"], "-nologo", "-noshadow", f"-xml={result_xml}", str(tests_dll)],
                  work, env=env)
    assert result_xml.is_file(), log
    root = ET.parse(result_xml).getroot()
    counts = {k: int(root.get(k, "0")) for k in
              ("total", "errors", "failures", "not-run", "inconclusive", "ignored", "skipped", "invalid")}
    assert r.returncode == 0, log
    assert counts["errors"] == 0 and counts["failures"] == 0, f"{counts}\n{log}"
    assert counts["ignored"] == 0 and counts["not-run"] == 0 and counts["invalid"] == 0, f"{counts}\n{log}"
    assert counts["total"] >= MIN_TESTS, f"only {counts['total']} tests ran (expected >= {MIN_TESTS})\n{log}"


def test_core_is_engine_free():
    offenders = []
    for path in sorted(CORE.glob("*.cs")):
        # Comments may name Unity APIs for reference; code may not use them.
        code = re.sub(r"//.*", "", path.read_text(encoding="utf-8"))
        code = re.sub(r"/\*.*?\*/", "", code, flags=re.DOTALL)
        # String literals may hold Unity type names (RenderPipelines matches asset types by name).
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
        for word in ("UnityEngine", "UnityEditor"):
            if word in code:
                offenders.append(f"{path.relative_to(ROOT)} uses {word}")
    assert not offenders, "\n".join(offenders)
    asmdef = json.loads((CORE / "WorldBridge.Core.asmdef").read_text(encoding="utf-8"))
    assert asmdef["noEngineReferences"] is True
    assert asmdef.get("references", []) == []


def test_core_enums_match_the_wire():
    from worldbridge.v1 import camera_pb2, image_pb2, session_pb2

    def cs_enum(file: str, name: str) -> dict[str, int]:
        text = (CORE / file).read_text(encoding="utf-8")
        body = re.search(r"enum\s+" + name + r"\s*\{(.*?)\}", text, re.DOTALL).group(1)
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"(\w+)\s*=\s*(\d+)", body)}

    rows = cs_enum("RowOrder.cs", "ImageRowOrder")
    assert rows == {"Unspecified": image_pb2.ROW_ORDER_UNSPECIFIED, "TopDown": image_pb2.ROW_ORDER_TOP_DOWN,
                    "BottomUp": image_pb2.ROW_ORDER_BOTTOM_UP}
    depth = cs_enum("DepthPacking.cs", "DepthEncodingKind")
    assert depth == {"Float32M": image_pb2.DEPTH_ENCODING_FLOAT32_M, "Float16M": image_pb2.DEPTH_ENCODING_FLOAT16_M}
    anchor_lock = cs_enum("SessionOptions.cs", "AnchorLockMode")
    assert anchor_lock == {"ServerDefault": session_pb2.ANCHOR_LOCK_UNSPECIFIED, "On": session_pb2.ANCHOR_LOCK_ON,
                           "Off": session_pb2.ANCHOR_LOCK_OFF}
    pose = (CORE / "PosePacking.cs").read_text(encoding="utf-8")
    assert int(re.search(r"ConventionUnity\s*=\s*(\d+)", pose).group(1)) == camera_pb2.CONVENTION_UNITY


def test_package_manifests_are_valid():
    package = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))
    assert package["name"] == "com.worldbridge.client"
    assert package["unity"] == "2021.3"
    for sample in package["samples"]:
        assert (PACKAGE / sample["path"]).is_dir(), sample
    names = set()
    for path in PACKAGE.rglob("*.asmdef"):
        asmdef = json.loads(path.read_text(encoding="utf-8"))
        names.add(asmdef["name"])
    assert {"WorldBridge.Core", "WorldBridge.Runtime", "WorldBridge.Editor", "WorldBridge.Core.Tests"} <= names


def test_package_assets_have_meta_files():
    """Unity ignores files without .meta in an immutable (git or registry) package."""
    missing = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if path.name.endswith(".meta") or any(part.endswith("~") or part.startswith(".") for part in rel.parts):
            continue
        if rel.parts[:2] == ("Runtime", "Generated") and len(rel.parts) > 2:
            continue  # written by scripts/gen_protos.py
        if not path.with_name(path.name + ".meta").is_file():
            missing.append(str(rel))
    assert not missing, "missing .meta files: " + ", ".join(missing)
    guids = {}
    for meta in PACKAGE.rglob("*.meta"):
        guid = re.search(r"^guid: ([0-9a-f]{32})$", meta.read_text(encoding="utf-8"), re.MULTILINE).group(1)
        assert guid not in guids, f"{meta} reuses the guid of {guids[guid]}"
        guids[guid] = meta

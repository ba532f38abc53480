"""The whole Unity package compiles with Mono's mcs against API-surface stubs, warnings as errors.

tests/unity_stubs/<assembly>/ holds stubs of exactly the members the package uses of UnityEngine,
UnityEditor, uGUI, the render pipelines, Google.Protobuf, Grpc.Core.Api, Grpc.Net.Client and
YetAnotherHttpHandler, each compiled into a DLL named like the real assembly. The package's
assemblies are then compiled as their asmdefs define them: sources by folder, references from
``references`` and ``precompiledReferences`` through the real-name table
tests/unity_stubs/assemblies.json (so a wrong name in an asmdef fails here), the engine for
assemblies without ``noEngineReferences``, and UnityEditor plus UNITY_EDITOR for Editor-only ones.
Code that branches on a Unity version define compiles once as Unity 2021.3 and once with every
such define set. Mono missing skips these tests, except under CI (env CI set).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "unity_package"
STUBS = ROOT / "tests" / "unity_stubs"
TABLE_PATH = STUBS / "assemblies.json"
SAMPLES = PACKAGE / "Samples~"
LANGVERSION = "7.2"  # mcs 6.8's newest; Unity 2021.3 compiles C# 9, a superset.
# Part of Unity's .NET Standard 2.1 profile but not referenced by mcs by default.
FRAMEWORK = ["System.Net.Http"]
# The oldest Unity the package supports (package.json "unity").
MIN_UNITY = (2021, 3)
VERSION_DEFINE = re.compile(r"UNITY_(\d{4})_(\d)_OR_NEWER")
# Symbols Unity never defines for this package: protoc's generated code keeps its ref-struct
# (IBufferMessage) path unless this is set, and Unity does not set it.
NEVER_DEFINED = {"GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE"}


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI: apt-get install mono-mcs)")
    pytest.skip(reason)


def _load_table() -> dict[str, dict]:
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Assembly names: asmdef references, precompiledReferences and link.xml against the table.


def _asmdefs(package: Path) -> list[Path]:
    return sorted(package.rglob("*.asmdef"))


def check_assembly_names(package: Path, table: dict[str, dict]) -> list[str]:
    """Every name an asmdef or link.xml uses, checked against the package's asmdefs and the table."""
    problems = []
    own = {json.loads(p.read_text(encoding="utf-8"))["name"] for p in _asmdefs(package)}
    dlls = {name for name, row in table.items() if row["kind"] == "dll"}
    for path in _asmdefs(package):
        asmdef = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(package)
        for ref in asmdef.get("references", []):
            if ref.startswith("GUID:"):
                problems.append(f"{rel}: reference {ref} by GUID (name references are checked; use the name)")
            elif ref not in own and (ref not in table or table[ref]["kind"] == "dll"):
                problems.append(f"{rel}: reference {ref!r} is neither a package asmdef "
                                f"nor an asmdef/engine assembly in {TABLE_PATH.name}")
        for dll in asmdef.get("precompiledReferences", []):
            if not dll.endswith(".dll") or dll[: -len(".dll")] not in dlls:
                problems.append(f"{rel}: precompiledReferences entry {dll!r} "
                                f"is not <name>.dll of a dll in {TABLE_PATH.name}")
    for path in sorted(package.rglob("link.xml")):
        for node in ET.parse(path).getroot().iter("assembly"):
            name = node.get("fullname", "")
            if name not in own and name not in table:
                problems.append(f"{path.relative_to(package)}: assembly {name!r} "
                                f"is neither a package asmdef nor in {TABLE_PATH.name}")
    return problems


def test_table_rows_are_complete():
    for name, row in _load_table().items():
        assert row["kind"] in {"asmdef", "dll", "engine"}, name
        assert row["source"].strip(), name
        for dep in row.get("stub_references", []):
            assert dep in _load_table(), f"{name}: stub reference {dep} is not in the table"
        stub = STUBS / name
        assert stub.is_dir() == ("stub_references" in row), f"{name}: stub folder and stub_references disagree"
    for folder in STUBS.iterdir():
        if folder.is_dir():
            assert folder.name in _load_table(), f"stub folder {folder.name} has no row in {TABLE_PATH.name}"


def test_every_assembly_name_is_real():
    problems = check_assembly_names(PACKAGE, _load_table())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("mutation", ["reference", "precompiled", "linkxml"])
def test_name_check_catches_a_wrong_name(tmp_path, mutation):
    copy = tmp_path / "unity_package"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.cs", "*.meta", "*.shader", "*.md"))
    asmdef_path = copy / "Runtime" / "WorldBridge.Runtime.asmdef"
    asmdef = json.loads(asmdef_path.read_text(encoding="utf-8"))
    if mutation == "reference":
        asmdef["references"].append("YetAnotherHttpHandler")
    elif mutation == "precompiled":
        asmdef["precompiledReferences"].append("Grpc.Net.Client")  # no .dll
    else:
        link = copy / "Runtime" / "link.xml"
        link.write_text(link.read_text(encoding="utf-8").replace(
            "</linker>", '  <assembly fullname="Grpc.Net.Clients" preserve="all" />\n</linker>'), encoding="utf-8")
    asmdef_path.write_text(json.dumps(asmdef), encoding="utf-8")
    problems = check_assembly_names(copy, _load_table())
    assert len(problems) == 1, problems


# ---------------------------------------------------------------------------------------------
# Compiling.


@dataclass
class Unit:
    """One assembly Unity would compile from the package."""

    name: str
    sources: list[Path]
    references: list[str]  # assembly names: package asmdefs or table rows
    defines: set[str] = field(default_factory=set)
    engine: bool = True
    editor: bool = False


def _code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return re.sub(r"/\*.*?\*/", "", re.sub(r"//.*", "", text), flags=re.DOTALL)


def _sources_under(folder: Path, other_roots: list[Path]) -> list[Path]:
    return sorted(p for p in folder.rglob("*.cs")
                  if not any(folder in root.parents and root in p.parents for root in other_roots)
                  and not any(part.endswith("~") for part in p.relative_to(folder).parts[:-1]))


def package_units() -> list[Unit]:
    """The package's assemblies (Tests/ excluded: test_csharp_core.py compiles those), in dependency order."""
    defs = [p for p in _asmdefs(PACKAGE) if "Tests" not in p.relative_to(PACKAGE).parts]
    roots = [p.parent for p in defs]
    units: dict[str, Unit] = {}
    for path in defs:
        asmdef = json.loads(path.read_text(encoding="utf-8"))
        editor = asmdef.get("includePlatforms", []) == ["Editor"]
        defines = set(asmdef.get("defineConstraints", []))
        # A define constraint satisfied by the asmdef's own versionDefines: compile as when the
        # package that sets it is installed (the stubs stand in for that package).
        defines |= {v["define"] for v in asmdef.get("versionDefines", [])}
        refs = list(asmdef.get("references", []))
        refs += [d[: -len(".dll")] for d in asmdef.get("precompiledReferences", [])]
        units[asmdef["name"]] = Unit(asmdef["name"], _sources_under(path.parent, roots), refs, defines,
                                     engine=not asmdef.get("noEngineReferences", False), editor=editor)
    # Unity compiles an imported sample into Assembly-CSharp, which references every
    # auto-referenced assembly: the package's runtime ones, uGUI and the plugin DLLs.
    for sample in sorted(p for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.is_dir() else []:
        auto = [u for u in units.values() if not u.editor
                and json.loads(_asmdef_of(u.name).read_text(encoding="utf-8")).get("autoReferenced", True)]
        refs = [u.name for u in auto] + ["UnityEngine.UI"]
        refs += sorted({r for u in auto for r in u.references if _load_table().get(r, {}).get("kind") == "dll"})
        units["Assembly-CSharp (" + sample.name + ")"] = Unit("Assembly-CSharp", _sources_under(sample, []), refs)
    return _ordered(units)


def _asmdef_of(name: str) -> Path:
    return next(p for p in _asmdefs(PACKAGE) if json.loads(p.read_text(encoding="utf-8"))["name"] == name)


def _ordered(units: dict[str, Unit]) -> list[Unit]:
    done: list[Unit] = []
    seen: set[str] = set()

    def visit(key: str) -> None:
        if key in seen:
            return
        seen.add(key)
        for ref in units[key].references:
            if ref in units:
                visit(ref)
        done.append(units[key])

    for key in units:
        visit(key)
    return done


def _symbols(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*#\s*(?:if|elif)\b(.*)", line)
            if m:
                found |= set(re.findall(r"[A-Za-z_]\w*", m.group(1))) - {"true", "false"}
    return found


def configurations(units: list[Unit]) -> list[tuple[str, set[str]]]:
    """Unity version define sets to compile with: 2021.3, plus every version define the code tests."""
    used = _symbols([s for u in units for s in u.sources] + sorted(STUBS.rglob("*.cs")))
    versions = {s for s in used if VERSION_DEFINE.fullmatch(s)}
    base = {s for s in versions if tuple(map(int, VERSION_DEFINE.fullmatch(s).groups())) <= MIN_UNITY}
    configs = [("Unity 2021.3", base)]
    if versions - base:
        configs.append(("every version define", set(versions)))
    return configs


def test_code_branches_only_on_known_symbols():
    units = package_units()
    own_defines = {d for u in units for d in u.defines}
    used = _symbols([s for u in units for s in u.sources])
    unknown = {s for s in used if not VERSION_DEFINE.fullmatch(s)} - NEVER_DEFINED - own_defines - {"UNITY_EDITOR"}
    assert not unknown, f"compile-time symbols this test does not know how to set: {sorted(unknown)}"


@pytest.fixture(scope="module")
def mcs() -> str:
    path = shutil.which("mcs")
    if path is None:
        _skip_or_fail("mcs (Mono C# compiler) not found")
    return path


def _compile(mcs: str, out: Path, sources: list[Path], refs: list[str], defines: set[str]) -> None:
    assert sources, f"no C# sources for {out.name}"
    cmd = [mcs, "-target:library", f"-langversion:{LANGVERSION}", "-warnaserror+", "-nowarn:1591",
           "-nologo", f"-out:{out}", *[f"-r:{r}" for r in refs], *map(str, sources)]
    if defines:
        cmd.insert(1, "-define:" + ";".join(sorted(defines)))
    r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"$ {' '.join(cmd)}\n{r.stdout}\n{r.stderr}"


def _build_stubs(mcs: str, out: Path, defines: set[str]) -> dict[str, Path]:
    table = _load_table()
    built: dict[str, Path] = {}
    pending = {name for name, row in table.items() if "stub_references" in row}
    with ThreadPoolExecutor(max_workers=2) as pool:
        while pending:
            ready = sorted(n for n in pending if all(d in built for d in table[n]["stub_references"]))
            assert ready, f"stub references form a cycle: {sorted(pending)}"
            jobs = {}
            for name in ready:
                dll = out / f"{name}.dll"
                refs = [str(built[d]) for d in table[name]["stub_references"]] + FRAMEWORK
                jobs[name] = pool.submit(_compile, mcs, dll, sorted((STUBS / name).rglob("*.cs")), refs, defines)
            for name, job in jobs.items():
                job.result()
                built[name] = out / f"{name}.dll"
            pending -= set(ready)
    return built


def _build_package(mcs: str, out: Path, stubs: dict[str, Path], version_defines: set[str]) -> list[Path]:
    table = _load_table()
    built: dict[str, Path] = {}
    compiled: list[Path] = []
    for unit in package_units():
        refs: list[str] = []
        for ref in unit.references:
            if ref in built:
                refs.append(str(built[ref]))
            elif ref in stubs:
                refs.append(str(stubs[ref]))
            else:
                # A real name (test_every_assembly_name_is_real) whose types the code does not use.
                assert ref in table and "stub_references" not in table[ref], f"{unit.name}: no assembly for {ref}"
        if unit.engine:
            refs.append(str(stubs["UnityEngine"]))
        defines = set(version_defines) | unit.defines
        if unit.editor:
            refs.append(str(stubs["UnityEditor"]))
            defines.add("UNITY_EDITOR")
        dll = out / f"{unit.name}.dll"
        _compile(mcs, dll, unit.sources, refs + FRAMEWORK, defines)
        if not unit.editor and "UNITY_EDITOR" in _symbols(unit.sources):
            # Runtime code with Editor-only branches: Unity also compiles it for the Editor.
            editor_dir = out / "editor"
            editor_dir.mkdir(exist_ok=True)
            _compile(mcs, editor_dir / dll.name, unit.sources, refs + [str(stubs["UnityEditor"])] + FRAMEWORK,
                     defines | {"UNITY_EDITOR"})
        built.setdefault(unit.name, dll)
        compiled += unit.sources
    return compiled


def test_package_compiles_against_the_stubs(mcs, tmp_path):
    units = package_units()
    names = [u.name for u in units]
    for required in ("WorldBridge.Core", "WorldBridge.Runtime", "WorldBridge.Editor", "Assembly-CSharp"):
        assert required in names, names
    expected = sorted(p for p in PACKAGE.rglob("*.cs") if "Tests" not in p.relative_to(PACKAGE).parts)
    for label, version_defines in configurations(units):
        out = tmp_path / re.sub(r"\W+", "_", label)
        out.mkdir()
        stubs = _build_stubs(mcs, out, version_defines)
        compiled = _build_package(mcs, out, stubs, version_defines)
        assert len(compiled) == len(set(compiled)), f"{label}: a file compiled into two assemblies"
        assert sorted(compiled) == expected, (
            f"{label}: compiled {len(compiled)} of {len(expected)} files; not compiled: "
            f"{sorted(str(p.relative_to(PACKAGE)) for p in set(expected) - set(compiled))}")


def test_engine_smoke_tests_compile(mcs, tmp_path):
    """Tests/Runtime (the PlayMode smoke tests a studio runs first) against the built package,
    the Test Framework stub and Debian's NUnit (Unity ships its own NUnit 3 build; the members
    used exist in both)."""
    from test_csharp_core import _nunit_framework

    nunit = _nunit_framework()
    if nunit is None:
        _skip_or_fail("nunit.framework.dll not found (libnunit-cil-dev)")
    folder = PACKAGE / "Tests" / "Runtime"
    asmdef = json.loads(next(folder.glob("*.asmdef")).read_text(encoding="utf-8"))
    assert "UNITY_INCLUDE_TESTS" in asmdef["defineConstraints"]
    stubs = _build_stubs(mcs, tmp_path, set())
    _build_package(mcs, tmp_path, stubs, set())
    refs = []
    for ref in asmdef["references"] + [d[: -len(".dll")] for d in asmdef["precompiledReferences"]]:
        if (tmp_path / f"{ref}.dll").is_file():
            refs.append(str(tmp_path / f"{ref}.dll"))
        elif ref == "nunit.framework":
            refs.append(nunit)
        else:  # the Editor half of the Test Framework: nothing in a PlayMode test uses it
            assert ref == "UnityEditor.TestRunner", ref
    _compile(mcs, tmp_path / f"{asmdef['name']}.dll", sorted(folder.glob("*.cs")),
             refs + [str(stubs["UnityEngine"])] + FRAMEWORK, {"UNITY_INCLUDE_TESTS"})

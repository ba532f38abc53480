"""The Unity package's manifest declares every Unity package and built-in module its code uses.

Unity resolves a package's ``dependencies`` when a studio adds it; a module used by the code but
not declared compiles only in projects that happen to have it enabled.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "unity_package"

# package id -> code patterns that need it (UnityCsReference: the module each API lives in).
MODULE_USES = {
    "com.unity.ugui": [r"\busing UnityEngine\.UI\b", r"\bRawImage\b"],
    "com.unity.modules.physics": [r"\bPhysics\.\w+"],
    "com.unity.modules.imageconversion": [r"\.LoadImage\(", r"\.EncodeTo(PNG|JPG|EXR|TGA)\(", r"\bImageConversion\."],
    "com.unity.modules.imgui": [r"\bEditorGUILayout\.", r"\bGUILayout\.", r"\bGUI\.\w+"],
}


def _code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"//.*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)


def _package_sources() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.cs")) if "Generated" not in p.parts]


def _needed_modules(sources: list[Path]) -> dict[str, list[str]]:
    needed: dict[str, list[str]] = {}
    for path in sources:
        code = _code(path)
        for module, patterns in MODULE_USES.items():
            if any(re.search(p, code) for p in patterns):
                needed.setdefault(module, []).append(path.name)
    return needed


def test_every_used_module_is_a_declared_dependency():
    manifest = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))
    declared = manifest.get("dependencies", {})
    needed = _needed_modules(_package_sources())
    missing = {m: files for m, files in needed.items() if m not in declared}
    assert not missing, f"package.json lacks dependencies used by: {missing}"
    unused = sorted(set(declared) - set(needed))
    assert not unused, f"package.json declares dependencies no code uses: {unused}"
    for name, version in declared.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version!r} is not a semantic version"


def test_asmdef_ui_reference_matches_the_ugui_dependency():
    declared = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8")).get("dependencies", {})
    for path in PACKAGE.rglob("*.asmdef"):
        refs = json.loads(path.read_text(encoding="utf-8")).get("references", [])
        if "UnityEngine.UI" in refs:
            assert "com.unity.ugui" in declared, f"{path.relative_to(PACKAGE)} references UnityEngine.UI"


def test_the_checker_finds_used_modules_and_ignores_comments(tmp_path):
    source = tmp_path / "Uses.cs"
    source.write_text("class A { void F() { UnityEngine.Physics.SyncTransforms(); tex.EncodeToPNG(); } }\n")
    comment_only = tmp_path / "Comment.cs"
    comment_only.write_text("// GUILayout.Label is mentioned here only\n/* RawImage too */\nclass B {}\n")
    assert _needed_modules([source, comment_only]) == {
        "com.unity.modules.physics": ["Uses.cs"], "com.unity.modules.imageconversion": ["Uses.cs"]}

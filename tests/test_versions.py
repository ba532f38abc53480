"""One version number for the Python package, the Unreal plugin and the Unity package."""

import json
import re
from pathlib import Path

import tomllib

import worldbridge

ROOT = Path(__file__).resolve().parents[1]


def _versions() -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    uplugin = json.loads((ROOT / "unreal_plugin" / "WorldBridge" / "WorldBridge.uplugin").read_text())
    package = json.loads((ROOT / "unity_package" / "package.json").read_text())
    unity_core = (ROOT / "unity_package" / "Runtime" / "Core" / "Version.cs").read_text()
    cpp_core = (ROOT / "unreal_plugin" / "WorldBridge" / "Source" / "WorldBridgeCore" / "Public"
                / "WorldBridgeCore" / "Version.h").read_text()
    return {
        "pyproject.toml": pyproject["project"]["version"],
        "worldbridge.__version__": worldbridge.__version__,
        "WorldBridge.uplugin VersionName": uplugin["VersionName"],
        "unity_package/package.json": package["version"],
        "Unity Runtime/Core/Version.cs": re.search(r'ClientVersion\s*=\s*"([^"]+)"', unity_core).group(1),
        "WorldBridgeCore/Version.h": re.search(r'kClientVersion\[\]\s*=\s*"([^"]+)"', cpp_core).group(1),
    }


def test_versions_in_lockstep():
    versions = _versions()
    assert len(set(versions.values())) == 1, versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", versions["pyproject.toml"])


def test_protocol_version_matches_clients():
    """The C++ and C# clients speak the backend's protocol major.minor."""
    from worldbridge import PROTOCOL_VERSION

    cpp = (ROOT / "unreal_plugin" / "WorldBridge" / "Source" / "WorldBridgeCore" / "Public"
           / "WorldBridgeCore" / "Client.h").read_text()
    major = int(re.search(r"kProtocolMajor\s*=\s*(\d+)", cpp).group(1))
    minor = int(re.search(r"kProtocolMinor\s*=\s*(\d+)", cpp).group(1))
    assert (major, minor) == tuple(PROTOCOL_VERSION)
    cs = (ROOT / "unity_package" / "Runtime" / "Core" / "Version.cs").read_text()
    assert int(re.search(r"ProtocolMajor\s*=\s*(\d+)", cs).group(1)) == PROTOCOL_VERSION[0]
    assert int(re.search(r"ProtocolMinor\s*=\s*(\d+)", cs).group(1)) == PROTOCOL_VERSION[1]

"""The wheel: built from a copy of the checkout, it carries the starter model, the generated
stubs and the Panda3D engine client; installed into a fresh virtual environment, away from
the checkout, its ``worldbridge demo`` runs and writes the preview.

Isolation: the wheel is built (offline, ``--no-build-isolation``) from a copy of
``pyproject.toml``, the other top-level files and ``py_backend/`` in a temporary directory,
so the checkout gets no ``build/`` or ``egg-info``. The virtual environment is made without
the system site-packages and without pip; the checkout's pip installs the wheel into it
(``pip --python``, ``--no-deps --no-index``). Its dependencies (numpy, grpcio, torch,
panda3d ...) come from this interpreter's site-packages, named by one ``.pth`` line: a path
line only appends that directory to ``sys.path``, Python does not run the ``.pth`` files in
it, so the checkout's editable install (``__editable__.worldbridge-*.pth``, which adds
``py_backend``) stays out, and the new environment's own site-packages comes first. The
tests check that ``worldbridge`` and its assets resolve inside the new environment and that
nothing of the checkout but that site-packages is on ``sys.path``; the demo runs with a
working directory outside the checkout and without ``PYTHONPATH``.

The demo test needs Panda3D and Mesa's EGL: like the other engine tests it skips (fails in
CI) when the ``panda_engine`` fixture cannot render offscreen.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_SIZE = 128


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def _clean_env(venv: Path) -> dict[str, str]:
    """The environment for the installed ``worldbridge``: no ``PYTHON*`` or
    ``WORLDBRIDGE_*`` variables (no ``PYTHONPATH``, no bundle override), no user site."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "WORLDBRIDGE_")) and k != "VIRTUAL_ENV"}
    env.update(PYTHONNOUSERSITE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return env


def _dependency_dirs() -> list[str]:
    """This interpreter's site-packages: numpy, grpcio, torch, panda3d ... (and the checkout's
    editable-install ``.pth``, which a path line in another ``.pth`` does not run)."""
    return list(dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``worldbridge-*.whl`` built offline from a copy of the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert not _inside(tmp, ROOT), f"{tmp} must lie outside the checkout"
    src = tmp / "src"
    src.mkdir()
    for f in ROOT.iterdir():  # pyproject.toml, README.md (the long description), ...
        if f.is_file():
            shutil.copy2(f, src / f.name)
    shutil.copytree(ROOT / "py_backend", src / "py_backend",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    out = tmp / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--no-index", "--disable-pip-version-check", "-q", "-w", str(out),
                        str(src)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = sorted(out.glob("worldbridge-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed and this interpreter's
    site-packages (not the checkout) providing the dependencies."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    r = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    python = root / "bin" / "python"
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                        "--no-deps", "--no-index", "--disable-pip-version-check", "-q",
                        str(wheel)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = subprocess.run([str(python), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True,
                          env=_clean_env(root)).stdout.strip()
    (Path(site) / "_worldbridge_test_dependencies.pth").write_text(
        "\n".join(_dependency_dirs()) + "\n")
    return root


def _in_venv(venv: Path, code: str, cwd: Path) -> dict:
    r = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=cwd, capture_output=True,
                       text=True, timeout=120, env=_clean_env(venv))
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


_WHERE = """
import importlib.metadata, importlib.resources, json, sys
import worldbridge, worldbridge.cli, worldbridge.demo, worldbridge.v1.service_pb2
modules = [worldbridge, worldbridge.cli, worldbridge.demo, worldbridge.v1.service_pb2]
if ENGINE:  # the Panda3D client too (needs the `engine` extra)
    import worldbridge.engines.panda3d.client, worldbridge.engines.panda3d.record
    modules += [worldbridge.engines.panda3d.client, worldbridge.engines.panda3d.record]
print(json.dumps({
    "sys_path": sys.path, "files": [m.__file__ for m in modules],
    "dist": str(importlib.metadata.distribution("worldbridge").locate_file("")),
    "starter": str(importlib.resources.files("worldbridge") / "assets" / "starter_model"),
}))
"""


def _check_resolves_in_venv(venv: Path, cwd: Path, engine: bool = False) -> None:
    where = _in_venv(venv, _WHERE.replace("ENGINE", str(engine)), cwd)
    for f in where["files"]:
        assert _inside(f, venv) and not _inside(f, ROOT), f"{f} is not the installed copy"
    assert _inside(where["dist"], venv), where["dist"]
    starter = Path(where["starter"])
    assert _inside(starter, venv) and (starter / "model.safetensors").is_file(), starter
    # the checkout's .venv may hold the dependencies; nothing else of the checkout is on the path
    deps = [Path(d).resolve() for d in _dependency_dirs()]
    on_path = [p for p in where["sys_path"]
               if p and _inside(p, ROOT) and Path(p).resolve() not in deps]
    assert not on_path, f"the checkout is on the installed interpreter's sys.path: {on_path}"


def test_wheel_carries_package_data_stubs_and_engine_client(wheel):
    src = wheel.parent.parent / "src"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(f"{dist_info}/METADATA").decode()
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
    package = src / "py_backend" / "worldbridge"
    # every module of the package, the engine client included
    modules = {p.relative_to(package.parent).as_posix() for p in package.rglob("*.py")
               if "__pycache__" not in p.parts}
    assert "worldbridge/engines/panda3d/__init__.py" in modules
    assert not modules - names, sorted(modules - names)
    # the starter model bundle, every file of it
    starter = {p.relative_to(package.parent).as_posix()
               for p in (package / "assets" / "starter_model").rglob("*") if p.is_file()}
    assert {"worldbridge/assets/starter_model/model.safetensors",
            "worldbridge/assets/starter_model/config.json",
            "worldbridge/assets/starter_model/autoencoder/autoencoder.safetensors"} <= starter
    assert not starter - names, sorted(starter - names)
    # the generated worldbridge/v1 stubs (messages, type stubs, gRPC) of every proto
    for proto in sorted((ROOT / "protos" / "worldbridge" / "v1").glob("*.proto")):
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert f"worldbridge/v1/{proto.stem}{suffix}" in names, proto.stem + suffix
    assert "worldbridge/py.typed" in names
    # the command, and Panda3D as the `engine` extra only
    assert "worldbridge = worldbridge.cli:main" in entry_points
    assert "Provides-Extra: engine" in metadata
    panda = [line for line in metadata.splitlines()
             if line.startswith("Requires-Dist:") and "panda3d" in line]
    assert panda and all("extra ==" in line for line in panda), panda
    assert any('extra == "engine"' in line for line in panda), panda


def test_installed_wheel_resolves_outside_the_checkout(venv, tmp_path):
    _check_resolves_in_venv(venv, tmp_path)


@pytest.mark.engine
@pytest.mark.timeout(600)
def test_installed_worldbridge_demo_writes_the_preview(venv, panda_engine, tmp_path):
    from PIL import Image

    run = tmp_path / "run"
    run.mkdir()
    _check_resolves_in_venv(venv, run, engine=True)
    out = run / "out" / "preview.png"
    r = subprocess.run([str(venv / "bin" / "worldbridge"), "demo", "--frames", "4", "--size",
                        str(DEMO_SIZE), "--out", str(out)], cwd=run, capture_output=True,
                       text=True, timeout=480, env=_clean_env(venv))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "0 errors" in r.stdout, r.stdout[-3000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as im:
        im.verify()
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        width, height = im.size
        strip = np.asarray(im.convert("RGB"))
    # rows of `engine view | 4 px | returned frame`, 4 px apart
    assert width == 2 * DEMO_SIZE + 4, im.size
    assert height >= DEMO_SIZE and (height + 4) % (DEMO_SIZE + 4) == 0, im.size
    engine_view, returned = strip[:, :DEMO_SIZE], strip[:, DEMO_SIZE + 4:]
    assert engine_view.std() > 10 and returned.std() > 10, "a blank half in the preview"


_NO_PANDA3D = """
import sys
sys.modules["panda3d"] = None  # as if Panda3D were not installed
try:
    import worldbridge.engines.panda3d
except ImportError as e:
    print(type(e).__name__, e.name, str(e), sep="|")
else:
    print("imported")
"""


def test_engine_client_without_panda3d_names_the_extra(tmp_path):
    r = subprocess.run([sys.executable, "-c", _NO_PANDA3D], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    kind, name, message = r.stdout.strip().split("|", 2)
    assert kind == "ImportError" and name == "panda3d"
    assert "pip install 'worldbridge[engine]'" in message
    for command in ("demo", "record"):
        code = ("import sys; sys.modules['panda3d'] = None\n"
                f"from worldbridge.cli import main; sys.exit(main([{command!r}]))")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120, cwd=tmp_path)
        assert r.returncode == 5, (command, r.stdout[-2000:], r.stderr[-2000:])
        assert "pip install 'worldbridge[engine]'" in r.stderr and "Traceback" not in r.stderr

"""``worldbridge demo``: start a local server, run the Panda3D engine client, write a preview.

The engine client is ``examples/panda3d_engine.py`` of a source checkout (Panda3D renders
the ``models/environment`` asset offscreen on Mesa's EGL, sends poses with ground-truth
depth, and writes ``engine view | returned frame`` strips).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["run_demo", "start_server_process", "find_engine_example", "find_example", "load_example"]


def find_example(name: str = "panda3d_engine.py") -> Path:
    """Path of ``examples/<name>`` in the source checkout.

    Raises:
        FileNotFoundError: not running from a checkout.
    """
    path = Path(__file__).resolve().parents[2] / "examples" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the engine examples run from a source "
                                "checkout of WorldBridge (git clone, then pip install -e .)")
    return path


def find_engine_example() -> Path:
    """Path of ``examples/panda3d_engine.py`` (see :func:`find_example`)."""
    return find_example("panda3d_engine.py")


def load_example(name: str):
    """Import ``examples/<name>`` as the module ``worldbridge_example_<stem>``, once.

    The module is registered in ``sys.modules`` before it runs (dataclasses need that) and
    later calls return the same module, so the engine example's process-wide state (its
    one render thread and EGL pipe) is shared with ``examples/record_training_data.py``
    and the tests, which load it under the same name.
    """
    path = find_example(name)
    module_name = f"worldbridge_example_{path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def start_server_process(extra_args: list[str] | None = None, timeout_s: float = 120.0
                         ) -> tuple[subprocess.Popen, int]:
    """Start ``worldbridge serve --port 0`` in a subprocess and wait for its port.

    Returns:
        ``(process, port)``.

    Raises:
        RuntimeError: the server exited or did not report a port in ``timeout_s``.
    """
    port_file = Path(tempfile.mkdtemp(prefix="worldbridge-demo-")) / "port"
    cmd = [sys.executable, "-m", "worldbridge.cli", "serve", "--port", "0", "--port-file",
           str(port_file), *(extra_args or [])]
    proc = subprocess.Popen(cmd, env=os.environ.copy())
    deadline = time.monotonic() + timeout_s
    while not port_file.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before serving")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start in {timeout_s} s")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def run_demo(out: Path, video: Path | None = None, frames: int = 48, size: int = 512,
             generator: str = "anchor", references: int = 3,
             server_args: list[str] | None = None, path: str = "orbit",
             keyframe_every: int = 0) -> dict:
    """Run the demo end to end; returns the engine client's stats (fps, latency).

    Args:
        server_args: extra ``worldbridge serve`` flags (e.g. ``--frame-model``).
        path: the camera path (``orbit``, ``dolly``, ``walk``).
        keyframe_every: every N-th frame is a keyframe (0: none).
    """
    module = load_example("panda3d_engine.py")
    data_dir = Path(tempfile.mkdtemp(prefix="worldbridge-demo-data-"))
    proc, port = start_server_process(["--data-dir", str(data_dir), *(server_args or [])])
    try:
        argv = ["--server", f"127.0.0.1:{port}", "--frames", str(frames), "--size", str(size),
                "--out", str(out), "--generator", generator, "--references", str(references),
                "--path", path, "--keyframe-every", str(keyframe_every)]
        if video is not None:
            argv += ["--video", str(video)]
        return module.main(argv)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

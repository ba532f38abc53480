"""``worldbridge demo``: start a local server, run the Panda3D engine client, write a preview.

The engine client is :mod:`worldbridge.engines.panda3d` (the ``engine`` extra: ``pip install
'worldbridge[engine]'``): Panda3D renders the ``models/environment`` asset offscreen on
Mesa's EGL, sends poses with ground-truth depth, and writes ``engine view | returned frame``
strips.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["run_demo", "start_server_process"]


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

    Raises:
        ImportError: Panda3D is not installed (the message names the ``engine`` extra).
    """
    # first, so that a missing Panda3D says so before a server is started
    from worldbridge.engines.panda3d.client import main as engine_client

    data_dir = Path(tempfile.mkdtemp(prefix="worldbridge-demo-data-"))
    proc, port = start_server_process(["--data-dir", str(data_dir), *(server_args or [])])
    try:
        argv = ["--server", f"127.0.0.1:{port}", "--frames", str(frames), "--size", str(size),
                "--out", str(out), "--generator", generator, "--references", str(references),
                "--path", path, "--keyframe-every", str(keyframe_every)]
        if video is not None:
            argv += ["--video", str(video)]
        return engine_client(argv)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

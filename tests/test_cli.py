"""The command line: serve refuses an exposed bind without a token; a served port answers."""

import subprocess
import sys

from worldbridge.client import BridgeClient
from worldbridge.demo import start_server_process


def test_serve_refuses_public_bind_without_token():
    r = subprocess.run([sys.executable, "-m", "worldbridge.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2
    assert "0.0.0.0" in r.stderr and "token" in r.stderr


def test_serve_subprocess_answers_and_stops(tmp_path):
    proc, port = start_server_process(["--data-dir", str(tmp_path)])
    try:
        with BridgeClient(f"127.0.0.1:{port}") as c:
            assert c.info.workers[0].serving
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_record_command_writes_loadable_trajectories(tmp_path, panda_example):
    from worldbridge.recording import load_dataset

    r = subprocess.run([sys.executable, "-m", "worldbridge.cli", "record", "--out", str(tmp_path),
                        "--trajectories", "2", "--frames", "8", "--size", "64"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(names) == 2
    for name in names:
        ds = load_dataset(tmp_path / name)
        assert len(ds) == 8 and ds.read_depth(0).max() > 0
        # the default scene, and its layout stored with the trajectory
        meta = ds.info["metadata"]
        assert meta["layout_id"] == "default" and meta["split"] == "train"
        assert meta["layout"] == panda_example.DEFAULT_LAYOUT.to_dict()

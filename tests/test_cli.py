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

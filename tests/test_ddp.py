"""Stage II under torchrun: two processes on gloo train one model together."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from helpers import record_synthetic_scene

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, load_frame_model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_gloo_training(tmp_path):
    data = record_synthetic_scene(tmp_path / "rec", frames=20)
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "ae")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
           "-m", "worldbridge.cli", "train", "--data", str(data), "--autoencoder", str(tmp_path / "ae"),
           "--out", str(out), "--config", "tiny", "--steps", "6", "--batch-clips", "1",
           "--targets-per-clip", "2", "--workers", "0", "--clip-len", "8", "--references", "2",
           "--device", "cpu", "--no-progress", "--lr", "1e-3", "--log-every", "1"]
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "stage II: 6 steps" in r.stdout
    model = load_frame_model(out / "final")
    assert model.config.hidden_size == 64
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 7))  # rank 0 alone logs
    state = json.loads((out / "final" / "trainer_state.json").read_text())
    assert state["step"] == 6

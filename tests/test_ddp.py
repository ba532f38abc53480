"""Stage II and Stage III under torchrun: two processes on gloo train one model together."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from helpers import record_synthetic_scene, save_tiny_teacher

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, load_frame_model
from worldbridge.training.stage3 import backward_simulation_step


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node 2 -m worldbridge.cli ARGS`` on gloo; fails the test on error."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), "-m", "worldbridge.cli", *args]
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_two_process_gloo_training(tmp_path):
    data = record_synthetic_scene(tmp_path / "rec", frames=20)
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "ae")
    out = tmp_path / "run"
    r = _torchrun(["train", "--data", str(data), "--autoencoder", str(tmp_path / "ae"),
                   "--out", str(out), "--config", "tiny", "--steps", "6", "--batch-clips", "1",
                   "--targets-per-clip", "2", "--workers", "0", "--clip-len", "8", "--references", "2",
                   "--device", "cpu", "--no-progress", "--lr", "1e-3", "--log-every", "1"], timeout=240)
    assert "stage II: 6 steps" in r.stdout
    model = load_frame_model(out / "final")
    assert model.config.hidden_size == 64
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 7))  # rank 0 alone logs
    state = json.loads((out / "final" / "trainer_state.json").read_text())
    assert state["step"] == 6


def test_two_process_gloo_distillation_and_resume(tmp_path):
    """``worldbridge distill`` under torchrun with regression on and a 2-step generator: every
    step must make the same DDP passes on both ranks (a rank-dependent backward-simulation
    step, or two generator forwards with gradients, hangs or fails here), rank 0 alone logs,
    and a rerun with more steps resumes from the final checkpoint on both ranks."""
    data = record_synthetic_scene(tmp_path / "rec", frames=20)
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "ae")
    teacher = save_tiny_teacher(tmp_path / "teacher")
    out = tmp_path / "distill"
    # a seed whose shared backward-simulation step is 0 on some steps and 1 on others
    seed = next(s for s in range(100) if {backward_simulation_step(s, i, 2) for i in range(4)} == {0, 1})
    args = ["distill", "--data", str(data), "--teacher", str(teacher), "--autoencoder", str(tmp_path / "ae"),
            "--out", str(out), "--batch-clips", "1", "--targets-per-clip", "2", "--workers", "0",
            "--clip-len", "8", "--references", "2", "--device", "cpu", "--no-progress",
            "--fake-updates", "1", "--teacher-steps", "2", "--regression-weight", "0.25",
            "--timesteps", "999", "200", "--lr", "1e-3", "--log-every", "1", "--checkpoint-every", "2",
            "--seed", str(seed)]
    r = _torchrun(args + ["--steps", "4"], timeout=150)
    assert "stage III: 4 steps; generator" in r.stdout
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4]  # rank 0 alone logs
    # sim_step is the mean over the ranks of the step k each trained: 0.5 would mean they differed
    assert [row["sim_step"] for row in rows] == [float(backward_simulation_step(seed, i, 2)) for i in range(4)]
    assert all(row["regression"] > 0 for row in rows)
    assert json.loads((out / "checkpoints" / "step_0000002" / "trainer_state.json").read_text())["step"] == 2
    assert json.loads((out / "final" / "fake" / "trainer_state.json").read_text())["step"] == 4
    assert load_frame_model(out / "final").config == load_frame_model(teacher).config

    r = _torchrun(args + ["--steps", "5"], timeout=150)
    assert "stage III: 5 steps (resumed from step 4)" in r.stdout
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5]
    assert json.loads((out / "final" / "trainer_state.json").read_text())["step"] == 5


def test_adapt_under_torchrun_with_the_same_flags(tmp_path):
    """``worldbridge adapt`` under torchrun: both ranks fine-tune and distil, rank 0 alone
    bundles, evaluates and reports."""
    from worldbridge.models import FrameModelBundle, save_bundle
    from worldbridge.training.config import Stage2Config

    data = [record_synthetic_scene(tmp_path / "rec", f"t{i}", frames=12, seed=i) for i in range(3)]
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "ae")
    teacher = save_tiny_teacher(tmp_path / "teacher")
    recipe = tmp_path / "stage2.json"
    recipe.write_text(Stage2Config(model="tiny", batch_clips=1, targets_per_clip=2, image_size=64, clip_len=8,
                                   num_references=2, num_workers=0).to_json())
    base = save_bundle(tmp_path / "base", teacher, tmp_path / "ae", teacher_dir=teacher, teacher_config=recipe)
    out = tmp_path / "adapt"
    r = _torchrun(["adapt", "--data", *map(str, data), "--out", str(out), "--from", str(base),
                   "--finetune-steps", "2", "--distill-steps", "2", "--checkpoint-every", "1", "--workers", "0",
                   "--references", "1", "--distances", "2", "--cases-per-recording", "1", "--heldout", "1",
                   "--device", "cpu", "--no-progress"], timeout=400)
    assert r.stdout.count("The adapted bundle") == 1  # rank 0 alone reports
    assert FrameModelBundle.load(out / "bundle").teacher_path is not None
    rows = [json.loads(line) for line in (out / "finetune" / "loss.jsonl").read_text().splitlines()]
    steps = [row["step"] for row in rows]
    assert steps[-1] == 2 and len(steps) == len(set(steps))  # rank 0 alone logs, up to the last step
    report = json.loads((out / "report.json").read_text())
    assert len(report["rows"]) == 4 and report["verdict"].startswith("The adapted bundle")

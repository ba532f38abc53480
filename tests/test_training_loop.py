"""The one training loop (resume, loss log, checkpoints, pruning, progress) on a toy model,
and the command-line flags generated from the training configs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from worldbridge.training.config import (
    LR_SCHEDULES,
    AutoencoderTrainConfig,
    Stage2Config,
    Stage3Config,
)
from worldbridge.training.data import ClipDataLoader, ResumableDistributedSampler
from worldbridge.training.flags import add_config_arguments, config_from_args
from worldbridge.training.loop import TrainLoop
from worldbridge.training.stage2 import clip_batches
from worldbridge.training.trainer_state import load_trainer_state, save_trainer_state, step_generator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class ToyStage:
    """A linear regression trained by the loop: every draw of step n comes from (seed, n),
    so a resumed run can match an uninterrupted one exactly."""

    def __init__(self, out: Path, seed: int = 0, fail_at: int | None = None) -> None:
        torch.manual_seed(seed)
        self.out, self.seed, self.fail_at = out, seed, fail_at
        self.model = torch.nn.Linear(3, 1)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=0.05)
        self.saved: list[tuple[str, int]] = []
        self.after: list[int] = []

    def step_fn(self, step: int) -> dict[str, float]:
        if step == self.fail_at:
            raise KeyboardInterrupt(f"killed at step {step}")
        g = step_generator(self.seed, step)
        x = torch.randn(8, 3, generator=g)
        y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(8, 1, generator=g)
        loss = (self.model(x) - y).square().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach()), "lr": 0.05}

    def save(self, path: Path, step: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(path / "model.safetensors"))
        save_trainer_state(path, self.opt, step)
        self.saved.append((path.relative_to(self.out).as_posix(), step))

    def load(self, path: Path) -> int:
        self.model.load_state_dict(load_file(str(path / "model.safetensors")))
        return load_trainer_state(path, self.opt)[0]

    def run(self, steps: int, **kw):
        args = {"log_every": 1, "checkpoint_every": 2, "desc": "toy", "curve_title": "toy loss", "progress": False,
                **kw}
        loop = TrainLoop(self.out, steps, **args)
        loop.resume(self.load)
        return loop.run(self.step_fn, self.save, after_step=self.after.append)


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]


def _without_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "s_per_step"} for r in rows]


def test_resume_continues_at_the_checkpoint_step_and_matches_an_uninterrupted_run(tmp_path):
    whole = ToyStage(tmp_path / "whole")
    full = whole.run(6)
    assert (full.resumed_from, full.steps, len(full.history), len(full.seconds)) == (0, 6, 6, 6)
    assert whole.saved == [("checkpoints/step_0000002", 2), ("checkpoints/step_0000004", 4), ("final", 6)]
    assert whole.after == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "whole" / "latest.txt").read_text() == "final"

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        ToyStage(cut, fail_at=4).run(6)  # killed during step 5 (0-based 4): latest is step 4
    assert (cut / "latest.txt").read_text() == "checkpoints/step_0000004"
    assert [r["step"] for r in _rows(cut)] == [1, 2, 3, 4]
    with open(cut / "loss.jsonl", "a") as f:  # a row written after the checkpoint, then killed
        f.write(json.dumps({"step": 5, "loss": 123.0}) + "\n")
    resumed_stage = ToyStage(cut, seed=0)
    with torch.no_grad():
        resumed_stage.model.weight.zero_()  # the checkpoint, not these weights, must count
    resumed = resumed_stage.run(6)
    assert (resumed.resumed_from, resumed.steps, len(resumed.history)) == (4, 6, 2)
    assert resumed_stage.after == [5, 6]
    assert resumed.history == full.history[4:]
    assert _without_time(_rows(cut)) == _without_time(_rows(tmp_path / "whole"))  # each step logged once
    for name, value in load_file(str(tmp_path / "whole" / "final" / "model.safetensors")).items():
        assert torch.equal(value, load_file(str(cut / "final" / "model.safetensors"))[name]), name

    # a finished run rerun takes no step and keeps its final checkpoint; a longer one continues
    again_stage = ToyStage(cut)
    again = again_stage.run(6)
    assert (again.resumed_from, again.steps, again.history, again_stage.saved) == (6, 6, [], [])
    longer_stage = ToyStage(cut)
    longer = longer_stage.run(7)
    assert (longer.resumed_from, longer.steps, longer_stage.saved) == (6, 7, [("final", 7)])


def test_loss_log_rows_curve_and_progress_bar(tmp_path, capsys):
    out = tmp_path / "run"
    ToyStage(out).run(5, log_every=2, checkpoint_every=0, progress=True, postfix=("loss",))
    rows = _rows(out)
    assert [r["step"] for r in rows] == [2, 4, 5]  # every log_every steps and the last
    assert set(rows[0]) == {"step", "loss", "lr", "s_per_step"} and rows[0]["s_per_step"] > 0
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "checkpoints").exists() and (out / "latest.txt").read_text() == "final"
    err = capsys.readouterr().err
    assert "toy" in err and "5/5" in err and "loss=" in err and "s_per_step=" in err

    quiet = tmp_path / "quiet"
    ToyStage(quiet).run(2, log_step_time=False)
    assert set(_rows(quiet)[0]) == {"step", "loss", "lr"}
    assert capsys.readouterr().err == ""


def test_pruning_keeps_the_newest_step_checkpoints(tmp_path):
    out = tmp_path / "run"
    stage = ToyStage(out)
    stage.run(5, checkpoint_every=1, keep_checkpoints=2, final_checkpoint=None)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000004", "step_0000005"]
    assert stage.saved[-1] == ("checkpoints/step_0000005", 5)  # the final one is the last step's
    assert (out / "latest.txt").read_text() == "checkpoints/step_0000005" and not (out / "final").exists()

    out = tmp_path / "with_final"
    ToyStage(out).run(5, checkpoint_every=1, keep_checkpoints=2)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000003", "step_0000004"]
    assert (out / "final" / "model.safetensors").is_file()

    out = tmp_path / "keep_all"
    ToyStage(out).run(4, checkpoint_every=1)
    assert len(list((out / "checkpoints").iterdir())) == 3


def test_loop_refuses_bad_counts_and_a_run_without_resume(tmp_path):
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        TrainLoop(tmp_path, 0, log_every=1, checkpoint_every=1, desc="x", curve_title="x")
    with pytest.raises(ValueError, match="keep_checkpoints"):
        TrainLoop(tmp_path, 2, log_every=1, checkpoint_every=1, desc="x", curve_title="x", keep_checkpoints=0)
    loop = TrainLoop(tmp_path, 2, log_every=1, checkpoint_every=1, desc="x", curve_title="x", progress=False)
    stage = ToyStage(tmp_path)
    with pytest.raises(RuntimeError, match="resume"):
        loop.run(stage.step_fn, stage.save)


def test_clip_batches_resume_mid_epoch_or_restart_the_epoch():
    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return i

    def loader():
        ds = Items()
        sampler = ResumableDistributedSampler(ds, num_replicas=1, rank=0, shuffle=True, seed=3)
        return ClipDataLoader(ds, batch_size=2, sampler=sampler)  # 4 batches per epoch

    def take(it, n):
        return [next(it).tolist() for _ in range(n)]

    uninterrupted = take(clip_batches(loader(), 0, resume_mid_epoch=True), 10)
    assert uninterrupted[:4] != uninterrupted[4:8]  # a new order every epoch
    assert take(clip_batches(loader(), 6, resume_mid_epoch=True), 4) == uninterrupted[6:10]
    assert take(clip_batches(loader(), 6, resume_mid_epoch=False), 4) == uninterrupted[4:8]


# ------------------------------------------------------------------ flags from dataclasses
@dataclass
class _Settings:
    steps: int = field(default=10, metadata={"help": "how many"})
    rate: float = 0.5
    mode: str = field(default="a", metadata={"choices": ("a", "b")})
    crop_size: int | None = field(default=None, metadata={"flag": "--crop"})
    flip: bool = False
    shuffle: bool = True
    times: list[int] = field(default_factory=lambda: [3, 1])
    table: dict = field(default_factory=dict)


def _parser(cls, fields=None, defaults=None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_config_arguments(p, cls, fields, defaults)
    return p


def _flags(parser: argparse.ArgumentParser) -> dict[str, tuple]:
    return {a.option_strings[0]: (a.dest, a.default, a.type, a.nargs, a.choices, a.help)
            for a in parser._actions if a.option_strings and a.dest != "help"}


def test_flags_take_names_types_and_defaults_from_the_dataclass():
    names = ("steps", "rate", "mode", "crop_size", "flip", "shuffle", "times")
    p = _parser(_Settings, names)
    flags = _flags(p)
    assert list(flags) == ["--steps", "--rate", "--mode", "--crop", "--flip", "--shuffle", "--times"]
    assert flags["--steps"] == ("steps", 10, int, None, None, "how many")
    assert flags["--rate"][1:3] == (0.5, float) and flags["--mode"][4] == ("a", "b")
    assert flags["--crop"][:3] == ("crop", None, int)  # explicit flag name; dest follows it
    assert flags["--times"][1:4] == ([3, 1], int, "+")
    assert config_from_args(_Settings, p.parse_args([])) == _Settings()
    args = p.parse_args(["--steps", "3", "--rate", "0.25", "--mode", "b", "--crop", "16", "--flip", "--no-shuffle",
                         "--times", "5", "4", "2"])
    assert config_from_args(_Settings, args, table={"k": 1}) == _Settings(
        steps=3, rate=0.25, mode="b", crop_size=16, flip=True, shuffle=False, times=[5, 4, 2], table={"k": 1})
    with pytest.raises(SystemExit):
        p.parse_args(["--mode", "c"])
    # a command's own defaults; fields without a flag keep the dataclass's
    p = _parser(_Settings, ("steps", "mode"), defaults={"mode": "b"})
    assert config_from_args(_Settings, p.parse_args([])) == _Settings(mode="b")
    with pytest.raises(ValueError, match="without a flag"):
        _parser(_Settings, ("steps",), defaults={"rate": 1.0})
    with pytest.raises(ValueError, match="no field 'nope'"):
        _parser(_Settings, ("nope",))
    with pytest.raises(TypeError, match="_Settings.table"):
        _parser(_Settings)  # every field: a dict has no flag
    with pytest.raises(ValueError, match="no field 'nope'"):
        config_from_args(_Settings, p.parse_args([]), nope=1)


def test_generated_flags_round_trip_to_the_training_configs():
    for cls, names in ((Stage2Config, ("model", "steps", "batch_clips", "num_workers", "num_references", "lr",
                                       "lr_schedule", "min_lr", "ema_decay", "checkpoint_every", "seed")),
                       (Stage3Config, ("steps", "lr_generator", "fake_updates_per_step", "teacher_ddim_steps",
                                       "timesteps", "checkpoint_every", "log_every")),
                       (AutoencoderTrainConfig, ("steps", "batch_size", "crop_size", "hflip", "lr", "lr_schedule",
                                                 "eval_every", "checkpoint_every", "log_every", "seed"))):
        p = _parser(cls, names)
        assert config_from_args(cls, p.parse_args([])) == cls(), cls.__name__
    p = _parser(Stage3Config, ("steps", "lr_generator", "timesteps", "num_workers"))
    cfg = config_from_args(Stage3Config, p.parse_args(["--lr", "1e-3", "--timesteps", "999", "--workers", "0"]))
    assert (cfg.lr_generator, cfg.timesteps, cfg.num_workers, cfg.lr_fake) == (1e-3, [999], 0, 2e-5)


def _command_flags() -> dict[str, dict[str, tuple]]:
    from worldbridge.training.commands import add_training_commands

    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    add_training_commands(sub)
    return {name: {flag: v[:2] for flag, v in _flags(sp).items()} for name, sp in sub.choices.items()}


def test_training_commands_keep_their_flag_names_dests_and_defaults():
    flags = _command_flags()
    for cmd in ("train", "finetune"):
        f = flags[cmd]
        assert f["--steps"] == ("steps", 1000) and f["--batch-clips"] == ("batch_clips", 2)
        assert f["--workers"] == ("workers", 2) and f["--references"] == ("references", 4)
        assert f["--lr"] == ("lr", 1e-4) and f["--lr-schedule"] == ("lr_schedule", "constant")
        assert f["--checkpoint-every"] == ("checkpoint_every", 500) and f["--log-every"] == ("log_every", 10)
        assert f["--anchor-mask-prob"] == ("anchor_mask_prob", 0.1) and f["--clip-len"] == ("clip_len", 16)
        assert f["--reference-gap"] == ("reference_gap", [2, 4])
    assert flags["train"]["--config"] == ("config", "tiny") and "--config" not in flags["finetune"]
    d = flags["distill"]
    assert d["--steps"] == ("steps", 500) and d["--lr"] == ("lr", 2e-5) and d["--fake-updates"] == ("fake_updates", 5)
    assert d["--teacher-steps"] == ("teacher_steps", 20) and d["--timesteps"] == ("timesteps", [999, 200])
    assert d["--checkpoint-every"] == ("checkpoint_every", 100)
    a = flags["train-autoencoder"]
    assert a["--batch"] == ("batch", 16) and a["--crop"] == ("crop", None) and a["--steps"] == ("steps", 2000)
    assert a["--lr-schedule"] == ("lr_schedule", "cosine") and a["--eval-every"] == ("eval_every", 500)
    assert a["--min-lr"] == ("min_lr", None) and a["--warmup-steps"] == ("warmup_steps", None)
    assert a["--ssim-weight"] == ("ssim_weight", 0.2) and a["--hflip"] == ("hflip", False)


def test_command_parsers_load_no_pytorch_and_lr_schedules_agree():
    code = ("import argparse, sys\n"
            "from worldbridge.training.commands import add_training_commands\n"
            "add_training_commands(argparse.ArgumentParser().add_subparsers())\n"
            "assert 'torch' not in sys.modules, 'torch loaded'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    from worldbridge.models import compact_autoencoder

    assert LR_SCHEDULES == compact_autoencoder.LR_SCHEDULES


def test_shared_config_fields_are_validated_once_for_both_stages():
    for cls in (Stage2Config, Stage3Config):
        for bad, match in (({"steps": 0}, "steps must be an integer >= 1, got 0"),
                           ({"log_every": 0}, "log_every must be an integer >= 1"),
                           ({"checkpoint_every": -1}, "checkpoint_every must be an integer >= 0"),
                           ({"seed": -1}, "seed must be an integer >= 0"),
                           ({"batch_clips": 0}, "batch_clips"), ({"num_workers": -1}, "num_workers"),
                           ({"mixed_precision": "fp8"}, "mixed_precision"), ({"clips": []}, "clips")):
            with pytest.raises(ValueError, match=match):
                cls(**bad)
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        AutoencoderTrainConfig(steps=0)
    with pytest.raises(ValueError, match="lr_schedule"):
        Stage2Config(lr_schedule="step")
    assert Stage2Config.from_json(Stage2Config(steps=7).to_json()) == Stage2Config(steps=7)
    assert json.loads(Stage3Config().to_json())["checkpoint_every"] == 100

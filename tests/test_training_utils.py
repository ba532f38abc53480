"""Trainer state without pickles, loss logs and curves, single-process distributed info."""

import json

import pytest
import torch

from worldbridge.training.distributed import all_reduce_mean, init_distributed
from worldbridge.training.loss_log import LossLog, plot_loss_curves
from worldbridge.training.trainer_state import TrainerStateError, load_trainer_state, save_trainer_state


def _model_and_opt(seed=0):
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return m, torch.optim.AdamW(m.parameters(), lr=1e-2, betas=(0.8, 0.95))


def _step(m, opt, x):
    opt.zero_grad()
    m(x).pow(2).mean().backward()
    opt.step()


def test_resumed_optimizer_continues_exactly(tmp_path):
    x = torch.randn(16, 3)
    m, opt = _model_and_opt()
    for _ in range(3):
        _step(m, opt, x)
    save_trainer_state(tmp_path, opt, step=3, extra={"epoch": 1})
    weights = {k: v.clone() for k, v in m.state_dict().items()}
    _step(m, opt, x)
    expected = {k: v.clone() for k, v in m.state_dict().items()}

    m2, opt2 = _model_and_opt(seed=1)
    m2.load_state_dict(weights)
    step, extra = load_trainer_state(tmp_path, opt2)
    assert step == 3 and extra == {"epoch": 1}
    assert opt2.param_groups[0]["betas"] == (0.8, 0.95)
    _step(m2, opt2, x)
    for k in expected:
        torch.testing.assert_close(m2.state_dict()[k], expected[k], rtol=0, atol=0)
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.pkl"))


def test_trainer_state_errors(tmp_path):
    m, opt = _model_and_opt()
    with pytest.raises(TrainerStateError, match="not a training checkpoint"):
        load_trainer_state(tmp_path, opt)
    _step(m, opt, torch.randn(4, 3))
    save_trainer_state(tmp_path, opt, 1)
    other = torch.nn.Linear(3, 2)
    with pytest.raises(TrainerStateError, match="different model"):
        load_trainer_state(tmp_path, torch.optim.AdamW(other.parameters()))
    (tmp_path / "optimizer.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(TrainerStateError, match="cannot read"):
        load_trainer_state(tmp_path, opt)


def test_loss_log_and_curve(tmp_path):
    log = LossLog(tmp_path / "loss.jsonl")
    for s in range(50):
        log.append(s, loss=1.0 / (s + 1), grad_norm=0.5)
    with log.path.open("a") as f:
        f.write('{"step": 50, "lo')  # a run killed mid-line
    rows = log.read()
    assert len(rows) == 50 and rows[-1] == {"step": 49, "loss": 1 / 50, "grad_norm": 0.5}
    png = plot_loss_curves(log, tmp_path / "loss.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    with pytest.raises(ValueError, match="no losses"):
        plot_loss_curves(LossLog(tmp_path / "empty.jsonl"), tmp_path / "x.png")


def test_single_process_distributed_info(monkeypatch):
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    info = init_distributed("cpu")
    assert (info.rank, info.world_size, info.is_main, info.distributed) == (0, 1, True, False)
    assert all_reduce_mean(torch.tensor(3.0)).item() == 3.0
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="torchrun"):
        init_distributed("cpu")

"""Trainer state without pickles, loss logs and curves, single-process distributed info."""


import pytest
import torch

from worldbridge.training.data import ClipDataLoader, ResumableDistributedSampler
from worldbridge.training.distributed import all_reduce_mean, init_distributed
from worldbridge.training.loss_log import LossLog, plot_loss_curves
from worldbridge.training.trainer_state import (
    TrainerStateError,
    latest_checkpoint,
    load_trainer_state,
    mark_latest,
    save_trainer_state,
    step_generator,
)


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


def test_step_generators_are_per_step_per_rank_and_reproducible():
    def draw(*a) -> torch.Tensor:
        return torch.randn(4, generator=step_generator(*a))

    assert torch.equal(draw(7, 3, 0), draw(7, 3, 0))  # a resumed run redraws the same values
    others = [draw(7, 4, 0), draw(7, 3, 1), draw(8, 3, 0), draw(7, 3, None)]
    assert all(not torch.equal(draw(7, 3, 0), o) for o in others)
    assert torch.equal(draw(7, 3, None), draw(7, 3, None))  # the shared stream: no rank in it
    for bad in ((-1, 0, 0), (0, -2, 0), (0, 0, -1), (0.5, 0, 0)):
        with pytest.raises(ValueError, match="step_generator needs an integer"):
            step_generator(*bad)


def test_latest_marker_round_trip(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    (tmp_path / "checkpoints" / "step_0000002").mkdir(parents=True)
    mark_latest(tmp_path, "checkpoints/step_0000002")
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoints" / "step_0000002"
    assert not list(tmp_path.glob(".*.tmp"))
    mark_latest(tmp_path, "final")  # names a folder that is not there (yet): no checkpoint
    assert latest_checkpoint(tmp_path) is None
    with pytest.raises(ValueError, match="relative"):
        mark_latest(tmp_path, str(tmp_path / "final"))


def test_loss_log_truncate_drops_redone_steps(tmp_path):
    log = LossLog(tmp_path / "loss.jsonl")
    for step in range(1, 6):
        log.append(step, loss=1.0 / step)
    with log.path.open("a") as f:
        f.write('{"step": 6, "lo')  # torn by a kill
    assert log.truncate(3) == 2
    assert [r["step"] for r in log.read()] == [1, 2, 3]
    assert log.path.read_text().count("\n") == 3
    assert log.truncate(3) == 0


def test_loader_resumes_mid_epoch_without_loading_skipped_batches():
    loaded = []

    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            loaded.append(i)
            return i

    ds = Items()
    sampler = ResumableDistributedSampler(ds, num_replicas=1, rank=0, shuffle=True, seed=3)
    loader = ClipDataLoader(ds, batch_size=3, sampler=sampler)
    loader.set_epoch(2)
    full = [b.tolist() for b in loader]
    assert len(full) == 4 and sorted(i for b in full for i in b) == list(range(10))
    loaded.clear()
    loader.set_epoch(2, skip_batches=2)
    assert len(loader) == 2 and [b.tolist() for b in loader] == full[2:]
    assert sorted(loaded) == sorted(full[2] + full[3])  # the skipped clips were never read
    loader.set_epoch(2)
    assert [b.tolist() for b in loader] == full
    for bad in (-1, 5, 1.0):
        with pytest.raises(ValueError, match="skip_batches must be an integer in \\[0, 4\\]"):
            loader.set_epoch(2, skip_batches=bad)

"""Training for extrapolation: contiguous references with far targets, point and reference
dropout, the hole-weighted loss and the EMA of the weights."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import record_synthetic_scene

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, learning_rate_at, load_frame_model
from worldbridge.training.clips import ClipDataset, ClipSpec
from worldbridge.training.data import collate_clips
from worldbridge.training.stage2 import (
    EMA_SUBDIR,
    Stage2Config,
    hole_weighted_mse,
    train_stage2,
    update_ema,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    root = tmp_path_factory.mktemp("extrapolation")
    data = record_synthetic_scene(root / "recordings", frames=40, size=48)
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(root / "ae")
    return root, data


def _contiguous(**kw) -> ClipSpec:
    base = dict(clip_len=33, num_references=2, min_references=1, reference_layout="contiguous",
                reference_gap=(2, 4), max_target_distance=16, targets_per_clip=6, image_size=48,
                frame_stride=(1, 1), window_step=1, anchor_mask_prob=0.0, zero_depth_is_sky=True)
    base.update(kw)
    return ClipSpec(**base)


def test_contiguous_layout_plans(scene):
    _, data = scene
    ds = ClipDataset(data, _contiguous(), seed=1)
    counts, far = set(), 0
    for i in range(len(ds)):
        p = ds.plan(i)
        refs = np.sort(p.reference_positions)
        counts.add(len(refs))
        assert np.all(np.diff(refs) >= 2) and np.all(np.diff(refs) <= 4)
        assert len(p.target_positions) == 6 and not np.isin(p.target_positions, refs).any()
        dist = np.abs(p.target_positions[:, None] - refs[None]).min(1)
        assert dist.max() <= 16
        far = max(far, int(dist.max()))
        # each target's reference is its nearest one
        np.testing.assert_array_equal(np.abs(p.target_positions - p.reference_positions[p.target_reference]), dist)
    assert counts == {1, 2} and far > 8  # one and two references; targets far away
    batch = collate_clips([ds[0], ds[1], ds[2]])  # clips with different reference counts batch
    assert batch["reference_frame_index"].shape == (3, 2)
    assert batch["target_rgb"].shape[0] == 18
    with pytest.raises(ValueError, match="targets_per_clip"):
        ClipSpec(reference_layout="contiguous")
    with pytest.raises(ValueError, match="min_references"):
        ClipSpec(num_references=2, min_references=1)  # a varying count needs contiguous
    with pytest.raises(ValueError, match="point_dropout"):
        _contiguous(point_dropout=1.0)


def test_point_and_reference_dropout_thin_the_anchors(scene):
    _, data = scene
    plain = ClipDataset(data, _contiguous(min_references=2), seed=2)
    thin = ClipDataset(data, _contiguous(min_references=2, point_dropout=0.9), seed=2)
    dropped = ClipDataset(data, _contiguous(min_references=2, reference_dropout=0.9), seed=2)
    cov_plain = float(plain[3]["anchor_mask"].mean())
    cov_thin = float(thin[3]["anchor_mask"].mean())
    assert plain.plan(3).point_dropout == 0.0 and 0 < thin.plan(3).point_dropout < 0.9
    assert cov_thin < cov_plain  # fewer points lifted, more holes (same clip otherwise)
    lifted = [dropped.plan(i).lifted for i in range(len(dropped))]
    assert all(lf.any() for lf in lifted)  # one reference always stays in the cloud
    assert any(not lf.all() for lf in lifted)
    i = next(i for i, lf in enumerate(lifted) if not lf.all())
    assert float(dropped[i]["anchor_mask"].mean()) < float(plain[i]["anchor_mask"].mean())


def test_hole_weighted_loss():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(2, 4, 4, 4, generator=g), torch.randn(2, 4, 4, 4, generator=g)
    cov = torch.ones(2, 1, 4, 4)
    keep = torch.tensor([True, True])
    torch.testing.assert_close(hole_weighted_mse(pred, target, cov, keep, 0.0),
                               torch.nn.functional.mse_loss(pred, target))
    # fully covered: the weights are all 1, any lambda is plain MSE
    torch.testing.assert_close(hole_weighted_mse(pred, target, cov, keep, 5.0),
                               torch.nn.functional.mse_loss(pred, target))
    # an error only in the hole counts (1 + lambda) times more than the same error outside
    cov = torch.ones(1, 1, 2, 1)
    cov[0, 0, 1] = 0.0
    err_hole = torch.tensor([[[[0.0], [1.0]]]])
    err_cov = torch.tensor([[[[1.0], [0.0]]]])
    zero = torch.zeros(1, 1, 2, 1)
    one = torch.tensor([True])
    assert float(hole_weighted_mse(err_hole, zero, cov, one, 3.0)) == pytest.approx(4 / 5)
    assert float(hole_weighted_mse(err_cov, zero, cov, one, 3.0)) == pytest.approx(1 / 5)
    # a dropped anchor is all holes: the weights are uniform again
    assert float(hole_weighted_mse(err_cov, zero, cov, torch.tensor([False]), 3.0)) == pytest.approx(1 / 2)


def test_ema_update_and_warm_up():
    model, ema = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    with torch.no_grad():
        ema.weight.zero_()
        model.weight.fill_(1.0)
    update_ema(ema, model, 0.999, step=0)  # warm-up: d = min(0.999, 1 / 10)
    torch.testing.assert_close(ema.weight, torch.full((2, 2), 0.9))
    update_ema(ema, model, 0.5, step=10_000)
    torch.testing.assert_close(ema.weight, torch.full((2, 2), 0.95))


def test_stage2_with_extrapolation_clips_ema_and_resume(scene, tmp_path):
    root, data = scene
    cfg = dict(model="tiny", steps=4, batch_clips=2, targets_per_clip=3, lr=2e-3, warmup_steps=1,
               num_workers=0, log_every=1, checkpoint_every=2, image_size=48, clip_len=33,
               num_references=2, anchor_mask_prob=0.0, hole_loss_weight=2.0, ema_decay=0.9,
               lr_schedule="cosine", min_lr=1e-4,
               clips={"reference_layout": "contiguous", "min_references": 1, "max_target_distance": 16,
                      "point_dropout": 0.3, "reference_dropout": 0.3})
    # the tiny autoencoder is f8: 48 px frames have 6 x 6 latents
    cfg["model"] = {"latent_size": 6, "hidden_size": 64, "depth": 2, "num_heads": 4, "image_size": 48}
    out = tmp_path / "run"
    r = train_stage2(Stage2Config(**{**cfg, "steps": 2}), [data], root / "ae", out, device="cpu", progress=False)
    assert r.steps == 2 and (out / "final" / EMA_SUBDIR / "model.safetensors").is_file()
    # a row logged after the checkpoint (a crash before the next one) is redone, not doubled
    with open(out / "loss.jsonl", "a") as f:
        f.write(json.dumps({"step": 3, "loss": 123.0}) + "\n")
    r = train_stage2(Stage2Config(**cfg), [data], root / "ae", out, device="cpu", progress=False)
    assert r.steps == 4 and r.resumed_from == 2 and np.isfinite(r.losses).all()
    rows = [json.loads(line) for line in (out / "loss.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 3, 4] and rows[2]["loss"] != 123.0
    # the resumed steps follow the 4-step cosine schedule: warm-up, then decay to min_lr
    assert [row["lr"] for row in rows[2:]] == pytest.approx([learning_rate_at(s, 4, 2e-3, 1, "cosine", 1e-4)
                                                             for s in (2, 3)])
    assert rows[3]["lr"] == pytest.approx(1e-4) and rows[3]["s_per_step"] > 0
    raw, ema = load_frame_model(out / "final"), load_frame_model(out / "final" / EMA_SUBDIR)
    assert raw.config == ema.config
    diff = max(float((a - b).detach().abs().max()) for a, b in zip(raw.parameters(), ema.parameters()))
    assert diff > 0  # the average lags the weights
    saved = json.loads((out / "stage2.json").read_text())
    assert saved["clips"]["reference_layout"] == "contiguous" and saved["hole_loss_weight"] == 2.0


def test_training_cli_passes_the_clip_flags(scene, tmp_path):
    root, data = scene
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "worldbridge.cli", "train", "--data", str(data), "--autoencoder", str(root / "ae"),
           "--out", str(out), "--config", "tiny", "--steps", "1", "--batch-clips", "1", "--targets-per-clip", "2",
           "--workers", "0", "--clip-len", "12", "--references", "2", "--reference-layout", "contiguous",
           "--min-references", "1", "--max-target-distance", "8", "--point-dropout", "0.2",
           "--reference-dropout", "0.1", "--hole-loss-weight", "3", "--ema-decay", "0.99", "--device", "cpu",
           "--lr-schedule", "cosine", "--min-lr", "1e-5", "--no-progress"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env={"OMP_NUM_THREADS": "1",
                                                                            "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    saved = json.loads((out / "stage2.json").read_text())
    assert saved["clips"] == {"reference_layout": "contiguous", "reference_gap": [2, 4], "min_references": 1,
                              "max_target_distance": 8, "point_dropout": 0.2, "reference_dropout": 0.1}
    assert saved["hole_loss_weight"] == 3.0 and saved["ema_decay"] == 0.99
    assert saved["lr_schedule"] == "cosine" and saved["min_lr"] == 1e-5

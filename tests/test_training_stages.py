"""Stage II training / fine-tuning and Stage III DMD on a tiny model and a synthetic recording:
real optimisation steps whose loss goes down, resume, checkpoints, bundles and serving."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import record_synthetic_scene

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, FrameModelBundle, save_bundle
from worldbridge.training.stage2 import Stage2Config, anchor_keep_probability, train_stage2
from worldbridge.training.stage3 import Stage3Config, distill_stage3


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("train")
    data = record_synthetic_scene(root / "recordings", frames=20)
    ae = CompactAutoencoder(CompactAutoencoderConfig.tiny())
    ae.save(root / "ae")
    return root, data


def _stage2(steps, **kw):
    base = dict(model="tiny", steps=steps, batch_clips=1, targets_per_clip=4, lr=2e-3, warmup_steps=1,
                num_workers=0, log_every=1, checkpoint_every=10, image_size=64, clip_len=8,
                num_references=2, anchor_mask_prob=0.0)
    base.update(kw)
    return Stage2Config(**base)


def test_progressive_anchor_injection_schedule():
    cfg = _stage2(100, anchor_start_step=10, anchor_ramp_steps=20, anchor_mask_prob=0.2)
    assert anchor_keep_probability(0, cfg) == 0.0 and anchor_keep_probability(9, cfg) == 0.0
    assert 0 < anchor_keep_probability(15, cfg) < 0.8
    assert anchor_keep_probability(29, cfg) == pytest.approx(0.8)
    assert anchor_keep_probability(90, cfg) == pytest.approx(0.8)


def test_stage2_loss_goes_down_resumes_and_fine_tunes(workspace):
    root, data = workspace
    out = root / "stage2"
    r = train_stage2(_stage2(40), [data], root / "ae", out, device="cpu", progress=False)
    assert r.steps == 40
    first, last = np.mean(r.losses[:8]), np.mean(r.losses[-8:])
    assert last < 0.8 * first, (first, last)
    assert (out / "final" / "model.safetensors").is_file() and (out / "loss.png").is_file()
    assert len((out / "loss.jsonl").read_text().splitlines()) == 40
    # resume: a longer run in the same folder continues from the last checkpoint
    r2 = train_stage2(_stage2(45), [data], root / "ae", out, device="cpu", progress=False)
    assert r2.steps == 45 and len(r2.losses) == 5
    state = json.loads((out / "final" / "trainer_state.json").read_text())
    assert state["step"] == 45
    # fine-tune on "a studio's level" from the checkpoint for a limited number of steps
    ft = train_stage2(_stage2(6), [data], root / "ae", root / "finetune", init_from=out / "final",
                      device="cpu", progress=False)
    assert ft.steps == 6 and np.isfinite(ft.losses).all()


def test_stage3_dmd_distils_and_serves(workspace):
    root, data = workspace
    teacher = root / "stage2" / "final"
    if not teacher.exists():
        train_stage2(_stage2(20), [data], root / "ae", root / "stage2", device="cpu", progress=False)
    cfg = Stage3Config(steps=6, batch_clips=1, targets_per_clip=2, fake_updates_per_step=2,
                       teacher_ddim_steps=4, num_workers=0, log_every=1, clip_len=8, num_references=2,
                       lr_generator=1e-3, lr_fake=1e-3)
    r = distill_stage3(cfg, [data], teacher, root / "ae", root / "stage3", device="cpu", progress=False)
    assert r.steps == 6 and np.isfinite(r.losses).all()
    rows = [json.loads(line) for line in (root / "stage3" / "loss.jsonl").read_text().splitlines()]
    assert {"dmd", "fake", "regression"} <= set(rows[0])
    bundle_dir = save_bundle(root / "bundle", r.checkpoint, root / "ae", info={"note": "test"})
    bundle = FrameModelBundle.load(bundle_dir)
    assert bundle.timesteps == [999, 200] and bundle.info["note"] == "test"


def _bundle(workspace):
    root, data = workspace
    path = root / "bundle"
    if not (path / "bundle.json").exists():
        test_stage3_dmd_distils_and_serves(workspace)
    return path


def test_frame_model_generator_is_deterministic_per_pose(workspace):
    from worldbridge.generators import GenerationContext
    from worldbridge.generators.frame_model import FrameModelGenerator
    from worldbridge.geometry import Intrinsics

    gen = FrameModelGenerator(_bundle(workspace), device="cpu")
    k = Intrinsics.from_vertical_fov(60, 96, 80)
    rng = np.random.default_rng(0)
    anchor = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    ref = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)

    def ctx(seed, dx=0.0):
        c2w = np.eye(4)
        c2w[0, 3] = dx
        return GenerationContext(anchor, np.ones((80, 96), np.float32), np.ones((80, 96), bool), c2w, k,
                                 ref, np.eye(4), k, seed)

    a, b, c = gen.generate(ctx(1)), gen.generate(ctx(1)), gen.generate(ctx(2))
    assert a.shape == (80, 96, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a, gen.generate(ctx(1, dx=0.5)))  # the pose reaches the model


def test_frame_model_served_through_the_bridge(workspace, make_gateway, plane, monkeypatch):
    from worldbridge.client import BridgeClient, PoseRequest
    from worldbridge.geometry import Convention

    monkeypatch.setenv("WORLDBRIDGE_FRAME_MODEL", str(_bundle(workspace)))
    gw = make_gateway(workers=1)
    with BridgeClient(gw.target) as c:
        assert "frame-model" in [g.name for g in c.info.generators if g.available]
        s = c.open_session([plane.view()], generator="frame-model", width=64, height=64)
        f1 = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        f2 = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        assert f1.error is None and f1.rgb.shape == (64, 64, 3)
        assert np.array_equal(f1.rgb, f2.rgb)  # a still camera gives a still frame
        assert f1.timings_ms["model"] > 0
        s.close()


def test_frame_model_unavailable_is_failed_precondition(make_gateway, plane, monkeypatch, tmp_path):
    import grpc

    from worldbridge.client import BridgeClient

    monkeypatch.setenv("WORLDBRIDGE_FRAME_MODEL", str(tmp_path / "no-such-bundle"))
    gw = make_gateway(workers=1)
    with BridgeClient(gw.target) as c:
        assert "frame-model" not in [g.name for g in c.info.generators if g.available]
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([plane.view()], generator="frame-model")
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "frame-model" in e.value.details()

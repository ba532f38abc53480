"""Stage II training / fine-tuning and Stage III DMD on a tiny model and a synthetic recording:
real optimisation steps whose loss goes down, resume, checkpoints, bundles and serving."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from helpers import record_synthetic_scene, save_tiny_teacher

from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, FrameModelBundle, save_bundle
from worldbridge.training.stage2 import Stage2Config, anchor_keep_probability, train_stage2
from worldbridge.training.stage3 import Stage3Config, backward_simulation_step, distill_stage3, tile_batch


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
    # the autoencoder folder of a train-autoencoder run also holds its checkpoints and logs
    run = root / "ae_run"
    shutil.copytree(root / "ae", run, dirs_exist_ok=True)
    (run / "checkpoints" / "step_0000002").mkdir(parents=True, exist_ok=True)
    (run / "checkpoints" / "step_0000002" / "optimizer.safetensors").write_bytes(b"x" * 1000)
    (run / "loss.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    (run / "eval.json").write_text('{"psnr": 27.0}\n')
    bundle_dir = save_bundle(root / "bundle", r.checkpoint, run, info={"note": "test"})
    bundle = FrameModelBundle.load(bundle_dir)
    assert bundle.timesteps == [999, 200] and bundle.info["note"] == "test"
    assert sorted(p.name for p in (bundle_dir / "autoencoder").iterdir()) == [
        "autoencoder.json", "autoencoder.safetensors", "eval.json"]


def _weights(checkpoint):
    from safetensors.torch import load_file

    return load_file(str(checkpoint / "model.safetensors"))


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f"{a} and {b} differ in {different}"


def test_stage3_resumes_exactly_where_it_stopped(workspace):
    """An uninterrupted 6-step run, a 3-step run rerun to 6, and a run "killed" after its
    step-3 checkpoint rerun to 6 all end with identical generator and fake-score weights;
    the reruns start from the checkpoint (step 3, mid-epoch: 2 batches per epoch)."""
    root, data = workspace
    teacher = save_tiny_teacher(root / "tiny_teacher")
    n, half = 6, 3
    # a seed whose backward-simulation steps take both values in each half (so the resumed
    # half has steps with k = 1: the no-grad first step plus the concatenated forward)
    seed = next(s for s in range(100) if all(
        {backward_simulation_step(s, i, 2) for i in part} == {0, 1} for part in (range(half), range(half, n))))

    def run(steps, out):
        cfg = Stage3Config(steps=steps, batch_clips=1, targets_per_clip=2, fake_updates_per_step=1,
                           teacher_ddim_steps=2, num_workers=0, log_every=1, checkpoint_every=half,
                           clip_len=8, num_references=2, lr_generator=1e-3, lr_fake=1e-3, seed=seed)
        return distill_stage3(cfg, [data], teacher, root / "ae", out, device="cpu", progress=False)

    full = run(n, root / "s3_full")
    assert full.steps == n and full.resumed_from == 0 and len(full.losses) == n
    assert (root / "s3_full" / "latest.txt").read_text() == "final"
    mid = root / "s3_full" / "checkpoints" / f"step_{half:07d}"
    assert json.loads((mid / "trainer_state.json").read_text())["step"] == half
    assert json.loads((mid / "fake" / "trainer_state.json").read_text())["step"] == half
    full_rows = [json.loads(line) for line in (root / "s3_full" / "loss.jsonl").read_text().splitlines()]
    assert [r["step"] for r in full_rows] == list(range(1, n + 1))
    assert {r["sim_step"] for r in full_rows} == {0.0, 1.0}

    part_dir = root / "s3_part"
    part = run(half, part_dir)
    assert part.steps == half and part.resumed_from == 0
    _assert_same_weights(part_dir / "final", mid)  # the same first half
    resumed = run(n, part_dir)
    assert resumed.steps == n and resumed.resumed_from == half and len(resumed.losses) == n - half
    rows = [json.loads(line) for line in (part_dir / "loss.jsonl").read_text().splitlines()]
    assert rows == full_rows  # same steps, same losses, each step logged once

    # a run killed after its step-3 checkpoint: latest.txt names it, later log rows exist

    crashed = root / "s3_crashed"
    shutil.copytree(root / "s3_full", crashed)
    shutil.rmtree(crashed / "final")
    (crashed / "latest.txt").write_text(f"checkpoints/step_{half:07d}")
    again = run(n, crashed)
    assert again.resumed_from == half and again.steps == n
    rows = [json.loads(line) for line in (crashed / "loss.jsonl").read_text().splitlines()]
    assert rows == full_rows  # rows 4..6 of the killed run were replaced, not duplicated

    for out in (part_dir, crashed):
        _assert_same_weights(out / "final", root / "s3_full" / "final")
        _assert_same_weights(out / "final" / "fake", root / "s3_full" / "final" / "fake")
    # the generator did train (a resume that silently restarted would still differ from this)
    assert any(not torch.equal(a, b) for a, b in zip(_weights(teacher).values(),
                                                     _weights(root / "s3_full" / "final").values()))


def test_stage3_makes_one_generator_forward_with_gradients_per_step(workspace, monkeypatch):
    """What keeps DDP ranks in step: per generator update exactly one forward of the
    generator with gradients (x0 at the simulated step k and, with regression and k > 0,
    x0 at the first step, concatenated along the batch), after k gradient-free generator
    calls (the simulated earlier steps), and exactly ``fake_updates_per_step`` fake-score forwards
    with gradients; the teacher never runs with gradients."""
    from worldbridge.models import FrameModel

    root, data = workspace
    teacher = save_tiny_teacher(root / "tiny_teacher_count")
    steps, fake_updates = 4, 3
    seed = next(s for s in range(100) if {backward_simulation_step(s, i, 2) for i in range(steps)} == {0, 1})
    ks = [backward_simulation_step(seed, i, 2) for i in range(steps)]
    calls = []
    forward = FrameModel.forward

    def counting(self, x_t, *args, **kwargs):
        calls.append((id(self), torch.is_grad_enabled(), x_t.shape[0]))
        return forward(self, x_t, *args, **kwargs)

    monkeypatch.setattr(FrameModel, "forward", counting)
    cfg = Stage3Config(steps=steps, batch_clips=1, targets_per_clip=2, fake_updates_per_step=fake_updates,
                       teacher_ddim_steps=2, num_workers=0, log_every=1, clip_len=8, num_references=2, seed=seed)
    distill_stage3(cfg, [data], teacher, root / "ae", root / "s3_count", device="cpu", progress=False)
    with_grad: dict[int, list[int]] = {}
    for model, grad, batch in calls:
        if grad:
            with_grad.setdefault(model, []).append(batch)
    assert sorted(len(v) for v in with_grad.values()) == [steps, steps * fake_updates]  # not the teacher
    gen = next(m for m, v in with_grad.items() if len(v) == steps)
    b = 2  # 1 clip x 2 targets
    assert with_grad[gen] == [2 * b if k else b for k in ks]
    assert sum(1 for m, grad, _ in calls if m == gen and not grad) == sum(ks)


def test_tile_batch_is_generic_over_keys():
    inp = {"x0": torch.randn(3, 4, 2, 2), "anchor_keep": torch.tensor([True, False, True]),
           "target_K": torch.randn(3, 3, 3), "new_key": torch.randn(3, 1, 2, 2), "scale": torch.tensor(2.0),
           "other": torch.randn(5, 2), "name": "not a tensor"}
    out = tile_batch(inp, 3, 2)
    assert out.keys() == inp.keys()
    for key in ("x0", "anchor_keep", "target_K", "new_key"):
        assert torch.equal(out[key], torch.cat([inp[key], inp[key]])), key
    assert out["scale"] is inp["scale"] and out["other"] is inp["other"] and out["name"] == "not a tensor"
    assert tile_batch(inp, 3, 1)["x0"] is inp["x0"]
    with pytest.raises(ValueError, match="times must be >= 1, got 0"):
        tile_batch(inp, 3, 0)


def test_stage3_refuses_to_resume_a_stage2_folder(workspace):
    root, data = workspace
    teacher = save_tiny_teacher(root / "tiny_teacher_2")
    out = root / "not_stage3"
    save_tiny_teacher(out / "final")  # a Stage II-style checkpoint
    (out / "latest.txt").write_text("final")
    cfg = Stage3Config(steps=1, batch_clips=1, targets_per_clip=2, num_workers=0, clip_len=8, num_references=2)
    with pytest.raises(ValueError, match="stage 'II' checkpoint.*own --out"):
        distill_stage3(cfg, [data], teacher, root / "ae", out, device="cpu", progress=False)


def _train_args(data, ae, out, *extra):
    return ["train", "--data", str(data), "--autoencoder", str(ae), "--out", str(out), "--batch-clips", "1",
            "--targets-per-clip", "2", "--workers", "0", "--clip-len", "8", "--references", "2", "--device", "cpu",
            "--no-progress", "--log-every", "1", *map(str, extra)]


def test_train_from_pixart_uses_and_records_pixart_schedule(workspace, tmp_path):
    """``train --pixart`` loads the weights, trains on PixArt-Sigma's linear 1e-4..0.02
    schedule and records it in every checkpoint, so fine-tuning and resuming keep it."""
    from safetensors.torch import save_file

    from worldbridge.cli import main
    from worldbridge.models import FrameModel, FrameModelConfig, ScheduleConfig, load_checkpoint_extra

    root, data = workspace
    torch.manual_seed(5)
    source = FrameModel(FrameModelConfig.tiny())
    with torch.no_grad():
        source.final_layer.linear.weight.normal_(std=0.05)
    # the original PixArt key layout is the frame model's own (minus the parameters it lacks)
    pixart_file = tmp_path / "PixArt-Sigma-tiny.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items() if k != "null_anchor"}, str(pixart_file))
    out = tmp_path / "run"
    assert main(_train_args(data, root / "ae", out, "--pixart", pixart_file, "--config", "tiny", "--steps", 2,
                            "--checkpoint-every", 1)) == 0
    pixart = ScheduleConfig.pixart().to_dict()
    assert pixart != ScheduleConfig().to_dict() and pixart["beta_schedule"] == "linear"
    assert pixart["beta_start"] == 1e-4 and pixart["beta_end"] == 0.02
    assert json.loads((out / "stage2.json").read_text())["schedule"] == pixart
    for ckpt in ("pixart_init", "checkpoints/step_0000001", "final"):
        assert load_checkpoint_extra(out / ckpt)["schedule"] == pixart, ckpt
    init = _weights(out / "pixart_init")
    assert torch.equal(init["t_block.1.weight"], source.state_dict()["t_block.1.weight"])
    assert torch.equal(init["final_layer.linear.weight"], source.state_dict()["final_layer.linear.weight"])
    # resuming the run without --pixart would switch schedules: refused, naming both
    with pytest.raises(ValueError, match="noise schedule .*'linear'.*scaled_linear"):
        main(_train_args(data, root / "ae", out, "--config", "tiny", "--steps", 3))
    # fine-tuning keeps the schedule its checkpoint was trained with
    ft = tmp_path / "finetune"
    ft_args = ["finetune", *_train_args(data, root / "ae", ft, "--steps", 1)[1:], "--from", str(out / "final")]
    assert main(ft_args) == 0
    assert load_checkpoint_extra(ft / "final")["schedule"] == pixart


@pytest.mark.parametrize("case", ["channels", "downsample", "latent_size"])
def test_train_from_pixart_refuses_a_mismatched_autoencoder_or_config(workspace, tmp_path, case):
    """PixArt-Sigma was trained on 4-channel f8 latents: anything else fails before the
    (large) weights are read (the weights path here does not even exist)."""
    from worldbridge.cli import main
    from worldbridge.models import FrameModelConfig

    root, data = workspace
    ae, config, message = root / "ae", "tiny", ""
    if case == "channels":
        ae = tmp_path / "ae8"
        CompactAutoencoder(CompactAutoencoderConfig(latent_channels=8, block_channels=(8, 16, 16, 16),
                                                    norm_groups=4)).save(ae)
        message = "the autoencoder has 8 latent channels, PixArt-Sigma's has 4"
    elif case == "downsample":
        ae = tmp_path / "ae_f4"
        CompactAutoencoder(CompactAutoencoderConfig(block_channels=(8, 16, 16), norm_groups=4)).save(ae)
        message = r"the autoencoder downsamples by 4 \(f4\), PixArt-Sigma's by 8"
    else:
        config = tmp_path / "config.json"
        config.write_text(json.dumps(FrameModelConfig.tiny(image_size=128).to_dict()))
        message = r"latent_size=8 and image_size=128.*latent_size \* 8 must equal image_size"
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=f"cannot start from PixArt-Sigma weights: .*{message}"):
        main(_train_args(data, ae, out, "--pixart", tmp_path / "no-such-weights", "--config", config,
                         "--steps", 1))
    assert not (out / "pixart_init").exists()


def _bundle(workspace):
    root, data = workspace
    path = root / "bundle"
    if not (path / "bundle.json").exists():
        test_stage3_dmd_distils_and_serves(workspace)
    return path


def test_frame_model_generator_is_deterministic_per_pose(workspace):
    from worldbridge.generators import GenerationContext, GeneratorOptions
    from worldbridge.generators.frame_model import FrameModelGenerator
    from worldbridge.geometry import Intrinsics
    from worldbridge.geometry.views import Camera, ReferenceView

    gen = FrameModelGenerator(GeneratorOptions(bundle=_bundle(workspace), device="cpu", anchor_lock=False))
    k = Intrinsics.from_vertical_fov(60, 96, 80)
    rng = np.random.default_rng(0)
    anchor = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    refs = [ReferenceView(0, rng.integers(0, 256, (80, 96, 3), dtype=np.uint8), Camera(np.eye(4), k))]

    def ctx(seed, dx=0.0):
        c2w = np.eye(4)
        c2w[0, 3] = dx
        return GenerationContext(anchor, np.ones((80, 96), np.float32), np.ones((80, 96), bool),
                                 Camera(c2w, k), refs, seed)

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

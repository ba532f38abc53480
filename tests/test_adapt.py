"""worldbridge adapt: hold out, fine-tune the shipped teacher, distil, bundle, evaluate, resume."""

from __future__ import annotations

import json
import math

import pytest
import torch
from helpers import record_synthetic_scene

from worldbridge.models import (
    CompactAutoencoder,
    CompactAutoencoderConfig,
    FrameModel,
    FrameModelBundle,
    FrameModelConfig,
    ScheduleConfig,
    save_bundle,
    save_checkpoint,
)
from worldbridge.models.checkpoint import CheckpointError
from worldbridge.training import adapt as adapt_module
from worldbridge.training.adapt import AdaptConfig, adapt, split_trajectories
from worldbridge.training.config import Stage2Config

TINY = AdaptConfig(finetune_steps=2, distill_steps=2, checkpoint_every=1, num_workers=0, references=[1],
                   distances=[2], cases_per_recording=1, heldout=1)


@pytest.fixture(scope="module")
def level(tmp_path_factory):
    """A tiny base bundle that ships its teacher (and the teacher's recipe), and a level of
    four short non-square recordings."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("adapt")
    torch.manual_seed(0)
    teacher = FrameModel(FrameModelConfig.tiny())
    with torch.no_grad():
        teacher.final_layer.linear.weight.normal_(std=0.02)
    extra = {"schedule": ScheduleConfig().to_dict(), "sampler_timesteps": [999, 200]}
    teacher_dir = save_checkpoint(teacher, root / "teacher", extra=extra)
    recipe = Stage2Config(model="tiny", steps=10, batch_clips=1, targets_per_clip=2, image_size=64, clip_len=8,
                          num_references=2, num_workers=0, anchor_mask_prob=0.0)
    (root / "stage2.json").write_text(recipe.to_json())
    student = save_checkpoint(teacher, root / "student", extra=extra)
    ae = CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(root / "ae")
    base = save_bundle(root / "base", student, ae, info={"name": "tiny base"}, teacher_dir=teacher_dir,
                       teacher_config=root / "stage2.json")
    data = [record_synthetic_scene(root / "level", f"traj{i}", frames=12, size=48, width=64, seed=i)
            for i in range(4)]
    return root, base, data


def test_split_holds_out_whole_trajectories(tmp_path):
    paths = [tmp_path / f"t{i:02d}" for i in range(9)]
    train, held = split_trajectories(paths, None)
    assert len(held) == 2 and len(train) == 7 and not set(train) & set(held)
    assert split_trajectories(list(reversed(paths)), None) == (train, held)  # order-free
    assert len(split_trajectories(paths, 3)[1]) == 3
    with pytest.raises(ValueError, match="leave at least one"):
        split_trajectories(paths[:2], 2)
    with pytest.raises(ValueError, match="at least 2 recordings"):
        split_trajectories(paths[:1], None)
    with pytest.raises(ValueError, match="listed twice"):
        split_trajectories([paths[0], paths[0], paths[1]], None)


def test_adapt_end_to_end_and_the_bundle_it_writes(level, tmp_path, monkeypatch):
    root, base, data = level
    res = adapt(data, tmp_path / "run", base=base, cfg=TINY, device="cpu", progress=False)
    out = res.out_dir
    split = json.loads((out / "split.json").read_text())
    assert len(split["heldout"]) == 1 and len(split["train"]) == 3
    assert not set(split["heldout"]) & set(split["train"])
    assert (out / "finetune" / "final" / "ema").is_dir() and (out / "distill" / "final").is_dir()
    assert (out / "finetune" / "loss.png").is_file() and (out / "distill" / "loss.png").is_file()
    b = FrameModelBundle.load(res.bundle)
    assert b.teacher_path is not None and b.teacher_path.parent == res.bundle.resolve()
    meta = json.loads((res.bundle / "bundle.json").read_text())
    assert meta["base_model"]["name"] == "tiny base" and meta["level_data"]["heldout"] == split["heldout"]
    assert meta["recipe"]["finetune_steps"] == 2 and meta["recipe"]["distill_steps"] == 2
    assert set(meta["training_seconds"]) >= {"finetune", "distill"}
    assert meta["evaluation"]["verdict"] == res.report["verdict"]
    rows = res.report["rows"]
    assert [r["metric"] for r in rows] == [h[2] for h in adapt_module.HEADLINE]
    for r in rows:  # both bundles scored on the same held-out cases
        assert math.isfinite(r["before"]) and math.isfinite(r["after"])
        assert r["delta"] == pytest.approx(r["after"] - r["before"])
    assert ("beats" in res.report["verdict"]) == res.report["better"]
    md = (out / "report.md").read_text()
    assert res.report["verdict"] in md and "| 1 | 2 | hole PSNR (dB) |" in md
    for name in ("before", "after"):
        assert json.loads((out / f"eval_{name}.json").read_text())["protocol"] == "extrapolation"
    cases = json.loads((out / "eval_after.json").read_text())["cases"]
    assert len(cases) == 1 and f"and {len(cases)} case(s)" in res.report["verdict"]  # the sample size is said
    # a finished run is not redone
    calls = []
    monkeypatch.setattr("worldbridge.training.stage2.train_stage2", lambda *a, **k: calls.append("2"))
    monkeypatch.setattr("worldbridge.training.stage3.distill_stage3", lambda *a, **k: calls.append("3"))
    again = adapt(data, tmp_path / "run", base=base, cfg=TINY, device="cpu", progress=False)
    assert calls == [] and again.report == res.report


class _Stop(Exception):
    """Stands for an interruption (a killed run) at one stage."""


@pytest.mark.parametrize("stage", ["distill", "bundle", "evaluate"])
def test_adapt_resumes_after_an_interruption_at_each_stage(level, tmp_path, monkeypatch, stage):
    root, base, data = level
    out = tmp_path / "run"
    targets = {"distill": "worldbridge.training.stage3.distill_stage3",
               "bundle": "worldbridge.training.adapt._write_bundle",
               "evaluate": "worldbridge.evaluation.evaluate"}
    with monkeypatch.context() as m:
        def stop(*a, **k):
            raise _Stop(stage)

        m.setattr(targets[stage], stop)
        with pytest.raises(_Stop):
            adapt(data, out, base=base, cfg=TINY, device="cpu", progress=False)
    assert (out / "finetune" / "final").is_dir()
    done_before = {p.name for p in out.iterdir()}
    finetuned = (out / "finetune" / "final" / "model.safetensors").stat().st_mtime_ns
    res = adapt(data, out, base=base, cfg=TINY, device="cpu", progress=False)
    assert (out / "finetune" / "final" / "model.safetensors").stat().st_mtime_ns == finetuned  # not redone
    assert res.report is not None and (out / "report.md").is_file()
    assert "split.json" in done_before
    timings = json.loads((out / "timings.json").read_text())
    assert {"finetune", "distill", "bundle", "evaluate"} <= set(timings)


def test_adapt_refuses_what_it_cannot_do(level, tmp_path):
    root, base, data = level
    no_teacher = save_bundle(tmp_path / "student_only", root / "student", root / "ae")
    with pytest.raises(CheckpointError, match="ships no Stage II teacher"):
        adapt(data, tmp_path / "a", base=no_teacher, cfg=TINY, device="cpu", progress=False)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "split.json").write_text(json.dumps({"train": ["x"], "heldout": ["y"]}))
    with pytest.raises(ValueError, match="holds an adapt run of other data"):
        adapt(data, tmp_path / "b", base=base, cfg=TINY, device="cpu", progress=False)
    with pytest.raises(ValueError, match="finetune_steps must be an integer >= 1"):
        AdaptConfig(finetune_steps=0)


def test_distillation_can_start_its_student_from_another_checkpoint(level, tmp_path):
    """After a fine-tune, the generator starts from the base's distilled student, not from a
    copy of the (fine-tuned) teacher; the fake-score model still starts from the teacher."""
    from worldbridge.models.checkpoint import load_frame_model
    from worldbridge.training.config import Stage3Config
    from worldbridge.training.stage3 import distill_stage3

    root, base, data = level
    teacher = load_frame_model(root / "teacher")
    student = FrameModel(FrameModelConfig.tiny())
    with torch.no_grad():
        for p in student.parameters():
            p.normal_(std=0.05)
    student_dir = save_checkpoint(student, tmp_path / "student", extra={"schedule": ScheduleConfig().to_dict()})
    cfg = Stage3Config(steps=1, batch_clips=1, targets_per_clip=2, fake_updates_per_step=1, teacher_ddim_steps=2,
                       num_workers=0, log_every=1, clip_len=8, num_references=2, lr_generator=1e-6, lr_fake=1e-6)
    r = distill_stage3(cfg, data[:1], root / "teacher", root / "ae", tmp_path / "s3", device="cpu",
                       progress=False, init_student_from=student_dir)
    gen = load_frame_model(r.checkpoint)

    def dist(a, b):
        return sum(float((p - q).abs().sum().detach()) for p, q in zip(a.parameters(), b.parameters()))

    assert dist(gen, student) < 0.01 * dist(gen, teacher)
    other = FrameModel(FrameModelConfig.tiny(depth=1))
    other_dir = save_checkpoint(other, tmp_path / "other", extra={"schedule": ScheduleConfig().to_dict()})
    with pytest.raises(ValueError, match="another architecture"):
        distill_stage3(cfg, data[:1], root / "teacher", root / "ae", tmp_path / "s3b", device="cpu",
                       progress=False, init_student_from=other_dir)


def test_the_starter_model_ships_its_teacher():
    from worldbridge.generators.options import GeneratorOptions
    from worldbridge.models.checkpoint import load_checkpoint_extra, load_frame_model
    from worldbridge.training.stage2 import finetune_start

    starter = FrameModelBundle.load(GeneratorOptions().bundle_path())
    teacher = finetune_start(starter.path)
    assert teacher == starter.teacher_path
    model = load_frame_model(teacher)
    assert model.config == starter.model.config  # the student's architecture, so DMD can start from it
    assert load_checkpoint_extra(teacher)["schedule"] == starter.schedule.config.to_dict()
    recipe = Stage2Config.from_json((teacher / "stage2.json").read_text())
    assert recipe.steps == 2000 and recipe.clips["reference_layout"] == "contiguous"
    differs = any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                          starter.model.state_dict().values()))
    assert differs  # the teacher, not a copy of the distilled student

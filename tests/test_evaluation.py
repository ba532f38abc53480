"""Evaluation: PSNR / SSIM / warping error with known answers, and an end-to-end evaluate()."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from worldbridge.evaluation import (
    EvalReport,
    eval_main,
    evaluate,
    extrapolation_cases,
    gaussian_window,
    interpolation_cases,
    psnr,
    ssim,
    ssim_map,
    warp_error,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _images(seed: int, b: int = 2, h: int = 32, w: int = 32) -> torch.Tensor:
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- PSNR


def test_psnr_identical_images_is_infinite():
    a = _images(0)
    assert torch.isinf(psnr(a, a.clone())).all()


def test_psnr_known_mse():
    a = torch.full((2, 3, 8, 8), 0.5, dtype=torch.float64)
    b = a + torch.tensor([0.1, 0.01], dtype=torch.float64).view(2, 1, 1, 1)  # MSE 1e-2, 1e-4
    out = psnr(a, b)
    assert out.dtype == torch.float64 and out.shape == (2,)
    assert out.tolist() == pytest.approx([20.0, 40.0], abs=1e-9)
    # 8-bit units: an error of 1 level everywhere is 20 log10(255) dB.
    assert psnr(a * 255, a * 255 + 1, data_range=255.0).tolist() == \
        pytest.approx([20 * math.log10(255)] * 2)


def test_psnr_mask_averages_over_masked_pixels_only():
    a = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    b = a.clone()
    b[..., :2, :] = 0.1  # error 0.1 in the top half only
    top = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    top[..., :2, :] = True
    assert psnr(a, b, top).item() == pytest.approx(20.0)
    assert math.isinf(psnr(a, b, ~top).item())
    assert psnr(a, b, top.float()[:, 0]).item() == pytest.approx(20.0)  # [B, H, W] {0, 1}
    assert psnr(a, b).item() == pytest.approx(10 * math.log10(1 / 0.005))  # half the pixels
    assert math.isnan(psnr(a, b, torch.zeros_like(top)).item())


def test_metrics_reject_bad_inputs():
    a = _images(0)
    with pytest.raises(ValueError, match="same shape"):
        psnr(a, a[:, :, :16])
    with pytest.raises(ValueError, match="floating"):
        psnr(a.to(torch.uint8), a.to(torch.uint8))
    with pytest.raises(ValueError, match="mask"):
        psnr(a, a, torch.ones(2, 1, 8, 8))
    with pytest.raises(ValueError, match="at least 11 x 11"):
        ssim(a[..., :10, :10], a[..., :10, :10])


# --------------------------------------------------------------------------- SSIM


def test_gaussian_window_is_normalised_and_symmetric():
    g = gaussian_window()
    assert g.shape == (11,) and g.sum().item() == pytest.approx(1.0)
    assert torch.allclose(g, g.flip(0))
    assert g[5] / g[4] == pytest.approx(math.exp(1 / (2 * 1.5**2)))


def test_ssim_identical_images_is_one():
    a = _images(1)
    assert ssim(a, a.clone()).tolist() == pytest.approx([1.0, 1.0], abs=1e-12)


def test_ssim_of_constant_images_has_the_closed_form():
    # No variance: SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1) everywhere.
    a = torch.full((1, 3, 16, 16), 0.2, dtype=torch.float64)
    b = torch.full((1, 3, 16, 16), 0.6, dtype=torch.float64)
    c1 = (0.01) ** 2
    want = (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert ssim(a, b).item() == pytest.approx(want, rel=1e-9)


def test_ssim_map_matches_a_direct_window_computation():
    a, b = _images(2, b=1, h=20, w=23), _images(3, b=1, h=20, w=23)
    m = ssim_map(a, b)
    assert m.shape == (1, 1, 10, 13)
    g = gaussian_window().numpy()
    w2 = np.outer(g, g)
    c1, c2 = 0.01**2, 0.03**2
    for (i, j) in [(0, 0), (4, 7), (9, 12)]:  # map pixel (i, j): window rows i..i+10
        vals = []
        for c in range(3):
            x = a[0, c, i:i + 11, j:j + 11].double().numpy()
            y = b[0, c, i:i + 11, j:j + 11].double().numpy()
            mx, my = (w2 * x).sum(), (w2 * y).sum()
            vx, vy = (w2 * (x - mx) ** 2).sum(), (w2 * (y - my) ** 2).sum()
            cxy = (w2 * (x - mx) * (y - my)).sum()
            vals.append((2 * mx * my + c1) * (2 * cxy + c2)
                        / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
        assert m[0, 0, i, j].item() == pytest.approx(np.mean(vals), abs=1e-10)
    assert ssim(a, b).item() == pytest.approx(m.mean().item())


def test_ssim_mask_averages_the_map_over_the_mask():
    a = _images(4, b=1)
    b = a.clone()
    b[..., 16:, :] = torch.rand(1, 3, 16, 32, generator=torch.Generator().manual_seed(5))
    full = torch.ones(1, 1, 32, 32, dtype=torch.bool)
    assert ssim(a, b, full).item() == pytest.approx(ssim(a, b).item(), abs=1e-12)
    top = torch.zeros_like(full)
    top[..., :8, :] = True  # windows centred in rows 5..7 never reach the noisy half
    assert ssim(a, b, top).item() == pytest.approx(1.0, abs=1e-12)
    bottom = ~top
    assert ssim(a, b, bottom).item() < 0.5
    border = torch.zeros_like(full)
    border[..., :5, :] = True  # no full window centred there
    assert math.isnan(ssim(a, b, border).item())


def test_ssim_falls_with_noise():
    a = _images(6, b=1)
    noise = torch.randn(a.shape, generator=torch.Generator().manual_seed(7))
    s = [ssim(a, (a + sd * noise).clamp(0, 1)).item() for sd in (0.01, 0.05, 0.2)]
    assert 1.0 > s[0] > s[1] > s[2] > 0.0


# --------------------------------------------------------------------------- warp error


def _plane_pair(shift_px: int = 4):
    """A fronto-parallel plane 2 m away, the camera moved right by shift_px pixels' worth."""
    h = w = 32
    f, z = 16.0, 2.0
    K = torch.tensor([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], dtype=torch.float64)
    t = shift_px * z / f  # metres that shift the plane by shift_px pixels
    prev_c2w = torch.eye(4, dtype=torch.float64)[None]
    cur_c2w = prev_c2w.clone()
    cur_c2w[0, 0, 3] = t
    prev = _images(8, b=1, h=h, w=w)
    cur = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(9))
    cur[..., :w - shift_px] = prev[..., shift_px:]  # cur(u) = prev(u + shift)
    depth = torch.full((1, 1, h, w), z)
    return prev, cur, depth, cur_c2w, prev_c2w, K


def test_warp_error_is_zero_for_a_consistent_translation():
    prev, cur, depth, cur_c2w, prev_c2w, K = _plane_pair(4)
    r = warp_error(prev, cur, depth, cur_c2w, prev_c2w, K, depth)
    assert r.error.item() == pytest.approx(0.0, abs=1e-6)
    assert r.fraction.item() == pytest.approx(28 / 32)  # the last 4 columns leave the image
    assert r.mask[0, 0, :, :28].all() and not r.mask[0, 0, :, 28:].any()
    assert torch.allclose(r.warped[..., :28], cur[..., :28].double())


def test_warp_error_is_large_for_a_shuffled_pair():
    prev, cur, depth, cur_c2w, prev_c2w, K = _plane_pair(4)
    perm = torch.randperm(32 * 32, generator=torch.Generator().manual_seed(10))
    shuffled = cur.flatten(2)[..., perm].view_as(cur)
    r = warp_error(prev, shuffled, depth, cur_c2w, prev_c2w, K, depth)
    assert r.error.item() > 50.0  # E|U - V| = 1/3 for independent uniforms: ~85 levels


def test_warp_error_skips_occluded_and_invalid_pixels():
    prev, cur, depth, cur_c2w, prev_c2w, K = _plane_pair(4)
    prev_depth = depth.clone()
    prev_depth[..., :8, :] = 1.0  # something closer hides the plane in the previous frame
    cur_depth = depth.clone()
    cur_depth[..., 24:, :] = 0.0  # no depth for the bottom rows of the current frame
    prev_bad = prev.clone()
    prev_bad[..., :8, :] = 1.0 - prev_bad[..., :8, :]  # the occluder's colours
    r = warp_error(prev_bad, cur, cur_depth, cur_c2w, prev_c2w, K, prev_depth)
    assert r.error.item() == pytest.approx(0.0, abs=1e-6)
    assert r.fraction.item() == pytest.approx(16 * 28 / (32 * 32))
    # Without the visibility check the occluder would count: K as [3, 3] works too.
    r2 = warp_error(prev_bad, cur, cur_depth, cur_c2w, prev_c2w, K[0] if K.ndim == 3 else K,
                    depth)
    assert r2.error.item() > 10.0


def test_warp_error_batched_with_per_frame_intrinsics():
    p1 = _plane_pair(4)
    p2 = _plane_pair(2)
    prev, cur, depth, cur_c2w, prev_c2w = (torch.cat([x, y]) for x, y in zip(p1[:5], p2[:5]))
    K = torch.stack([p1[5], p2[5]])
    r = warp_error(prev, cur, depth, cur_c2w, prev_c2w, K, depth, prev_K=K)
    assert r.error.tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert r.fraction.tolist() == pytest.approx([28 / 32, 30 / 32])
    with pytest.raises(ValueError, match="cur_c2w"):
        warp_error(prev, cur, depth, cur_c2w[:1], prev_c2w, K, depth)


def _look_at_plane(c2w: torch.Tensor, K: torch.Tensor, h: int, w: int):
    """Ray-cast the plane Z = 3 m with the smooth texture f(X, Y): (rgb, planar depth)."""
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float64) + 0.5,
                                torch.arange(w, dtype=torch.float64) + 0.5, indexing="ij")
    d_cam = torch.linalg.inv(K) @ torch.stack([cols, rows, torch.ones_like(cols)]).reshape(3, -1)
    d = c2w[:3, :3] @ d_cam  # world ray per pixel, camera z component 1
    o = c2w[:3, 3:]
    s = (3.0 - o[2]) / d[2]  # ray parameter = planar depth, since d_cam.z = 1
    p = o + s * d
    x, y = p[0], p[1]
    rgb = torch.stack([0.5 + 0.4 * torch.sin(1.3 * x + 0.4 * y), 0.5 + 0.4 * torch.cos(0.9 * y),
                       0.5 + 0.3 * torch.sin(0.7 * x - 1.1 * y)])
    return rgb.reshape(1, 3, h, w), s.reshape(1, 1, h, w)


def _pose(yaw: float, pitch: float, t) -> torch.Tensor:
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    ry = torch.tensor([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=torch.float64)
    rx = torch.tensor([[1, 0, 0], [0, cp, -sp], [0, sp, cp]], dtype=torch.float64)
    m = torch.eye(4, dtype=torch.float64)
    m[:3, :3] = ry @ rx
    m[:3, 3] = torch.tensor(t, dtype=torch.float64)
    return m


def test_warp_error_with_rotation_and_translation_on_an_analytic_scene():
    h, w = 48, 64
    K = torch.tensor([[50.0, 0, 31.0], [0, 52.0, 25.0], [0, 0, 1]], dtype=torch.float64)
    prev_c2w = _pose(0.05, -0.03, [0.0, 0.0, 0.0])
    cur_c2w = _pose(-0.08, 0.04, [0.15, -0.05, 0.2])
    prev, prev_d = _look_at_plane(prev_c2w, K, h, w)
    cur, cur_d = _look_at_plane(cur_c2w, K, h, w)
    r = warp_error(prev, cur, cur_d, cur_c2w[None], prev_c2w[None], K, prev_d)
    assert r.fraction.item() > 0.7
    assert r.error.item() < 0.5  # only bilinear resampling of a smooth texture remains
    # The wrong relative pose (the frames swapped) is far off.
    bad = warp_error(prev, cur, cur_d, prev_c2w[None], cur_c2w[None], K, prev_d)
    assert bad.error.item() > 5 * r.error.item() + 2.0


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    from helpers import record_synthetic_scene

    from worldbridge.models import (
        CompactAutoencoder,
        CompactAutoencoderConfig,
        FrameModel,
        FrameModelConfig,
        ScheduleConfig,
        save_bundle,
        save_checkpoint,
    )

    root = tmp_path_factory.mktemp("eval")
    torch.manual_seed(0)
    model = FrameModel(FrameModelConfig.tiny())
    with torch.no_grad():  # PixArt init zeroes the output layer: make the model do something
        model.final_layer.linear.weight.normal_(std=0.02)
    model_dir = save_checkpoint(model, root / "model", extra={
        "schedule": ScheduleConfig().to_dict(), "sampler_timesteps": [999, 200]})
    ae_dir = CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(root / "ae")
    bundle = save_bundle(root / "bundle", model_dir, ae_dir)
    # 16:9 frames: the pipeline pads them to the model's square and crops back
    scenes = [record_synthetic_scene(root, f"scene{i}", frames=16, size=36, width=64, seed=i)
              for i in range(2)]
    return bundle, model_dir, scenes


def _numbers(d):
    if isinstance(d, dict):
        for v in d.values():
            yield from _numbers(v)
    elif isinstance(d, (list, tuple)):
        for v in d:
            yield from _numbers(v)
    elif isinstance(d, float):
        yield d


def test_extrapolation_and_interpolation_cases():
    one = extrapolation_cases([40], 1, distances=(4, 8, 16), cases_per_recording=2)
    assert [c.references for c in one] == [(17,), (22,)]  # 17 frames free on both sides
    assert one[0].targets == ((13, 4, 12), (21, 4, 22), (9, 8, 8), (25, 8, 26), (1, 16, 0),
                              (33, 16, 34))
    two = extrapolation_cases([40, 10], 2, distances=(2, 4), reference_gap=3)
    assert all(c.dataset_index == 0 for c in two)  # 10 frames fit no case
    for c in two:
        r0, r1 = c.references
        assert r1 - r0 == 3
        for frame, d, nxt in c.targets:
            assert min(abs(frame - r0), abs(frame - r1)) == d  # d frames from the nearest
            assert abs(nxt - frame) == 1 and min(abs(nxt - r0), abs(nxt - r1)) == d + 1
    assert extrapolation_cases([20], 1, distances=(16,)) == []
    with pytest.raises(ValueError, match="distances"):
        extrapolation_cases([40], 1, distances=(0,))
    inter = interpolation_cases([35])
    assert [c.references for c in inter] == [(0, 5, 10, 15), (16, 21, 26, 31)]
    assert [t[0] for t in inter[0].targets] == [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14]
    assert inter[0].targets[0] == (1, 1, 2) and inter[0].targets[3] == (4, 1, -1)


def test_evaluate_end_to_end(tiny_setup):
    bundle, model_dir, scenes = tiny_setup
    report = evaluate(bundle, scenes, references=(1, 2), distances=(2, 4), reference_gap=2,
                      cases_per_recording=1, teacher_dir=model_dir, teacher_steps=(2, 3),
                      device="cpu", seed=3)
    assert isinstance(report, EvalReport) and report.protocol == "extrapolation"
    assert report.methods == {"anchor": None, "telea": None, "frame-model": 2,
                              "frame-model-unlocked": 2, "teacher-2": 2, "teacher-3": 3}
    assert len(report.cases) == 4 and report.settings["output_size"] == "64x36"
    assert set(report.scores) == {"1", "2"} and set(report.scores["1"]) == {"2", "4"}
    for r in ("1", "2"):
        for d in ("2", "4"):
            for method in report.methods:
                s = report.scores[r][d][method]
                assert s["all"]["pixels"] == 2 * 2 * 64 * 36  # 2 recordings x 2 targets
                assert math.isfinite(s["covered"]["psnr"]) and math.isfinite(s["holes"]["psnr"])
                assert s["holes"]["pixels"] > 0 and s["holes"]["warp_pixels"] > 0
            covered = {m: report.score(int(r), int(d), m, "covered", "sse") for m in report.methods}
            # anchor lock: every covered pixel is the anchor's, whatever fills the holes
            assert covered["frame-model"] == covered["anchor"] == covered["telea"] == covered["teacher-3"]
            assert covered["frame-model-unlocked"] > covered["anchor"]
            assert math.isfinite(report.engine_warp[r][d]["holes"])
    # the camera moves on: more of the view is new further from the references
    assert report.hole_fraction["1"]["4"] > report.hole_fraction["1"]["2"] > 0
    d = json.loads(report.to_json())
    assert d["settings"]["conditioning"]["pose_normalization"] == "reference_depth"
    assert all(math.isfinite(x) for x in _numbers(d))
    md = report.to_markdown()
    assert "| frame model, anchor-locked | 2 | 2 |" in md
    assert "| teacher, 3-step DDIM, anchor-locked | 3 | 4 |" in md
    assert "**2 reference views**" in md


def test_evaluation_frames_are_the_served_frames(tiny_setup):
    """The pipeline evaluate() runs is the one a serving session runs: a WorkerSession with
    the frame-model generator returns exactly the pipeline's frame."""
    from worldbridge.generators import GeneratorOptions
    from worldbridge.generators.base import pose_seed
    from worldbridge.geometry.views import Camera
    from worldbridge.models import DistilledSampler, FrameModelBundle
    from worldbridge.models.pipeline import FramePipeline
    from worldbridge.recording import load_dataset
    from worldbridge.serving.worker.session import OutputSpec, WorkerSession

    bundle_dir, _, scenes = tiny_setup
    ds = load_dataset(scenes[0])
    views = [ds.read_view(i) for i in (3, 9)]
    spec = OutputSpec(64, 36, 1, 1)
    served = WorkerSession(views, "frame-model", spec, 5, options=GeneratorOptions(bundle=bundle_dir, device="cpu"))
    b = FrameModelBundle.load(bundle_dir)
    pipe = FramePipeline.from_model(b.model, b.autoencoder, b.schedule, DistilledSampler(b.schedule, b.timesteps),
                                    device="cpu")
    for i in (0, 12):
        f = ds.frames[i]
        frame = served.render(Camera(f.c2w_cv, f.intrinsics)).rgb
        anchor = served.memory.render(f.c2w_cv, f.intrinsics.K, 36, 64)
        want = pipe.generate(anchor.image, anchor.mask, Camera(f.c2w_cv, f.intrinsics), served.references,
                             pose_seed(5, f.c2w_cv))
        np.testing.assert_array_equal(frame, want)


def test_eval_main_writes_json_and_markdown(tiny_setup, tmp_path, capsys):
    bundle, _, scenes = tiny_setup
    out, md = tmp_path / "r" / "report.json", tmp_path / "report.md"
    code = eval_main(["--bundle", str(bundle), "--data", str(scenes[0]), "--references", "1",
                      "--distances", "3", "--cases-per-recording", "1", "--device", "cpu",
                      "--out", str(out), "--markdown", str(md)])
    assert code == 0
    d = json.loads(out.read_text())
    assert list(d["methods"]) == ["anchor", "telea", "frame-model", "frame-model-unlocked"]
    assert d["scores"]["1"]["3"]["frame-model"]["holes"]["psnr"] is not None
    assert md.read_text() in capsys.readouterr().out
    code = eval_main(["--bundle", str(bundle), "--data", str(scenes[0]), "--protocol", "interpolation",
                      "--device", "cpu"])
    assert code == 0 and "**4 reference views**" in capsys.readouterr().out
    code = eval_main(["--bundle", str(bundle), "--data", str(tmp_path / "missing"), "--device", "cpu"])
    assert code == 2 and "worldbridge eval:" in capsys.readouterr().err
    code = eval_main(["--bundle", str(bundle), "--data", str(scenes[0]), "--distances", "40"])
    assert code == 2 and "no extrapolation case" in capsys.readouterr().err

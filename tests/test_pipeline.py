"""The one inference pipeline: anchor lock, framing, reference choice and its cache, pose
normalisation, serving that matches training, and the session options end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import record_synthetic_scene

from worldbridge.generators import GeneratorOptions
from worldbridge.geometry import Intrinsics
from worldbridge.geometry.framing import SquareFit
from worldbridge.geometry.views import Camera, PosedView, ReferenceView, pose_distance
from worldbridge.models import (
    CompactAutoencoder,
    CompactAutoencoderConfig,
    DistilledSampler,
    FrameModel,
    FrameModelConfig,
    NoiseSchedule,
    ScheduleConfig,
    save_bundle,
    save_checkpoint,
)
from worldbridge.models.pipeline import FramePipeline, PipelineOptions
from worldbridge.render.holes import composite_anchor_locked

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(**overrides) -> tuple[FrameModel, CompactAutoencoder]:
    torch.manual_seed(0)
    model = FrameModel(FrameModelConfig.tiny(**overrides))
    with torch.no_grad():  # non-trivial outputs from the zero-initialised layers
        model.final_layer.linear.weight.normal_(0, 0.05)
        if model.mask_embedder is not None:
            model.mask_embedder.proj.weight.normal_(0, 0.5)
    return model.eval(), CompactAutoencoder(CompactAutoencoderConfig.tiny()).eval()


def _pipeline(anchor_lock: bool = True, **overrides) -> FramePipeline:
    model, ae = _model(**overrides)
    schedule = NoiseSchedule(ScheduleConfig())
    return FramePipeline.from_model(model, ae, schedule, DistilledSampler(schedule, (999, 200)),
                                    device="cpu", options=PipelineOptions(anchor_lock=anchor_lock))


def _c2w(x: float = 0.0, z: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = [[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]]
    m[:3, 3] = [x, 0.0, z]
    return m


# ----------------------------------------------------------------------------- compositing
def test_anchor_lock_keeps_covered_pixels_and_feathers_inside_the_hole():
    rng = np.random.default_rng(0)
    anchor = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    generated = np.full((20, 30, 3), 200.0, np.float32)
    mask = np.ones((20, 30), bool)
    mask[:, 10:] = False  # a hole: columns 10..29, distance col - 9 from the last covered column
    anchor[~mask] = 0
    out = composite_anchor_locked(anchor, mask, generated, feather_px=2.0)
    np.testing.assert_array_equal(out[mask], anchor[mask])
    np.testing.assert_array_equal(out[:, 12:], 200)  # 3 px and deeper: the generated frame
    near = anchor[:, 9].astype(np.float32)
    np.testing.assert_array_equal(out[:, 10], np.rint(near * 2 / 3 + 200 / 3).astype(np.uint8))
    np.testing.assert_array_equal(out[:, 11], np.rint(near / 3 + 200 * 2 / 3).astype(np.uint8))
    hard = composite_anchor_locked(anchor, mask, generated, feather_px=0)
    np.testing.assert_array_equal(hard[:, 10:], 200)
    with pytest.raises(ValueError, match="same size"):
        composite_anchor_locked(anchor, mask[:, :5], generated)


# ----------------------------------------------------------------------------- framing
@pytest.mark.parametrize("mode", ["crop", "pad"])
@pytest.mark.parametrize("size", [(160, 90), (90, 160), (64, 64)])
def test_square_framing_moves_the_camera_with_the_pixels(mode, size):
    """A world point lands on the same image content before and after framing: its pixel in
    the frame, carried through window + resize, is its pixel under the square intrinsics."""
    w, h = size
    k = Intrinsics(70.0, 72.0, w / 2 + 3.5, h / 2 - 2.25, w, h)
    fit = SquareFit.of(w, h, 48, mode)
    ks = fit.intrinsics(k)
    assert (ks.width, ks.height) == (48, 48)
    rng = np.random.default_rng(1)
    for _ in range(20):
        p = np.array([rng.uniform(-1, 1), rng.uniform(-0.6, 0.6), rng.uniform(2, 5)])
        u, v = k.fx * p[0] / p[2] + k.cx, k.fy * p[1] / p[2] + k.cy
        us, vs = ks.fx * p[0] / p[2] + ks.cx, ks.fy * p[1] / p[2] + ks.cy
        scale = 48 / fit.side
        assert us == pytest.approx((u - fit.x0) * scale, abs=1e-9)
        assert vs == pytest.approx((v - fit.y0) * scale, abs=1e-9)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    square = fit.window(img, fill=7)
    assert square.shape == (fit.side, fit.side, 3)
    if mode == "pad":  # no pixel is lost, the bands are the fill, the frame comes back
        assert (square == 7).sum() == 3 * (fit.side ** 2 - w * h) + (img == 7).sum()
        same = SquareFit.of(w, h, fit.side, "pad")
        np.testing.assert_array_equal(same.from_square(same.to_square(img, 0, 7)), img)


# ----------------------------------------------------------------------------- references
def test_nearest_reference_and_its_cache_rebuilt_only_when_it_changes():
    pipe = _pipeline()
    pipe.options = PipelineOptions(max_cached_references=2)
    k = Intrinsics.from_vertical_fov(60, 64, 64)
    rng = np.random.default_rng(0)
    refs = [ReferenceView(i, rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), Camera(_c2w(x), k), 3.0)
            for i, x in enumerate((0.0, 2.0, 4.0))]
    anchor = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = rng.random((64, 64)) > 0.3

    def frame(x):
        return pipe.generate(anchor, mask, Camera(_c2w(x), k), refs, seed=1)

    assert pipe.choose_reference(Camera(_c2w(1.2), k), refs).view_id == 1
    assert pipe.choose_reference(Camera(_c2w(-5.0), k), refs).view_id == 0
    # translation in scene scales plus rotation in radians
    assert pose_distance(refs[0].camera, refs[0].camera, 3.0) == 0.0
    assert pose_distance(Camera(_c2w(3.0), k), refs[0].camera, 3.0) == pytest.approx(1.0)
    assert pose_distance(Camera(_c2w(yaw=0.5), k), refs[0].camera, 3.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="scale"):
        pose_distance(refs[0].camera, refs[1].camera, 0.0)
    frame(0.1)
    frame(0.2)
    assert pipe.reference_builds == 1  # same reference: its keys/values are reused
    a = frame(1.9)
    assert pipe.reference_builds == 2  # view 1 is nearer now
    frame(0.1)
    assert pipe.reference_builds == 2  # view 0 is still cached
    frame(3.9)  # view 2: the least recently used, view 1, leaves the LRU of 2
    frame(0.1)
    assert pipe.reference_builds == 3  # view 0 was used more recently and stayed
    frame(1.9)
    assert pipe.reference_builds == 4  # view 1 is built again
    # the reference matters: the same frame with only view 0 differs
    b = pipe.generate(anchor, mask, Camera(_c2w(1.9), k), refs[:1], seed=1)
    assert np.abs(a.astype(int) - b.astype(int))[~mask].max() > 0


# ----------------------------------------------------------------------------- PRoPE scale
@pytest.mark.parametrize("normalization", ["reference_depth", "none"])
def test_output_unchanged_when_the_scene_is_scaled_by_10(normalization):
    """Every translation and depth times 10: the anchors and reference images are the same,
    and with pose normalisation so is every frame; raw metres (the legacy conditioning) are
    not invariant, which shows the check can fail."""
    from worldbridge.serving.worker.session import OutputSpec, WorkerSession

    pipe = _pipeline(anchor_lock=False, pose_normalization=normalization)
    rng = np.random.default_rng(3)
    k = Intrinsics.from_vertical_fov(60, 64, 64)
    depth = rng.uniform(2.0, 4.0, (64, 64)).astype(np.float32)
    rgb = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    frames = []
    for s in (1.0, 10.0):
        ref_c2w = _c2w(0.3 * s, 0.1 * s, yaw=0.2)
        sess = WorkerSession([PosedView(Camera(ref_c2w, k), rgb, depth * s)],
                             "anchor", OutputSpec(64, 64, 1, 1), seed=0)
        target = _c2w(0.6 * s, 0.3 * s, yaw=0.1)
        a = sess.memory.render(target, k.K, 64, 64)
        frames.append(pipe.generate(a.image, a.mask, Camera(target, k), sess.references, seed=4))
        assert sess.references[0].scale == pytest.approx(float(np.median(depth)) * s, rel=1e-6)
    diff = np.abs(frames[0].astype(int) - frames[1].astype(int)).max()
    if normalization == "reference_depth":
        assert diff <= 1
    else:
        assert diff > 2


# ----------------------------------------------------------------------------- train == serve
def test_serving_conditions_equal_the_training_inputs(tmp_path):
    """The anchor latent, its coverage and the normalised cameras the pipeline builds for a
    target are exactly what the trainer builds for the same (target, reference) pair."""
    from worldbridge.serving.worker.session import OutputSpec, WorkerSession
    from worldbridge.training.clips import ClipDataset, ClipSpec
    from worldbridge.training.data import collate_clips
    from worldbridge.training.stage2 import frame_model_inputs

    data = record_synthetic_scene(tmp_path, frames=16, size=64)
    pipe = _pipeline(anchor_hole_value=-0.5)
    cfg = pipe.config
    clips = ClipDataset(data, ClipSpec(clip_len=16, num_references=1, image_size=64, shuffle_references=False,
                                       anchor_mask_prob=0.0, zero_depth_is_sky=True, frame_stride=(1, 1)))
    batch = collate_clips([clips[0]])
    inp = frame_model_inputs(batch, pipe.backend.autoencoder, torch.device("cpu"), cfg)
    ds = clips.datasets[0]
    ref = int(batch["reference_frame_index"][0, 0])
    depth = ds.read_depth(ref)
    view = PosedView(Camera(ds.frames[ref].c2w_cv, ds.frames[ref].intrinsics), ds.read_rgb(ref),
                     np.where(depth > 0, depth, np.inf).astype(np.float32))
    sess = WorkerSession([view], "anchor", OutputSpec(64, 64, 1, 1), seed=0)
    for i in (0, 7, 14):
        f = ds.frames[int(batch["target_frame_index"][i])]
        a = sess.memory.render(f.c2w_cv, f.intrinsics.K, 64, 64)
        np.testing.assert_array_equal(a.mask, batch["anchor_mask"][i, 0].numpy() > 0)
        cond, _ = pipe.conditions(a.image, a.mask, Camera(f.c2w_cv, f.intrinsics), sess.references[0].scale)
        torch.testing.assert_close(cond.anchor[0], inp["anchor"][i], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(cond.anchor_mask[0], inp["anchor_mask"][i])
        torch.testing.assert_close(cond.w2c[0], inp["target_w2c"][i], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(cond.K[0], inp["target_K"][i])


# ----------------------------------------------------------------------------- sessions
def _tiny_bundle(root):
    model, ae = _model()
    save_checkpoint(model, root / "ckpt", extra={"schedule": ScheduleConfig().to_dict(),
                                                 "sampler_timesteps": [999, 200]})
    ae.save(root / "ae")
    return save_bundle(root / "bundle", root / "ckpt", root / "ae")


def test_keyframes_become_reference_views(tmp_path):
    from worldbridge.serving.worker.session import MAX_KEYFRAME_REFERENCES, OutputSpec, WorkerSession

    bundle = _tiny_bundle(tmp_path)
    k = Intrinsics.from_vertical_fov(60, 64, 64)
    rng = np.random.default_rng(0)
    view = PosedView(Camera(np.eye(4), k), rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
                     np.full((64, 64), 3.0, np.float32))
    sess = WorkerSession([view], "frame-model", OutputSpec(64, 64, 1, 1), seed=0,
                         options=GeneratorOptions(bundle=bundle, device="cpu"))
    pipe = sess.generator.pipeline
    sess.render(Camera(_c2w(2.0), k))
    assert len(sess.references) == 1 and pipe.reference_builds == 1
    depth = np.full((64, 64), 6.0, np.float32)
    frame = sess.render(Camera(_c2w(2.0), k), depth=depth, keyframe=True).rgb
    kf = sess.references[-1]
    assert kf.keyframe and kf.scale == 6.0 and np.array_equal(kf.rgb, frame)
    sess.render(Camera(_c2w(2.1), k))
    assert pipe.reference_builds == 2  # the keyframe is the nearest view now
    for i in range(MAX_KEYFRAME_REFERENCES + 3):
        sess.render(Camera(_c2w(3.0 + i), k), depth=depth, keyframe=True)
    assert sum(r.keyframe for r in sess.references) == MAX_KEYFRAME_REFERENCES
    assert not sess.references[0].keyframe  # the engine's reference view is kept


def test_anchor_lock_session_option_over_grpc(tmp_path, make_gateway, plane):
    """OpenSession's anchor lock reaches the frame model: ON keeps the anchor's pixels
    (here the whole view is covered), OFF regenerates them, UNSPECIFIED takes the server's
    --anchor-lock default; an unknown enum value is INVALID_ARGUMENT."""
    import grpc

    from worldbridge.client import BridgeClient, PoseRequest
    from worldbridge.client.messages import depth_message, hello, intrinsics_message, pose_message, rgb_message
    from worldbridge.geometry import Convention
    from worldbridge.v1 import session_pb2

    bundle = _tiny_bundle(tmp_path)
    gw = make_gateway(workers=1, generator_options=GeneratorOptions(bundle=bundle, device="cpu",
                                                                    anchor_lock=False))
    with BridgeClient(gw.target) as c:
        assert "generator.anchor_lock" in c.info.capabilities
        frames = {}
        for lock in (True, False, None):
            s = c.open_session([plane.view()], generator="frame-model", anchor_lock=lock)
            f = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
            assert f.error is None
            frames[lock] = f.rgb
            s.close()
        np.testing.assert_array_equal(frames[True], plane.rgb)
        assert np.abs(frames[False].astype(int) - plane.rgb).mean() > 5
        np.testing.assert_array_equal(frames[None], frames[False])  # the server's default: off
        req = session_pb2.OpenSessionRequest(hello=hello(), generator="frame-model")
        v = plane.view()
        req.reference_views.add(rgb=rgb_message(v.rgb), pose=pose_message(v.c2w, v.convention),
                                intrinsics=intrinsics_message(v.intrinsics), depth=depth_message(v.depth))
        req.generator_options.anchor_lock = 7
        with pytest.raises(grpc.RpcError) as e:
            c.stub.OpenSession(req, metadata=c.metadata)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

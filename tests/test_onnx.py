"""ONNX export of the frame model and the ``frame-model-onnx`` generator.

Parity tolerances (float32, CPU provider), asserted below:

* denoiser step vs ``FrameModel.forward(..., reference_cache=...)``: max abs diff <= 1e-4
  and max abs diff / max |torch| <= 1e-4 (measured ~1e-7);
* reference-cache graph vs ``compute_reference_cache``: the same (measured ~1e-6 abs);
* encoder / decoder vs the autoencoder: max abs diff <= 1e-4;
* the whole 2-step generator vs the PyTorch ``frame-model`` generator on the same
  ``GenerationContext`` (a 16:9 frame, 42 % of it holes, two reference views, with and
  without anchor lock): uint8 frames differ by at most 2 levels.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")
pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")

from worldbridge.generators import GenerationContext, GeneratorOptions  # noqa: E402 (imported after the importorskip checks above)
from worldbridge.geometry import Intrinsics  # noqa: E402 (imported after the importorskip checks above)
from worldbridge.geometry.views import Camera, ReferenceView  # noqa: E402 (imported after the importorskip checks above)
from worldbridge.models import (  # noqa: E402 (imported after the importorskip checks above)
    CompactAutoencoder,
    CompactAutoencoderConfig,
    FrameModel,
    FrameModelConfig,
    ScheduleConfig,
    save_bundle,
    save_checkpoint,
)
from worldbridge.models.onnx_export import (  # noqa: E402 (imported after the importorskip checks above)
    MANIFEST_FILE,
    export_onnx,
    export_onnx_main,
    load_manifest,
)

ATOL = 1e-4
RTOL = 1e-4


def _make_bundle(root, **config):
    torch.manual_seed(0)
    model = FrameModel(FrameModelConfig.tiny(**config))
    with torch.no_grad():  # the zero-initialised final layer would make every output 0
        model.final_layer.linear.weight.normal_(0, 0.05)
        model.final_layer.linear.bias.normal_(0, 0.05)
        model.null_anchor.normal_()
        if model.mask_embedder is not None:
            model.mask_embedder.proj.weight.normal_(0, 0.5)
    save_checkpoint(model, root / "ckpt",
                    extra={"schedule": ScheduleConfig().to_dict(), "sampler_timesteps": [999, 200]})
    CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(root / "ae")
    return save_bundle(root / "bundle", root / "ckpt", root / "ae")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from worldbridge.models.bundle import FrameModelBundle

    root = tmp_path_factory.mktemp("onnx")
    bundle_dir = _make_bundle(root)
    out = export_onnx(bundle_dir, bundle_dir / "onnx")
    return FrameModelBundle.load(bundle_dir), out


def _session(out, name):
    return ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])


def _camera(seed, size=64):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(3, generator=g) - 0.5
    ax, ay, az = a.tolist()
    rx = torch.tensor([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]], dtype=torch.float32)
    ry = torch.tensor([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]], dtype=torch.float32)
    rz = torch.tensor([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]], dtype=torch.float32)
    w2c = torch.eye(4)
    w2c[:3, :3] = rx @ ry @ rz
    w2c[:3, 3] = torch.randn(3, generator=g)
    f = float(size) * (0.8 + 0.4 * float(torch.rand(1, generator=g)))
    K = torch.tensor([[f, 0, size / 2 + 1.5], [0, 1.1 * f, size / 2 - 2.0], [0, 0, 1]])
    return w2c[None], K[None]


def _close(got, want):
    want = want.numpy() if isinstance(want, torch.Tensor) else want
    diff = float(np.abs(got - want).max())
    assert diff <= ATOL, diff
    assert diff / float(np.abs(want).max()) <= RTOL, diff
    return diff


def test_manifest_describes_the_export(exported):
    bundle, out = exported
    m = load_manifest(out)
    cfg = bundle.model.config
    assert m["sampler_timesteps"] == [999, 200]
    assert m["schedule"] == ScheduleConfig().to_dict()
    assert m["image_size"] == 64 and m["latent_shape"] == [4, 8, 8]
    assert m["reference_cache_shape"] == [cfg.depth, 1, cfg.num_heads, cfg.tokens_per_image, cfg.head_dim]
    den = m["graphs"]["denoiser"]
    assert [i["name"] for i in den["inputs"]] == ["x_t", "timestep", "anchor", "anchor_mask", "target_w2c",
                                                  "target_K", "reference_keys", "reference_values"]
    assert m["format_version"] == 2 and m["model_config"]["pose_normalization"] == "reference_depth"
    assert [o["name"] for o in den["outputs"]] == ["eps"]
    for key, graph in m["graphs"].items():  # the manifest matches the graphs ONNX Runtime sees
        sess = _session(out, graph["file"])
        assert [(i.name, list(i.shape)) for i in sess.get_inputs()] == \
            [(i["name"], i["shape"]) for i in graph["inputs"]], key
        assert [o.name for o in sess.get_outputs()] == [o["name"] for o in graph["outputs"]], key
    assert all(v["max_abs"] <= ATOL for k, v in m["verification"].items() if isinstance(v, dict))


def test_denoiser_and_reference_cache_match_pytorch(exported):
    bundle, out = exported
    model, cfg = bundle.model, bundle.model.config
    g = torch.Generator().manual_seed(1)
    shape = (1, cfg.latent_channels, cfg.latent_size, cfg.latent_size)
    ref_sess, den_sess = _session(out, "reference_cache.onnx"), _session(out, "denoiser.onnx")
    for i, t in enumerate([999, 200, 37.5]):
        reference, x_t, anchor = (torch.randn(shape, generator=g) for _ in range(3))
        mask = torch.rand((1, 1) + shape[2:], generator=g)
        ref_w2c, ref_K = _camera(10 + i)
        tgt_w2c, tgt_K = _camera(20 + i)
        ts = torch.tensor([float(t)])
        with torch.no_grad():
            cache = model.compute_reference_cache(reference, ref_w2c, ref_K, ts)
            eps = model(x_t, ts, anchor, None, tgt_w2c, tgt_K, None, None, reference_cache=cache,
                        anchor_mask=mask)
            uncached = model(x_t, ts, anchor, reference, tgt_w2c, tgt_K, ref_w2c, ref_K, anchor_mask=mask)
        keys, values = ref_sess.run(None, {"reference": reference.numpy(), "reference_w2c": ref_w2c.numpy(),
                                           "reference_K": ref_K.numpy(), "timestep": ts.numpy()})
        _close(keys, torch.stack(cache.keys))
        _close(values, torch.stack(cache.values))
        (got,) = den_sess.run(None, {"x_t": x_t.numpy(), "timestep": ts.numpy(), "anchor": anchor.numpy(),
                                     "anchor_mask": mask.numpy(), "target_w2c": tgt_w2c.numpy(),
                                     "target_K": tgt_K.numpy(), "reference_keys": keys,
                                     "reference_values": values})
        assert float(eps.abs().max()) > 1e-2  # a non-trivial output
        _close(got, eps)
        _close(got, uncached)  # and the cached graph is the uncached model
    # The cameras reach the graph: another target pose changes the output.
    w2c2, K2 = _camera(99)
    inputs = {"x_t": x_t.numpy(), "timestep": ts.numpy(), "anchor": anchor.numpy(),
              "anchor_mask": mask.numpy(), "target_w2c": w2c2.numpy(), "target_K": K2.numpy(),
              "reference_keys": keys, "reference_values": values}
    (other,) = den_sess.run(None, inputs)
    assert float(np.abs(other - got).max()) > 1e-4
    # ... and so does the coverage
    (uncovered,) = den_sess.run(None, {**inputs, "anchor_mask": np.zeros_like(mask.numpy())})
    assert float(np.abs(uncovered - other).max()) > 1e-4


def test_autoencoder_graphs_match_pytorch(exported):
    bundle, out = exported
    images = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        latents = bundle.autoencoder.encode(images)
        decoded = bundle.autoencoder.decode(latents)
    (got_lat,) = _session(out, "encoder.onnx").run(None, {"images": images.numpy()})
    (got_img,) = _session(out, "decoder.onnx").run(None, {"latents": latents.numpy()})
    _close(got_lat, latents)
    _close(got_img, decoded)


def _contexts():
    """A 16:9 frame (160 x 90) with 42 % of its anchor missing, and two reference views."""
    k = Intrinsics.from_vertical_fov(60, 160, 90)
    rng = np.random.default_rng(0)
    anchor = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    mask = np.ones((90, 160), bool)
    mask[:, 110:] = False  # outside the reference views
    mask[20:50, 30:70] = False  # a disocclusion
    mask[rng.random((90, 160)) < 0.05] = False  # splat cracks
    assert 0.2 <= 1 - mask.mean() <= 0.5
    anchor[~mask] = 0
    refs = []
    for i, (dx, size) in enumerate([(0.3, (96, 80)), (-0.5, (64, 64))]):
        c2w = np.eye(4)
        c2w[:3, 3] = [dx, -0.1, 0.2]
        refs.append(ReferenceView(i, rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8),
                                  Camera(c2w, Intrinsics.from_vertical_fov(60, *size)), scale=2.0 + i))

    def ctx(seed, dx=0.0):
        c2w = np.eye(4)
        c2w[0, 3] = dx
        return GenerationContext(anchor, np.ones((90, 160), np.float32), mask, Camera(c2w, k), refs, seed)
    return ctx


@pytest.mark.parametrize("anchor_lock", [True, False])
def test_generator_matches_the_torch_generator_and_is_deterministic(exported, anchor_lock):
    from worldbridge.generators.frame_model import FrameModelGenerator
    from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator

    bundle, out = exported
    torch_gen = FrameModelGenerator(GeneratorOptions(bundle=bundle.path, device="cpu", anchor_lock=anchor_lock))
    onnx_gen = FrameModelOnnxGenerator(GeneratorOptions(onnx_dir=out, ort_providers=("CPUExecutionProvider",),
                                                        ort_threads=1, anchor_lock=anchor_lock))
    assert onnx_gen.providers == ["CPUExecutionProvider"]
    ctx = _contexts()
    for seed, dx in [(1, 0.0), (2, 0.0), (1, -0.45)]:  # dx -0.45: the second reference is nearer
        c = ctx(seed, dx)
        a, b = onnx_gen.generate(c), torch_gen.generate(c)
        assert a.shape == (90, 160, 3) and a.dtype == np.uint8
        assert int(np.abs(a.astype(int) - b.astype(int)).max()) <= 2
        holes = ~c.anchor_mask
        assert float(np.abs(a[holes].astype(int) - c.anchor_rgb[holes]).mean()) > 5  # holes are filled
        if anchor_lock:
            np.testing.assert_array_equal(a[c.anchor_mask], c.anchor_rgb[c.anchor_mask])
        else:
            assert float(np.abs(a[c.anchor_mask].astype(int) - c.anchor_rgb[c.anchor_mask]).mean()) > 5
    assert onnx_gen.pipeline.reference_builds == torch_gen.pipeline.reference_builds == 2
    first = onnx_gen.generate(ctx(1))
    assert np.array_equal(first, onnx_gen.generate(ctx(1)))  # same seed, same frame
    assert not np.array_equal(first, onnx_gen.generate(ctx(2)))  # the seed reaches the noise
    assert not np.array_equal(first, onnx_gen.generate(ctx(1, dx=0.4)))  # the pose reaches the model


def test_registry_and_cli(exported, tmp_path, monkeypatch, capsys):
    from worldbridge.generators import available_generators, create_generator
    from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator, frame_model_onnx_available
    from worldbridge.generators.options import ENV_ONNX
    from worldbridge.models.onnx_backend import select_providers

    bundle, out = exported
    monkeypatch.setenv(ENV_ONNX, str(tmp_path / "missing"))
    assert not frame_model_onnx_available() and "frame-model-onnx" not in available_generators()
    assert export_onnx_main(["--bundle", str(bundle.path), "--out", str(tmp_path / "cli")]) == 0
    assert "exported denoiser.onnx" in capsys.readouterr().out
    monkeypatch.setenv(ENV_ONNX, str(tmp_path / "cli"))
    assert "frame-model-onnx" in available_generators()
    assert isinstance(create_generator("frame-model-onnx"), FrameModelOnnxGenerator)
    # an explicit --onnx beats the environment
    monkeypatch.setenv(ENV_ONNX, str(tmp_path / "missing"))
    assert "frame-model-onnx" in available_generators(GeneratorOptions(onnx_dir=tmp_path / "cli"))
    assert json.loads((tmp_path / "cli" / MANIFEST_FILE).read_text())["batch"] == 1
    # A missing bundle is exit status 1 (and nothing is written).
    assert export_onnx_main(["--bundle", str(tmp_path / "nope")]) == 1
    assert "nope" in capsys.readouterr().err and not (tmp_path / "nope").exists()

    assert select_providers(["CPUExecutionProvider"], None) == ["CPUExecutionProvider"]
    assert select_providers(["CUDAExecutionProvider", "TensorrtExecutionProvider", "CPUExecutionProvider"]) == \
        ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert select_providers(["CUDAExecutionProvider", "CPUExecutionProvider"], ["CUDAExecutionProvider"]) == \
        ["CUDAExecutionProvider", "CPUExecutionProvider"]
    with pytest.raises(ValueError, match="not available"):
        select_providers(["CPUExecutionProvider"], ["CUDAExecutionProvider"])
    with pytest.raises(ValueError, match="ort_threads"):
        GeneratorOptions(onnx_dir=out, ort_threads=-1)


def test_export_rejects_bad_arguments(exported, tmp_path):
    bundle, _ = exported
    with pytest.raises(ValueError, match="batch"):
        export_onnx(bundle, tmp_path, batch=0)
    with pytest.raises(ValueError, match="opset"):
        export_onnx(bundle, tmp_path, opset=11)
    with pytest.raises(FileNotFoundError, match="export-onnx"):
        load_manifest(tmp_path)


def test_a_format_1_export_is_served_with_the_legacy_conditioning(tmp_path):
    """Exports written before conditioning was recorded (no anchor_mask input, raw metres)
    keep working: the manifest is read with the legacy conditioning."""
    from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator

    bundle_dir = _make_bundle(tmp_path, anchor_mask_channel=False, pose_normalization="none")
    out = export_onnx(bundle_dir, tmp_path / "onnx")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    manifest["format_version"] = 1
    for key in ("anchor_mask_channel", "pose_normalization", "anchor_hole_value"):
        del manifest["model_config"][key]
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_manifest(out)["model_config"]["pose_normalization"] == "none"
    gen = FrameModelOnnxGenerator(GeneratorOptions(onnx_dir=out, ort_providers=("CPUExecutionProvider",)))
    assert not gen.pipeline.config.anchor_mask_channel
    frame = gen.generate(_contexts()(3))
    assert frame.shape == (90, 160, 3)

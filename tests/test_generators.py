"""The anchor generator's hole filling and the pose-derived noise seed."""

import numpy as np
import pytest

from worldbridge.generators import (
    AnchorGenerator,
    GenerationContext,
    UnknownGeneratorError,
    create_generator,
    fill_holes,
    pose_seed,
)
from worldbridge.geometry import Intrinsics
from worldbridge.geometry.views import Camera, ReferenceView


def _nearest_reference(rgb, mask):
    """Slow, obvious: every hole takes the colour of its nearest covered pixel."""
    covered = np.argwhere(mask)
    out = rgb.copy()
    for r, c in np.argwhere(~mask):
        d = ((covered - [r, c]) ** 2).sum(1)
        out[r, c] = rgb[tuple(covered[d.argmin()])]
    return out, covered


def test_fill_holes_takes_the_nearest_covered_colour():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    mask = rng.random((24, 20)) > 0.6
    got = fill_holes(rgb, mask)
    np.testing.assert_array_equal(got[mask], rgb[mask])
    want, covered = _nearest_reference(rgb, mask)
    # the 5x5 distance transform is exact up to ties between equidistant pixels: the chosen
    # pixel must be (one of) the nearest
    for r, c in np.argwhere(~mask):
        d = ((covered - [r, c]) ** 2).sum(1)
        nearest = {tuple(rgb[tuple(p)]) for p in covered[d <= d.min() + 1]}
        assert tuple(got[r, c]) in nearest


def test_fill_holes_edge_cases():
    rgb = np.full((4, 4, 3), 7, np.uint8)
    np.testing.assert_array_equal(fill_holes(rgb, np.ones((4, 4), bool)), rgb)
    assert (fill_holes(rgb, np.zeros((4, 4), bool)) == 128).all()


def test_anchor_generator_is_deterministic():
    rng = np.random.default_rng(1)
    k = Intrinsics(10, 10, 4, 4, 8, 8)
    cam = Camera(np.eye(4), k)
    ctx = GenerationContext(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), np.ones((8, 8), np.float32),
                            rng.random((8, 8)) > 0.3, cam, [ReferenceView(0, np.zeros((8, 8, 3), np.uint8), cam)], 3)
    g = create_generator("anchor")
    assert isinstance(g, AnchorGenerator)
    np.testing.assert_array_equal(g.generate(ctx), g.generate(ctx))


def test_unknown_generator():
    with pytest.raises(UnknownGeneratorError, match="'diffusion9000'.*anchor"):
        create_generator("diffusion9000")


def test_pose_seed_is_stable_for_a_still_camera_and_changes_when_it_moves():
    c2w = np.eye(4)
    jitter = c2w + 1e-7
    jitter[3] = [0, 0, 0, 1]
    moved = c2w.copy()
    moved[0, 3] = 0.01
    assert pose_seed(5, c2w) == pose_seed(5, jitter)
    assert pose_seed(5, c2w) != pose_seed(5, moved)
    assert pose_seed(5, c2w) != pose_seed(6, c2w)
    assert 0 <= pose_seed(5, c2w) < 2 ** 63


def test_generator_options_round_trip_through_worker_flags(tmp_path, monkeypatch):
    """What `worldbridge serve` parses is what each local worker rebuilds from its argv."""
    import argparse
    from pathlib import Path

    from worldbridge.generators import GeneratorOptions, add_generator_arguments
    from worldbridge.generators.options import ENV_BUNDLE

    p = argparse.ArgumentParser()
    add_generator_arguments(p)
    opts = GeneratorOptions.from_args(p.parse_args([
        "--frame-model", str(tmp_path / "b"), "--device", "cpu", "--precision", "bf16",
        "--ort-providers", "CUDAExecutionProvider, CPUExecutionProvider", "--ort-threads", "3",
        "--anchor-lock", "off", "--feather-px", "1.5"]))
    assert opts == GeneratorOptions(bundle=tmp_path / "b", device="cpu", precision="bf16",
                                    ort_providers=("CUDAExecutionProvider", "CPUExecutionProvider"),
                                    ort_threads=3, anchor_lock=False, feather_px=1.5)
    assert GeneratorOptions.from_args(p.parse_args(opts.to_argv())) == opts
    assert GeneratorOptions.from_args(p.parse_args([])) == GeneratorOptions()
    # a flag beats the environment; the environment beats the starter model
    monkeypatch.setenv(ENV_BUNDLE, str(tmp_path / "env"))
    assert opts.bundle_path() == tmp_path / "b" and GeneratorOptions().bundle_path() == tmp_path / "env"
    assert GeneratorOptions().onnx_path() == tmp_path / "env" / "onnx"
    monkeypatch.delenv(ENV_BUNDLE)
    assert GeneratorOptions().bundle_path().parts[-2:] == ("assets", "starter_model")
    for bad in ({"precision": "fp8"}, {"ort_threads": -1}, {"feather_px": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            GeneratorOptions(**bad)
    assert isinstance(opts.bundle, Path)

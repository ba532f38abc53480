"""Serving a bundle by name without a restart: watched folders, provenance, confinement."""

from __future__ import annotations

import json
import os

import grpc
import numpy as np
import pytest
from helpers import save_tiny_teacher

from worldbridge.errors import ConfigError
from worldbridge.generators import GeneratorOptions
from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, save_bundle
from worldbridge.serving.gateway.bundles import BundleNameError, BundleRegistry, UnknownBundleError


def _bundle(root, name: str, seed: int, info: dict | None = None):
    ckpt = save_tiny_teacher(root / f"{name}_ckpt", seed=seed)
    ae = CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(root / f"{name}_ae")
    return save_bundle(root / name, ckpt, ae, info=info)


def _fake_bundle(path, meta: dict | str = "{}"):
    path.mkdir(parents=True)
    (path / "bundle.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    return path


def test_names_are_confined_to_the_watched_folders(tmp_path):
    watch = tmp_path / "bundles"
    good = _fake_bundle(watch / "level-a.v2")
    _fake_bundle(watch / ".hidden")
    (watch / "no-bundle").mkdir()
    outside = _fake_bundle(tmp_path / "outside")
    os.symlink(outside, watch / "escape")
    os.symlink(good, watch / "alias")  # a link that stays inside is the folder it names
    reg = BundleRegistry([watch])
    assert reg.names() == {"alias": (good, "watched"), "level-a.v2": (good, "watched")}
    assert reg.resolve("level-a.v2") == good
    for bad in ("../outside", "a/b", ".hidden", "..", "", "x" * 65, "/etc", "level a"):
        with pytest.raises(BundleNameError, match="is not a bundle name"):
            reg.resolve(bad)
    for unknown in ("escape", "no-bundle", "missing"):
        with pytest.raises(UnknownBundleError, match=f"unknown bundle '{unknown}'; known: "):
            reg.resolve(unknown)


def test_listed_bundles_and_bad_configuration(tmp_path):
    watch = tmp_path / "bundles"
    _fake_bundle(watch / "shared")
    listed = _fake_bundle(tmp_path / "elsewhere")
    reg = BundleRegistry([watch], {"shared": listed, "starter": listed})
    assert reg.resolve("shared") == listed  # a listed name shadows a watched one
    assert {n: s for n, (_, s) in reg.names().items()} == {"shared": "listed", "starter": "listed"}
    with pytest.raises(ConfigError, match="does not exist"):
        BundleRegistry([tmp_path / "nope"])
    with pytest.raises(ConfigError, match="must match"):
        BundleRegistry(listed={"../x": listed})
    with pytest.raises(ConfigError, match="has no bundle.json"):
        BundleRegistry(listed={"x": tmp_path})


def test_provenance_comes_from_bundle_json(tmp_path, caplog):
    watch = tmp_path / "bundles"
    _fake_bundle(watch / "adapted", {
        "name": "starter adapted to my_level", "base_model": {"name": "starter v2", "path": "/x"},
        "level_data": {"train": ["/data/my_level/t0", "/data/my_level/t1"], "heldout": ["/data/my_level/t2"]},
        "date": "2026-12-01T23:00:00+00:00", "evaluation": {"verdict": "beats the base by +0.4 dB"}})
    _fake_bundle(watch / "broken", "{not json")
    info = {b.name: b for b in BundleRegistry([watch]).info()}
    a = info["adapted"]
    assert (a.description, a.base_model, list(a.level_data), a.created, a.evaluation, a.source) == (
        "starter adapted to my_level", "starter v2", ["t0", "t1"], "2026-12-01T23:00:00+00:00",
        "beats the base by +0.4 dB", "watched")
    assert info["broken"].description == "" and info["broken"].source == "watched"
    assert any("bundle 'broken': cannot read its bundle.json" in r.getMessage() for r in caplog.records)


def test_a_bundle_copied_into_a_watched_folder_is_served_without_a_restart(tmp_path, make_gateway, plane):
    from worldbridge.client import BridgeClient, PoseRequest
    from worldbridge.geometry import Convention

    default = _bundle(tmp_path, "default", seed=0)
    watch = tmp_path / "watched"
    watch.mkdir()
    gw = make_gateway(workers=1, bundle_dirs=[watch],
                      generator_options=GeneratorOptions(bundle=default, device="cpu", anchor_lock=False))
    with BridgeClient(gw.target) as c:
        assert "generator.bundles" in c.info.capabilities and list(c.info.bundles) == []

        def frame(**kw):
            s = c.open_session([plane.view()], generator="frame-model", **kw)
            f = s.render(PoseRequest(plane.pose(0.1), Convention.OPENCV))
            s.close()
            assert f.error is None
            return f.rgb

        before = frame()
        _bundle(tmp_path / "made", "level", seed=7, info={"name": "adapted to the plane level",
                                                           "base_model": {"name": "default"}})
        os.replace(tmp_path / "made" / "level", watch / "plane-level")  # written elsewhere, moved in
        names = {b.name: b for b in c.refresh_info().bundles}
        assert names["plane-level"].description == "adapted to the plane level"
        assert names["plane-level"].base_model == "default"
        adapted = frame(bundle="plane-level")
        assert np.abs(adapted.astype(int) - before.astype(int)).mean() > 1  # other weights served
        np.testing.assert_array_equal(frame(), before)  # the default is unchanged
        for name, code in (("missing", grpc.StatusCode.NOT_FOUND), ("../default", grpc.StatusCode.INVALID_ARGUMENT),
                           ("/etc", grpc.StatusCode.INVALID_ARGUMENT)):
            with pytest.raises(grpc.RpcError) as e:
                c.open_session([plane.view()], generator="frame-model", bundle=name)
            assert e.value.code() == code and "generator_options.bundle" in e.value.details()
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([plane.view()], generator="anchor", bundle="plane-level")
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "frame-model" in e.value.details()


def test_bundle_flags_of_serve():
    from worldbridge.cli import _named_bundles

    assert {k: str(v) for k, v in _named_bundles(["a=/x", "b=rel/y"]).items()} == {"a": "/x", "b": "rel/y"}
    for bad in (["a"], ["=x"], ["a="], ["a=/x", "a=/y"]):
        with pytest.raises(ValueError, match="--bundle"):
            _named_bundles(bad)

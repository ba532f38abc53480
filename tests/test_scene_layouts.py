"""Scene layouts of the Panda3D example engine and the recorder's varied trajectories.

The default scene must render exactly as before layouts existed; other layouts move the
garden and the props where they say; random layouts are reproducible and keep their props
apart inside the clearing; the recorder's collision check follows each layout; held-out
layouts are never training layouts; a recording stores the layout it filmed. Rendering
tests are marked ``engine`` and use 64-160 px images.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from worldbridge.geometry import invert_rigid, opengl_to_opencv_c2w

# sha256(rgb.tobytes() + depth.tobytes()) of PandaEngine(size, size, fov_y_deg=60.0)
# .render(camera_path(3, kind)[i]), recorded with the engine example of commit c38eb2a (before
# scene layouts) on this renderer; another Mesa or LLVM may round differently.
_RENDERER = "llvmpipe (LLVM 15.0.6, 256 bits) / 4.5 (Compatibility Profile) Mesa 22.3.6"
_DEFAULT_SHA256 = {
    (64, "orbit", 1): "ab6171bfb5119f390106bd9dd09774c21d420203bf989f1813caa0df30a8c832",
    (64, "dolly", 2): "a7956407b8cbf61b3bf5bb3e933dc77e42dc23d715978f6ca0c08fc3b36bbedd",
    (128, "walk", 2): "ebed19f195b7635b8cf5c927f931241febb746d95e0502392bb0e3cf86e34fee",
}

# plan_trajectories(8, 16, default_rng(1)) of the recorder at commit c38eb2a: kind, first
# and last camera position (metres, rounded to 1e-6)
_LEGACY_PLAN = [
    ("orbit", [-2.975521, 1.909394, 2.500927], [-3.399165, -0.972208, 2.500927]),
    ("dolly", [-4.526185, -1.199392, 2.338652], [-4.832455, 0.595976, 2.8]),
    ("walk", [3.643971, -3.574256, 1.407609], [-0.666128, -2.720194, 1.407609]),
    ("random", [-3.844227, -0.195664, 2.726261], [-4.688512, -0.6481, 2.804612]),
    ("orbit", [0.949399, 1.971461, 2.250976], [-0.895453, 1.996542, 2.250976]),
    ("dolly", [2.427727, -2.674089, 1.846186], [0.322272, -4.977323, 1.68798]),
    ("walk", [-3.888373, 3.213675, 1.400602], [1.640282, 3.211296, 1.400602]),
    ("random", [1.556649, -1.309203, 1.391882], [2.667074, -1.38939, 1.448052]),
]


@pytest.fixture(scope="module")
def rec():
    """``worldbridge.engines.panda3d.record``, the recorder."""
    from worldbridge.engines.panda3d import record

    return record


@pytest.fixture(scope="module")
def pe(rec):
    """The engine package ``worldbridge.engines.panda3d`` (no engine made yet)."""
    from worldbridge.engines import panda3d

    return panda3d


@pytest.fixture(scope="module")
def small_engine(panda_engine, panda_example):
    """A 96x96 engine (``panda_engine`` first, for its skip-or-fail check)."""
    eng = panda_example.PandaEngine(96, 96, fov_y_deg=60.0)
    yield eng
    eng.close()


def _level(clearing, x, y):
    """Vectorised :meth:`Clearing.level`."""
    h = math.radians(clearing.angle_deg)
    dx, dy = x - clearing.centre[0], y - clearing.centre[1]
    u = math.cos(h) * dx + math.sin(h) * dy
    v = -math.sin(h) * dx + math.cos(h) * dy
    return (u / clearing.semi_axes[0]) ** 2 + (v / clearing.semi_axes[1]) ** 2


def _project(engine, c2w_gl, point):
    """Pixel ``(u, v)`` and planar depth of a world point in an engine camera."""
    p = invert_rigid(opengl_to_opencv_c2w(c2w_gl)) @ np.append(np.asarray(point, float), 1.0)
    uvw = engine.intrinsics().K @ p[:3]
    return uvw[0] / uvw[2], uvw[1] / uvw[2], p[2]


# --------------------------------------------------------------------------- the default scene
@pytest.mark.engine
def test_default_layout_renders_byte_identical_to_before(panda_example, panda_engine):
    pe = panda_example
    got = {}
    for size in (64, 128):
        with pe.PandaEngine(size, size, fov_y_deg=60.0) as eng, \
                pe.PandaEngine(size, size, fov_y_deg=60.0, layout=pe.DEFAULT_LAYOUT) as explicit:
            renderer = eng.renderer
            for (s, kind, i) in _DEFAULT_SHA256:
                if s != size:
                    continue
                c2w = pe.camera_path(3, kind)[i]
                rgb, depth = eng.render(c2w)
                rgb2, depth2 = explicit.render(c2w)
                assert np.array_equal(rgb, rgb2) and np.array_equal(depth, depth2)
                got[(s, kind, i)] = hashlib.sha256(rgb.tobytes() + depth.tobytes()).hexdigest()
    # props=False is the garden alone, i.e. a layout without props
    c2w = pe.camera_path(3, "orbit")[1]
    with pe.PandaEngine(64, 64, props=False) as bare, \
            pe.PandaEngine(64, 64, layout=pe.SceneLayout(props=())) as empty:
        assert np.array_equal(bare.render(c2w)[1], empty.render(c2w)[1])
    if renderer != _RENDERER:
        pytest.skip(f"checksums were recorded on {_RENDERER!r}; this machine renders with "
                    f"{renderer!r}")
    assert got == _DEFAULT_SHA256


# --------------------------------------------------------------------------- other layouts
@pytest.mark.engine
def test_layouts_change_the_image_and_set_layout_equals_a_new_engine(pe, small_engine):
    c2w = pe.look_at_gl((3.0, -4.0, 1.7), (0.0, 0.5, 0.8))
    default_rgb, default_depth = small_engine.render(c2w)
    layouts = [pe.SceneLayout(environment_scale=0.8),
               pe.SceneLayout(environment_heading_deg=90.0),
               pe.random_layout(np.random.default_rng(3), scale_range=(1.0, 1.0),
                                headings_deg=[0.0])]
    assert layouts[2].props != pe.DEFAULT_PROPS
    try:
        for layout in layouts:
            small_engine.set_layout(layout)
            assert small_engine.layout == layout
            rgb, depth = small_engine.render(c2w)
            changed = np.any(rgb != default_rgb, axis=-1) | (depth != default_depth)
            assert changed.mean() > 0.05, f"{layout} changed only {changed.mean():.3f}"
            # the sky rule and exact depth hold in every layout
            assert np.all(rgb[depth == 0] == np.array(pe.SKY_RGB, np.uint8))
            assert np.all(np.isfinite(depth)) and depth[depth > 0].min() >= small_engine.near
        with pe.PandaEngine(96, 96, fov_y_deg=60.0, layout=layouts[2]) as fresh:
            fresh_rgb, fresh_depth = fresh.render(c2w)
        assert np.array_equal(rgb, fresh_rgb) and np.array_equal(depth, fresh_depth)
    finally:
        small_engine.set_layout(pe.DEFAULT_LAYOUT)
    back_rgb, back_depth = small_engine.render(c2w)
    assert np.array_equal(back_rgb, default_rgb) and np.array_equal(back_depth, default_depth)


@pytest.mark.engine
def test_props_stand_where_the_layout_says(pe, small_engine):
    props = (pe.Prop("box", 1.5, -1.0, heading_deg=30.0, scale=1.25),       # 1.0 m cube
             pe.Prop("smiley", -1.5, 1.2, scale=1.5),                        # 1.2 m ball
             pe.Prop("box", -1.5, -1.8, heading_deg=-20.0, scale=0.5, z=0.7),  # floating
             pe.Prop("panda-model", 1.0, 2.0, heading_deg=120.0))
    layout = pe.SceneLayout(0.8, 90.0, props)
    try:
        small_engine.set_layout(layout)
        # straight down over the big box: its top face, 1.0 m up, exactly
        c2w = pe.look_at_gl((1.5, -1.0, 3.0), (1.5, -1.0, 0.0), up=(0.0, 1.0, 0.0))
        _, depth = small_engine.render(c2w)
        assert np.abs(depth[46:50, 46:50] - 2.0).max() < 1e-3
        # an oblique view of them all
        c2w = pe.look_at_gl((0.5, -5.5, 3.2), (0.0, 0.2, 0.5))
        _, depth = small_engine.render(c2w)
        small_engine.set_layout(pe.SceneLayout(0.8, 90.0, ()))
        _, bare = small_engine.render(c2w)
    finally:
        small_engine.set_layout(pe.DEFAULT_LAYOUT)
    # the ball: its point facing the camera, exactly
    ball = props[1]
    centre = np.array([ball.x, ball.y, ball.height_m / 2])
    eye = c2w[:3, 3]
    front = centre + ball.height_m / 2 * (eye - centre) / np.linalg.norm(eye - centre)
    u, v, z = _project(small_engine, c2w, front)
    assert depth[int(v), int(u)] == pytest.approx(z, rel=0.01)
    # every prop covers its own middle: the surface there is at most a footprint radius
    # nearer than the middle; without the props that pixel sees much further
    for p in props:
        u, v, z = _project(small_engine, c2w, (p.x, p.y, p.z + 0.6 * p.height_m))
        assert 0 <= u < 96 and 0 <= v < 96
        got = depth[int(v), int(u)]
        assert z - p.footprint_radius_m - 0.05 <= got <= z + 0.05, \
            f"{p.model}: depth {got:.3f} m at its middle, which is {z:.3f} m away"
        assert bare[int(v), int(u)] > z + 0.5


@pytest.mark.engine
def test_prop_table_matches_the_models(pe, small_engine):
    """Placed with its offset, every model stands on z = 0 within its footprint radius and
    is as tall as the table says (vertices read from the loaded models)."""

    def measure():
        p3d = pe._core()
        loader = p3d.Loader.get_global_ptr()
        out = {}
        for name, spec in pe.PROP_MODELS.items():
            root = p3d.NodePath(loader.load_sync(p3d.Filename(spec.path)))
            pts = []
            for gnp in root.find_all_matches("**/+GeomNode"):
                mat = gnp.get_mat(root)
                for i in range(gnp.node().get_num_geoms()):
                    reader = p3d.GeomVertexReader(gnp.node().get_geom(i).get_vertex_data(),
                                                  "vertex")
                    while not reader.is_at_end():
                        v = mat.xform_point(reader.get_data3())
                        pts.append((v.x, v.y, v.z))
            out[name] = np.asarray(pts) + np.asarray(spec.offset)
        return out

    for name, pts in small_engine._call(measure).items():
        spec = pe.PROP_MODELS[name]
        radius = np.hypot(pts[:, 0], pts[:, 1]).max()
        assert 0.8 * spec.footprint_radius < radius <= spec.footprint_radius * (1 + 1e-5), name
        assert abs(pts[:, 2].min()) < 0.04 * spec.height, name  # the panda floats 0.03 units
        assert pts[:, 2].max() == pytest.approx(spec.height, rel=1e-3), name


@pytest.fixture(scope="module")
def top_engine(small_engine, panda_example):
    """160 px straight-down camera 60 m up, 25 m across on the ground."""
    eng = panda_example.PandaEngine(160, 160, fov_y_deg=2 * math.degrees(math.atan(12.5 / 60.0)),
                                    near=1.0, far=400.0, props=False)
    yield eng
    eng.close()


def _top_down_heights(pe, engine, layout, centre):
    """World x, y and height z of the topmost surface under each pixel (NaN: sky)."""
    engine.set_layout(layout)
    h = 60.0
    c2w = pe.look_at_gl((centre[0], centre[1], h), (centre[0], centre[1], 0.0), up=(0, 1, 0))
    _, depth = engine.render(c2w)
    k = engine.intrinsics()
    v, u = np.mgrid[0:k.height, 0:k.width] + 0.5
    cam = np.stack([(u - k.cx) / k.fx * depth, (v - k.cy) / k.fy * depth, depth, np.ones_like(u)])
    world = np.einsum("ij,jhw->ihw", opengl_to_opencv_c2w(c2w), cam)
    z = np.where(depth > 0, world[2], np.nan)
    return world[0], world[1], z


@pytest.mark.engine
@pytest.mark.parametrize("scale,heading", [(0.8, 180.0), (1.2, -35.0)])
def test_the_clearing_is_flat_empty_ground_at_any_scale_and_heading(pe, top_engine, scale,
                                                                    heading):
    layout = pe.SceneLayout(scale, heading, ())
    clearing = layout.clearing()
    x, y, z = _top_down_heights(pe, top_engine, layout, clearing.centre)
    lv = _level(clearing, x, y)
    inside = lv < 1.0
    assert inside.sum() > 3000
    assert np.all(np.abs(z[inside]) < 0.01), "something stands inside the clearing"
    # and the ellipse is tight: rocks stand within 1.3x of it
    assert np.nanmax(np.where((lv >= 1.0) & (lv < 1.3 ** 2), z, np.nan)) > 0.3
    if heading == 180.0:  # the clearing turns with the garden: unturned, it holds a rock
        unturned = pe.SceneLayout(scale, 0.0, ()).clearing()
        assert np.nanmax(np.where(_level(unturned, x, y) < 1.0, z, np.nan)) > 0.3


# --------------------------------------------------------------------------- random layouts
def test_random_layouts_are_reproducible_and_keep_props_apart(pe):
    layouts = [pe.random_layout(np.random.default_rng(seed)) for seed in range(40)]
    assert [pe.random_layout(np.random.default_rng(seed)) for seed in range(40)] == layouts
    assert len({json.dumps(lay.to_dict()) for lay in layouts}) == 40
    angles = np.linspace(0.0, 2 * math.pi, 360, endpoint=False)
    counts = set()
    for lay in layouts:
        assert 0.75 <= lay.environment_scale <= 1.25
        assert 2 <= len(lay.props) <= 5
        counts.add(len(lay.props))
        wall = lay.clearing()
        for i, p in enumerate(lay.props):
            assert p.model in pe.TRAIN_PROP_MODELS and 0.7 <= p.scale <= 1.4 and p.z == 0.0
            r = p.footprint_radius_m
            # densely: the footprint stands inside the clearing with most of the 1 m margin
            ring_x, ring_y = p.x + (r + 0.95) * np.cos(angles), p.y + (r + 0.95) * np.sin(angles)
            assert np.all(_level(wall, ring_x, ring_y) < 1.0)
            for q in lay.props[i + 1:]:
                assert math.hypot(p.x - q.x, p.y - q.y) > r + q.footprint_radius_m + 0.4
        again = pe.SceneLayout.from_dict(json.loads(json.dumps(lay.to_dict())))
        assert again == lay
    assert len(counts) >= 3  # the number of props varies
    turned = pe.random_layout(np.random.default_rng(0), headings_deg=[0.0, 90.0],
                              scale_range=(0.7, 0.7))
    assert turned.environment_heading_deg in (0.0, 90.0) and turned.environment_scale == 0.7
    fixed = pe.random_layout(np.random.default_rng(0), fixed_props=pe.DEFAULT_PROPS)
    assert fixed.props == pe.DEFAULT_PROPS
    with pytest.raises(RuntimeError, match="no free place"):
        pe.random_layout(np.random.default_rng(0), num_props=(40, 40), max_tries=50)
    with pytest.raises(ValueError, match="scale_range"):
        pe.random_layout(np.random.default_rng(0), scale_range=(1.2, 0.8))
    with pytest.raises(ValueError, match="PROP_MODELS"):
        pe.random_layout(np.random.default_rng(0), models=["dragon"])


def test_layout_and_prop_input_is_checked(pe):
    with pytest.raises(ValueError, match="'dragon'"):
        pe.Prop("dragon", 0.0, 0.0)
    with pytest.raises(ValueError, match="scale must be > 0, got -1"):
        pe.Prop("box", 0.0, 0.0, scale=-1.0)
    with pytest.raises(ValueError, match="z must be >= 0"):
        pe.Prop("box", 0.0, 0.0, z=-0.5)
    with pytest.raises(ValueError, match="finite"):
        pe.Prop("box", float("nan"), 0.0)
    with pytest.raises(ValueError, match="color"):
        pe.Prop("teapot", 0.0, 0.0, color=(1.0, 0.5, 2.0))
    with pytest.raises(ValueError, match="environment_scale must be > 0, got 0"):
        pe.SceneLayout(environment_scale=0.0)
    with pytest.raises(TypeError, match="Prop"):
        pe.SceneLayout(props=({"model": "box"},))
    with pytest.raises(ValueError, match="unknown scene layout keys"):
        pe.SceneLayout.from_dict({"environment_scale": 1.0, "sky": "red"})
    with pytest.raises(ValueError, match="needs model, x, y"):
        pe.SceneLayout.from_dict({"props": [{"model": "box", "x": 1.0}]})
    with pytest.raises(ValueError, match="leaves nothing"):
        pe.SceneLayout(environment_scale=0.1).clearing().shrunk(1.0)
    # the prop sizes: the demo's panda is 1.2 m tall, the teapot 0.79 m
    panda, teapot = pe.DEFAULT_PROPS
    assert panda.height_m == pytest.approx(1.221) and teapot.height_m == pytest.approx(0.7875)


@pytest.mark.engine
def test_engine_rejects_bad_layout_arguments(panda_example, panda_engine):
    pe = panda_example
    with pytest.raises(TypeError, match="SceneLayout"):
        pe.PandaEngine(32, 32, layout={"environment_scale": 1.0})
    with pytest.raises(ValueError, match="props=False"):
        pe.PandaEngine(32, 32, props=False, layout=pe.DEFAULT_LAYOUT)
    with pytest.raises(TypeError, match="SceneLayout"):
        panda_engine.set_layout(None)


# --------------------------------------------------------------------------- collision checks
def test_collision_check_follows_scaled_and_turned_layouts(rec, pe):
    box = (pe.Prop("box", 2.0, 1.0, scale=1.25),)
    a = rec.site_for_layout(pe.SceneLayout(1.0, 0.0, box))
    b = rec.site_for_layout(pe.SceneLayout(0.8, 180.0, box))
    # 5.5 m east of A's centre: inside A's clearing, outside B's (turned and smaller)
    p = np.array([a.clearing.centre[0] + 5.5, a.clearing.centre[1], 1.5])
    assert rec.is_free(p, a) and not rec.is_free(p, b)
    # 4.5 m along B's first axis (world -x after 180 degrees): inside B, outside A
    q = np.array([b.clearing.centre[0] - 4.5, b.clearing.centre[1], 1.5])
    assert rec.is_free(q, b) and not rec.is_free(q, a)
    # the prop: its footprint plus the margin is blocked, just beyond is free
    r = box[0].footprint_radius_m + rec.PROP_MARGIN_M
    assert not rec.is_free(np.array([2.0, 1.0, 1.5]), a)
    assert not rec.is_free(np.array([2.0 + r - 0.05, 1.0, 1.5]), a)
    assert rec.is_free(np.array([2.0 + r + 0.05, 1.0, 1.5]), a)
    assert not rec.is_free(np.array([0.0, -2.0, 0.3]), a)  # below the height range
    assert not rec.is_free(np.array([0.0, -2.0, 3.1]), a)  # above it
    # the default scene keeps its historic circle; its layout's site uses the clearing
    west = np.array([-5.3, 0.0, 1.5])
    assert rec.is_free(west) and not pe.DEFAULT_LAYOUT.clearing().contains(-5.3, 0.0)
    assert not rec.is_free(west, rec.site_for_layout(pe.DEFAULT_LAYOUT))


def test_planned_paths_keep_out_of_each_layouts_props(rec, pe):
    for j in range(3):
        layout = rec.layout_for_index(j, 0, random_props=True)
        site = rec.site_for_layout(layout)
        paths = rec.plan_trajectories(4, 24, np.random.default_rng(j), sites=site)
        assert [k for k, _ in paths] == list(rec.KINDS)
        inner = layout.clearing().shrunk(rec.WALL_MARGIN_M)
        for _, poses in paths:
            for c2w in poses:
                x, y, z = c2w[:3, 3]
                assert inner.contains(x, y) and rec.MIN_HEIGHT_M <= z <= rec.MAX_HEIGHT_M
                for p in layout.props:
                    assert math.hypot(x - p.x, y - p.y) > p.footprint_radius_m + rec.PROP_MARGIN_M
    with pytest.raises(ValueError, match="2 sites for 3 paths"):
        rec.plan_trajectories(3, 8, np.random.default_rng(0), sites=[rec.LEGACY_SITE] * 2)


def test_default_scene_plans_the_same_paths_as_before(rec):
    paths = rec.plan_trajectories(8, 16, np.random.default_rng(1))
    for (kind, poses), (kind0, first, last) in zip(paths, _LEGACY_PLAN):
        assert kind == kind0
        np.testing.assert_allclose(poses[0][:3, 3], first, atol=2e-6)
        np.testing.assert_allclose(poses[-1][:3, 3], last, atol=2e-6)


# --------------------------------------------------------------------------- hold-out
def test_heldout_layouts_are_never_training_layouts(rec, pe):
    train = rec._scenes(rec._parse_args(["--trajectories", "12", "--layouts", "12",
                                         "--random-props"]))
    held = rec._scenes(rec._parse_args(["--trajectories", "6", "--layouts", "3",
                                        "--first-layout", "12", "--random-props", "--seed", "1",
                                        "--split", "heldout"]))
    assert len(train) == 12 and len(held) == 6
    train_ids = {i for i, _, _ in train}
    assert len(train_ids) == 12 and not train_ids & {i for i, _, _ in held}
    train_layouts = {json.dumps(lay.to_dict()) for _, lay, _ in train}
    assert not train_layouts & {json.dumps(lay.to_dict()) for _, lay, _ in held}
    assert [i for i, _, _ in held] == ["seed0-0012", "seed0-0013", "seed0-0014"] * 2
    # layout j is the same whatever the number of layouts of the run
    more = rec._scenes(rec._parse_args(["--trajectories", "16", "--layouts", "16",
                                        "--random-props"]))
    assert more[12][1] == held[0][1] and more[3][1] == train[3][1]
    # the new level: a scale outside the training range, models and a stacking training
    # never uses, every prop inside its clearing
    level = rec._scenes(rec._parse_args(["--trajectories", "2", "--level", "new"]))
    assert [lay for _, lay, _ in level] == [rec.NEW_LEVEL] * 2
    assert not 0.75 <= rec.NEW_LEVEL.environment_scale <= 1.25
    assert {p.model for p in rec.NEW_LEVEL.props} - set(pe.TRAIN_PROP_MODELS)
    assert any(p.z > 0 for p in rec.NEW_LEVEL.props)
    room = rec.NEW_LEVEL.clearing().shrunk(1.0)
    assert all(room.contains_disc(p.x, p.y, p.footprint_radius_m) for p in rec.NEW_LEVEL.props)
    for bad in (["--random-props"], ["--level", "new", "--layouts", "2"],
                ["--layouts", "2", "--scale-range", "0.3", "1.0"], ["--layouts", "-1"]):
        with pytest.raises(SystemExit):
            rec._parse_args(bad)


# --------------------------------------------------------------------------- recording
@pytest.mark.engine
def test_recording_with_random_layouts_stores_its_layout(rec, pe, panda_engine, make_gateway,
                                                         tmp_path):
    from worldbridge.recording import load_dataset

    gw = make_gateway()
    manifest = tmp_path / "manifest.json"
    stats = rec.main(["--server", gw.target, "--trajectories", "3", "--frames", "3", "--size",
                      "64", "--layouts", "2", "--random-props", "--layout-seed", "5",
                      "--manifest", str(manifest), "--split", "train"])
    assert stats["frames"] == 9 and stats["metadata_stored"] == 3
    assert stats["layouts"] == ["seed5-0000", "seed5-0001", "seed5-0000"]
    listed = json.loads(manifest.read_text())["datasets"]
    with pe.PandaEngine(64, 64, fov_y_deg=60.0) as check:
        for i, path in enumerate(stats["datasets"]):
            ds = load_dataset(path)
            meta = ds.info["metadata"]
            expected = rec.layout_for_index(i % 2, 5, random_props=True)
            assert meta["layout"] == expected.to_dict()
            assert meta["layout_id"] == f"seed5-{i % 2:04d}" and path.endswith(meta["layout_id"])
            assert meta["kind"] == rec.KINDS[i] and meta["split"] == "train"
            assert meta["layout_draw"]["random_props"] is True
            assert listed[i]["layout"] == meta["layout"] and listed[i]["path"] == path
            # the stored layout is the one filmed: rendering it again gives the stored frame
            check.set_layout(pe.SceneLayout.from_dict(meta["layout"]))
            rgb, _ = check.render(ds.frames[0].engine_c2w)
            assert np.array_equal(rgb, ds.read_rgb(0))

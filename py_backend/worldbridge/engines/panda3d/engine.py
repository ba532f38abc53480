"""The renderer: Panda3D offscreen on EGL, colour and exact float depth.

Panda3D loads its ``p3headlessgl`` display module, which opens an EGL display without X11
(Mesa answers with the llvmpipe software rasteriser). Panda's own EGL pbuffer cannot carry a
float depth buffer, so a 1x1 pbuffer only hosts the GL context and the images are drawn into a
framebuffer object (FBO) with an RGBA8 colour and a 32-bit float depth attachment, both copied
to RAM after every frame. ``p3tinydisplay`` is deliberately not used: it has no usable depth.

``panda3d.core`` is imported (with the offscreen configuration loaded first) when the first
engine is made, not when this module is imported.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from worldbridge.engines.panda3d.scene import (
    _GARDEN_CENTRE,
    DEFAULT_LAYOUT,
    ENVIRONMENT_SCALE,
    PROP_MODELS,
    SceneLayout,
    _rotate,
)
from worldbridge.errors import FailedPrecondition
from worldbridge.geometry import Intrinsics

__all__ = ["PandaEngine", "EngineUnavailable", "SKY_RGB", "wire_depth"]

SKY_RGB = (135, 190, 235)
"""Background (clear) colour, 8-bit RGB: every pixel with depth 0 has exactly this colour."""

_PRC = """
load-display p3headlessgl
aux-display p3headlessgl
window-type offscreen
audio-library-name null
notify-level warning
notify-level-egldisplay error
notify-level-display error
default-directnotify-level warning
sync-video false
framebuffer-multisample false
multisamples 0
textures-power-2 none
model-cache-dir
keep-texture-ram true
"""
# `keep-texture-ram true`: by default Panda drops a texture's RAM copy once it is uploaded; a
# later engine instance (a new GL context) then reloads it and draws its first frame with the
# alpha-tested bamboo cards incomplete. Keeping the RAM copy makes every instance identical.
# `model-cache-dir` (empty): never write Panda's model cache under the user's home.
# `notify-level-egldisplay error` hides the one expected warning: Panda first asks EGL for the
# default (X11) display, which does not exist here, then falls back to a device display.


class EngineUnavailable(FailedPrecondition, RuntimeError):
    """Panda3D is missing or an offscreen EGL buffer cannot be created on this machine
    (``FAILED_PRECONDITION``, exit code 5; still a ``RuntimeError``, as it always was)."""


_panda_core = None


def _core():
    """Import ``panda3d.core`` once, after loading the offscreen configuration."""
    global _panda_core
    if _panda_core is None:
        try:
            from panda3d import core
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise EngineUnavailable(f"panda3d cannot be imported ({e}); "
                                    "pip install 'worldbridge[engine]'") from e
        core.load_prc_file_data("worldbridge-panda3d-engine", _PRC)
        _panda_core = core
    return _panda_core


_egl_pipe = None
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_render_thread_id: int | None = None


def _mark_render_thread() -> None:
    global _render_thread_id
    _render_thread_id = threading.get_ident()


def _render_thread() -> ThreadPoolExecutor:
    """The process's one Panda3D render thread (see :class:`PandaEngine`, "Threads")."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="panda3d-render",
                                           initializer=_mark_render_thread)
        return _executor


def _pipe():
    """The process's one ``p3headlessgl`` pipe (one EGL display); call on the render thread.

    Every pipe owns an EGL display connection and terminates it when it is destroyed; EGL
    hands out the *same* display to every caller, so a second pipe dying would tear down the
    contexts of the first. All engines therefore share this pipe; each still has its own
    ``GraphicsEngine``, context and buffers.
    """
    global _egl_pipe
    if _egl_pipe is None:
        p3d = _core()
        pipe = p3d.GraphicsPipeSelection.get_global_ptr().make_module_pipe("p3headlessgl")
        if pipe is None or not pipe.is_valid():
            raise EngineUnavailable("Panda3D could not open the p3headlessgl (EGL) pipe; install "
                                    "libegl1 libegl-mesa0 libgl1-mesa-dri")
        _egl_pipe = pipe
    return _egl_pipe



class PandaEngine:
    """Offscreen Panda3D renderer of the garden scene with exact depth.

    Each instance owns its own ``GraphicsEngine``, GL context (via a 1x1 EGL pbuffer) and
    framebuffer object, and its own copy of the scene graph, so several instances can live in
    one process; :meth:`close` (or the context manager) releases the GL objects. Rendering is
    synchronous: :meth:`render` returns the images of the pose it was given.

    Threads: an EGL context can be current in only one thread, and EGL's client API choice
    (``eglBindAPI``, made by Panda when it opens the pipe) is per thread: a context created on
    another thread silently comes out as OpenGL ES without float depth. So every Panda call of
    every instance runs on one process-wide render thread (:func:`_render_thread`), and
    :meth:`render` may be called from any thread (for example a gRPC request iterator); calls
    are serialised.

    Args:
        width, height: image size in pixels.
        fov_y_deg: vertical field of view, degrees (horizontal follows from the aspect ratio,
            square pixels).
        near, far: clip planes, metres (``0 < near < far``). Geometry beyond ``far`` is sky.
        props: place the panda and the teapot in the clearing (parallax for the demo);
            ``False`` draws the garden alone. Ignored when ``layout`` is given.
        layout: what to draw (:class:`SceneLayout`): the garden's scale and heading and the
            props. ``None``: :data:`DEFAULT_LAYOUT` (or no props with ``props=False``).
            :meth:`set_layout` changes it later.

    Raises:
        ValueError: bad size, FOV or clip planes; ``props=False`` together with a layout.
        TypeError: ``layout`` is not a :class:`SceneLayout`.
        EngineUnavailable: panda3d missing, or no EGL offscreen buffer with float depth.
    """

    def __init__(self, width: int = 512, height: int = 512, fov_y_deg: float = 60.0,
                 near: float = 0.05, far: float = 200.0, props: bool = True,
                 layout: SceneLayout | None = None) -> None:
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"image size must be > 0, got {width}x{height}")
        if not (0.0 < fov_y_deg < 180.0):
            raise ValueError(f"vertical FOV must be in (0, 180) degrees, got {fov_y_deg}")
        if not (0.0 < near < far and math.isfinite(far)):
            raise ValueError(f"need 0 < near < far < inf, got near={near}, far={far}")
        if layout is None:
            layout = DEFAULT_LAYOUT if props else SceneLayout(props=())
        elif not isinstance(layout, SceneLayout):
            raise TypeError(f"layout must be a SceneLayout, got {type(layout).__name__}")
        elif not props:
            raise ValueError("props=False and a layout: give the layout without props "
                             "(SceneLayout(props=())) instead")
        self.width, self.height = int(width), int(height)
        self.fov_y_deg, self.near, self.far = float(fov_y_deg), float(near), float(far)
        self.layout = layout
        self._closed = False
        self._engine: Any = None
        self._render: Any = None
        self._intrinsics = Intrinsics.from_vertical_fov(self.fov_y_deg, self.width, self.height)
        self._thread = _render_thread()
        try:
            self._call(self._setup, layout)
        except BaseException:
            self.close()
            raise

    def _call(self, fn, *args):
        """Run ``fn(*args)`` on the render thread and return its result (or raise its error)."""
        if threading.get_ident() == _render_thread_id:  # e.g. __del__ from a gc on that thread
            return fn(*args)
        return self._thread.submit(fn, *args).result()

    def _setup(self, layout: SceneLayout) -> None:
        p3d = _core()
        self._p3d = p3d
        pipe = _pipe()
        self._engine = p3d.GraphicsEngine(pipe)
        self._make_buffers(p3d, pipe)
        self._build_scene(p3d, layout)

    # -- setup ---------------------------------------------------------------------------------

    def _make_buffers(self, p3d, pipe) -> None:
        ge = self._engine
        host_fbp = p3d.FrameBufferProperties()
        host_fbp.set_rgba_bits(8, 8, 8, 8)
        host_fbp.set_depth_bits(24)
        self._host = ge.make_output(pipe, "wb-host", -10, host_fbp, p3d.WindowProperties.size(1, 1),
                                    p3d.GraphicsPipe.BF_refuse_window)
        if self._host is None:
            raise EngineUnavailable("Panda3D could not create an EGL pbuffer (no EGL display? "
                                    "install libegl1 libegl-mesa0 libgl1-mesa-dri)")
        self._host.set_active(False)  # only hosts the context; never drawn
        fbp = p3d.FrameBufferProperties()
        fbp.set_rgba_bits(8, 8, 8, 8)
        fbp.set_depth_bits(32)
        fbp.set_float_depth(True)
        fbp.set_multisamples(0)
        flags = p3d.GraphicsPipe.BF_refuse_window | p3d.GraphicsPipe.BF_refuse_parasite
        self._buffer = ge.make_output(pipe, "wb-fbo", 0, fbp,
                                      p3d.WindowProperties.size(self.width, self.height), flags,
                                      self._host.get_gsg(), self._host)
        if self._buffer is None:
            raise EngineUnavailable("Panda3D could not create an FBO with RGBA8 colour and float "
                                    "depth on this GL driver")
        got = self._buffer.get_fb_properties()
        if not got.get_float_depth():
            raise EngineUnavailable(f"the offscreen buffer has no float depth: {got}")
        gsg = self._host.get_gsg()
        self.renderer = f"{gsg.get_driver_renderer()} / {gsg.get_driver_version()}"

        self._color_tex = p3d.Texture("wb-color")
        self._depth_tex = p3d.Texture("wb-depth")
        out = p3d.GraphicsOutput
        self._buffer.add_render_texture(self._color_tex, out.RTM_copy_ram, out.RTP_color)
        self._buffer.add_render_texture(self._depth_tex, out.RTM_copy_ram, out.RTP_depth)
        sky = p3d.LColor(*(c / 255.0 for c in SKY_RGB), 1.0)
        self._buffer.set_clear_color_active(True)
        self._buffer.set_clear_color(sky)
        self._buffer.set_clear_depth_active(True)
        self._buffer.set_clear_depth(1.0)

    def _build_scene(self, p3d, layout: SceneLayout) -> None:
        self._render = p3d.NodePath("wb-render")
        self._scene = self._add_layout(p3d, layout)
        ambient = p3d.AmbientLight("ambient")
        ambient.set_color(p3d.LColor(0.55, 0.55, 0.6, 1.0))
        sun = p3d.DirectionalLight("sun")
        sun.set_color(p3d.LColor(0.75, 0.72, 0.65, 1.0))
        sun_np = self._render.attach_new_node(sun)
        sun_np.set_hpr(35.0, -50.0, 0.0)
        self._render.set_light(self._render.attach_new_node(ambient))
        self._render.set_light(sun_np)

        lens = p3d.PerspectiveLens()
        fov_y = math.radians(self.fov_y_deg)
        fov_x = 2.0 * math.atan(math.tan(fov_y / 2.0) * self.width / self.height)
        lens.set_fov(math.degrees(fov_x), self.fov_y_deg)
        lens.set_near_far(self.near, self.far)
        self._lens = lens
        cam = p3d.Camera("wb-camera", lens)
        self._camera = self._render.attach_new_node(cam)
        region = self._buffer.make_display_region()
        region.set_camera(self._camera)
        self._to_gl_cam = p3d.Mat4.convert_mat(p3d.CS_zup_right, p3d.CS_yup_right)
        # One throw-away frame uploads the textures, so the first real render is complete.
        self._engine.render_frame()

    def _add_layout(self, p3d, layout: SceneLayout):
        """Load the garden and the props of ``layout`` under a new ``wb-scene`` node."""
        scene = self._render.attach_new_node("wb-scene")
        loader = p3d.Loader.get_global_ptr()

        def load(name: str):
            node = loader.load_sync(p3d.Filename(name))
            if node is None:
                raise EngineUnavailable(f"Panda3D could not load {name!r} (is the panda3d wheel's "
                                        "models/ folder on the model-path?)")
            # copy: the loader returns the node shared through the model pool
            return p3d.NodePath(node).copy_to(scene)

        env = load("models/environment")
        s = ENVIRONMENT_SCALE * layout.environment_scale
        env.set_scale(s)
        gx, gy = _GARDEN_CENTRE
        ground = env.find("**/Ground")  # flat, authored 0.05 units above the model's origin
        ground_z = ground.get_tight_bounds()[0].z if not ground.is_empty() else 0.0
        # turned about the clearing's middle, which stays the world origin
        px, py = _rotate(layout.environment_heading_deg, -gx * s, -gy * s)
        env.set_pos(px, py, -ground_z * s)
        env.set_h(layout.environment_heading_deg)
        env.set_transparency(p3d.TransparencyAttrib.M_binary, 1)
        for prop in layout.props:
            spec = PROP_MODELS[prop.model]
            node = load(spec.path)
            k = prop.metres_per_unit
            node.set_scale(k)
            ox, oy = _rotate(prop.heading_deg, spec.offset[0] * k, spec.offset[1] * k)
            node.set_pos(prop.x + ox, prop.y + oy, prop.z + spec.offset[2] * k)
            node.set_h(prop.heading_deg)
            color = prop.color if prop.color is not None else spec.color
            if color is not None:
                node.set_color(*color, 1.0)
        return scene

    def set_layout(self, layout: SceneLayout) -> None:
        """Replace the garden and props by ``layout``; buffers, camera and lights stay.

        Renders after this are those of a new engine built with ``layout``.

        Raises:
            TypeError: ``layout`` is not a :class:`SceneLayout`.
            RuntimeError: the engine was closed.
        """
        if not isinstance(layout, SceneLayout):
            raise TypeError(f"layout must be a SceneLayout, got {type(layout).__name__}")
        if self._closed:
            raise RuntimeError("PandaEngine.set_layout() after close()")
        self._call(self._set_layout_on_thread, layout)
        self.layout = layout

    def _set_layout_on_thread(self, layout: SceneLayout) -> None:
        self._scene.remove_node()
        self._scene = self._add_layout(self._p3d, layout)
        self._engine.render_frame()  # uploads the new models' textures, as in _build_scene

    # -- public API ----------------------------------------------------------------------------

    def intrinsics(self) -> Intrinsics:
        """The camera's pinhole intrinsics (OpenCV pixel convention, ``cx = W/2``, ``cy = H/2``)."""
        return self._intrinsics

    def render(self, c2w_gl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Render the scene from an OpenGL camera-to-world pose.

        Args:
            c2w_gl: ``[4, 4]`` float64 camera-to-world, column-vector convention, OpenGL camera
                axes (X right, Y up, looking down -Z), Panda world (Z up), metres. Must be rigid.

        Returns:
            ``(rgb, depth)``: ``rgb`` ``[H, W, 3]`` uint8, top row first; ``depth`` ``[H, W]``
            float32 planar z in metres, top row first, 0 where nothing was drawn (sky).

        Raises:
            ValueError: ``c2w_gl`` is not a finite 4x4 rigid transform.
            RuntimeError: the engine was closed.
        """
        if self._closed:
            raise RuntimeError("PandaEngine.render() after close()")
        from worldbridge.geometry import PoseError, validate_rigid
        try:
            c2w = validate_rigid(c2w_gl, name="c2w_gl")
        except PoseError as e:
            raise ValueError(str(e)) from None
        return self._call(self._render_on_thread, c2w)

    def _render_on_thread(self, c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Panda is row-vector: its camera matrix is (ours)^T, preceded by Panda cam -> GL cam.
        self._camera.set_mat(self._to_gl_cam * self._p3d.Mat4(*c2w.T.ravel().tolist()))
        self._engine.render_frame()
        return self._read_color(), self._read_depth()

    def _read_color(self) -> np.ndarray:
        tex = self._color_tex
        h, w, nc = tex.get_y_size(), tex.get_x_size(), tex.get_num_components()
        raw = np.frombuffer(memoryview(tex.get_ram_image()), dtype=np.uint8)
        img = raw.reshape(h, w, nc)  # Panda stores 8-bit colour as BGR(A), bottom row first
        return np.ascontiguousarray(img[::-1, :, 2::-1])

    def _read_depth(self) -> np.ndarray:
        tex = self._depth_tex
        h, w = tex.get_y_size(), tex.get_x_size()
        if tex.get_component_type() != self._p3d.Texture.T_float:
            raise RuntimeError(f"depth texture is not float (component type "
                               f"{tex.get_component_type()})")
        d = np.frombuffer(memoryview(tex.get_ram_image()), dtype=np.float32).reshape(h, w)[::-1]
        d = d.astype(np.float64)
        n, f = self.near, self.far
        valid = d < 1.0  # cleared to exactly 1.0; geometry beyond `far` is clipped
        z = np.where(valid, n * f / (f - np.minimum(d, 1.0) * (f - n)), 0.0)
        return z.astype(np.float32)

    def close(self) -> None:
        """Release the buffers and the GL context. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._teardown)
        except RuntimeError:  # interpreter shutting down: the thread is gone, EGL goes with it
            pass

    def _teardown(self) -> None:
        if self._engine is not None:
            self._engine.remove_all_windows()
            self._engine = None
        self._buffer = self._host = None
        self._color_tex = self._depth_tex = None
        if self._render is not None:
            self._render.remove_node()
            self._render = self._scene = None

    def __enter__(self) -> PandaEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; close() is the API
        try:
            if hasattr(self, "_thread"):
                self.close()
        except Exception:
            pass



def wire_depth(depth: np.ndarray) -> np.ndarray:
    """The engine's depth as WorldBridge reads it: nothing drawn here means sky, which the
    wire marks +inf (0 would mean "unknown")."""
    return np.where(depth > 0, depth, np.float32(np.inf)).astype(np.float32)


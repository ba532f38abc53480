"""Shared fixtures: a real gateway with real worker processes, and a synthetic posed scene."""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from worldbridge.geometry import Convention, Intrinsics
from worldbridge.serving import ServerConfig
from worldbridge.serving.gateway.server import Gateway


class GatewayThread:
    """Runs a :class:`Gateway` on its own event loop in a background thread."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.gateway = Gateway(config)
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.gateway.start())
        except BaseException as e:  # surfaced in start()
            self._error = e
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()

    def start(self) -> GatewayThread:
        self._thread.start()
        self._started.wait(120)
        if self._error:
            raise self._error
        return self

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.gateway.port}"

    def call(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.call(self.gateway.stop(0.2))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One PyTorch intra-op thread for a module of small-tensor tests, restored afterwards:
    tiny models gain nothing from threads, and on a busy 2-core machine OpenMP hand-offs
    make every small op wait milliseconds. Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    cfg = ServerConfig(port=0, workers=2, data_dir=tmp_path_factory.mktemp("recordings"),
                       heartbeat_timeout_s=3.0)
    gw = GatewayThread(cfg).start()
    yield gw
    gw.stop()


@pytest.fixture
def make_gateway(tmp_path):
    """Factory for gateways with custom settings (stopped at the end of the test)."""
    started = []

    def make(**kwargs) -> GatewayThread:
        cfg = replace(ServerConfig(port=0, workers=1, data_dir=tmp_path / "recordings"), **kwargs)
        gw = GatewayThread(cfg).start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()


class PlaneScene:
    """A textured plane z = ``distance`` (OpenCV world), seen by an OpenCV camera at the origin."""

    def __init__(self, size: int = 64, distance: float = 3.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.k = Intrinsics.from_vertical_fov(60.0, size, size)
        base = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
        self.rgb = np.kron(base, np.ones((8, 8, 1), np.uint8))
        self.depth = np.full((size, size), distance, np.float32)
        self.c2w = np.eye(4)
        self.convention = Convention.OPENCV

    def pose(self, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> np.ndarray:
        m = np.eye(4)
        m[:3, 3] = [dx, dy, dz]
        return m

    def view(self):
        from worldbridge.client import ReferenceView

        return ReferenceView(rgb=self.rgb, depth=self.depth, c2w=self.c2w,
                             convention=self.convention, intrinsics=self.k)


@pytest.fixture
def plane() -> PlaneScene:
    return PlaneScene()


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


ENGINE_SIZE = 256  # the engine's default is 512; a smaller image keeps the tests fast on 2 cores


def _engine_unavailable(reason: str):
    """Skip on a developer machine without EGL; in CI (which installs it) this is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"engine tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def panda_example():
    """The ``worldbridge.engines.panda3d`` package (the Panda3D engine client)."""
    try:
        import panda3d  # noqa: F401
    except ImportError:
        _engine_unavailable("panda3d is not installed (pip install 'worldbridge[engine]')")
    from worldbridge.engines import panda3d as engine_package

    return engine_package


@pytest.fixture(scope="session")
def panda_engine(panda_example):
    """A 256x256, 60 degree vertical FOV Panda3D engine rendering offscreen on EGL."""
    try:
        eng = panda_example.PandaEngine(ENGINE_SIZE, ENGINE_SIZE, fov_y_deg=60.0, near=0.05, far=200.0)
    except panda_example.EngineUnavailable as e:
        _engine_unavailable(f"Panda3D cannot render offscreen through EGL here: {e}")
    yield eng
    eng.close()

"""The engine-free C++ client core (``unreal_plugin/``), built with CMake and run through its
GoogleTest binary: the pure tests, the live tests against a real server, the recorded dataset
read back in Python, and reconnecting to a server that comes up after the client started and
then restarts.

The build goes to ``build/cpp_core``. Without cmake, protoc, grpc_cpp_plugin or the C++
libraries (libgrpc++-dev, libprotobuf-dev, libgtest-dev, nlohmann-json3-dev) these tests
skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from worldbridge.demo import start_server_process
from worldbridge.geometry import Convention
from worldbridge.recording import load_dataset

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIR = REPO / "unreal_plugin"
BUILD_DIR = REPO / "build" / "cpp_core"
BINARY = BUILD_DIR / "worldbridge_core_tests"
VECTORS = REPO / "tests" / "vectors" / "conventions.json"
TOKEN = "cpp-core-test-token"
# Environment the test binary reads; cleared so that a developer's shell cannot leak in.
CPP_ENV_KEYS = ("WORLDBRIDGE_TARGET", "WORLDBRIDGE_TOKEN", "WORLDBRIDGE_DATA_DIR",
                "WORLDBRIDGE_RESULTS_DIR", "WORLDBRIDGE_RECONNECT_TARGET",
                "WORLDBRIDGE_RECONNECT_DIR", "WORLDBRIDGE_ABANDON_TARGET", "WORLDBRIDGE_ABANDON_DIR")


def _unavailable(reason: str):
    """Skip where the C++ toolchain is missing; in CI (which installs it) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"the C++ client core tests must run in CI: {reason}")
    pytest.skip(reason)


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def cpp_tests() -> Path:
    """Configures and builds the CMake project; returns the GoogleTest binary."""
    missing = [tool for tool in ("cmake", "protoc", "grpc_cpp_plugin") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"not installed: {', '.join(missing)}")
    configure = ["cmake", "-S", str(SOURCE_DIR), "-B", str(BUILD_DIR), "-DCMAKE_BUILD_TYPE=Release"]
    result = _run(configure, timeout=300)
    if result.returncode != 0 and (BUILD_DIR / "CMakeCache.txt").exists():
        shutil.rmtree(BUILD_DIR)  # a cache from another checkout or toolchain: start afresh
        result = _run(configure, timeout=300)
    if result.returncode != 0:
        _unavailable("cmake could not configure unreal_plugin (gRPC, protobuf, GoogleTest or "
                     f"nlohmann-json missing?):\n{_tail(result.stdout)}")
    result = _run(["cmake", "--build", str(BUILD_DIR), "-j2"], timeout=1500)
    if result.returncode != 0:
        pytest.fail(f"building the C++ client core failed:\n{_tail(result.stdout, 150)}")
    assert BINARY.exists(), BINARY
    return BINARY


@dataclass
class GTestRun:
    returncode: int
    output: str
    passed: list[str]
    skipped: list[str]
    failed: list[str]

    def check(self, expect_ran: int) -> None:
        assert self.returncode == 0 and not self.failed, f"failed: {self.failed}\n{_tail(self.output, 200)}"
        assert not self.skipped, f"skipped: {self.skipped}\n{_tail(self.output)}"
        assert len(self.passed) >= expect_ran, f"only {self.passed} ran\n{_tail(self.output)}"


def _parse_gtest_xml(path: Path) -> tuple[list[str], list[str], list[str]]:
    passed, skipped, failed = [], [], []
    if not path.exists():
        return passed, skipped, failed
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        if case.find("failure") is not None:
            failed.append(name)
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            skipped.append(name)
        else:
            passed.append(name)
    return passed, skipped, failed


def _gtest_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CPP_ENV_KEYS}
    env.update(values)
    return env


def _run_gtest(binary: Path, gtest_filter: str, xml: Path, env: dict[str, str],
               timeout: float = 600) -> GTestRun:
    cmd = [str(binary), f"--gtest_filter={gtest_filter}", f"--gtest_output=xml:{xml}"]
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout)
    return GTestRun(result.returncode, result.stdout, *_parse_gtest_xml(xml))


def test_pure_suite(cpp_tests, tmp_path):
    """Math, half floats, backoff, and client behaviour without a server."""
    run = _run_gtest(cpp_tests, "-Live*:Reconnect.*", tmp_path / "pure.xml", _gtest_env())
    run.check(expect_ran=20)


@pytest.fixture(scope="module")
def live_run(cpp_tests, tmp_path_factory):
    """Runs the live suite once against a real server started with a token."""
    data_dir = tmp_path_factory.mktemp("cpp_core_data")
    results = tmp_path_factory.mktemp("cpp_core_results")
    with mock.patch.dict(os.environ, {"OMP_NUM_THREADS": "1"}):
        proc, port = start_server_process(["--data-dir", str(data_dir), "--token", TOKEN])
    try:
        env = _gtest_env(WORLDBRIDGE_TARGET=f"127.0.0.1:{port}", WORLDBRIDGE_TOKEN=TOKEN,
                         WORLDBRIDGE_DATA_DIR=str(data_dir), WORLDBRIDGE_RESULTS_DIR=str(results))
        run = _run_gtest(cpp_tests, "Live*", results / "live.xml", env)
    finally:
        _stop(proc)
    return run, results


def test_live_suite(live_run):
    """Handshake, token, sessions, 100+ streamed frames, bad requests, LiveBridge, recording."""
    run, _ = live_run
    run.check(expect_ran=9)


def test_recording_from_cpp_reads_back_in_python(live_run):
    """The dataset the C++ Recorder wrote holds exactly what it sent; the poses converted by
    the backend equal the shared vectors' OpenCV camera-to-world."""
    run, results = live_run
    sent = json.loads((results / "recording.json").read_text()) if (results / "recording.json").exists() else None
    assert sent is not None, f"the C++ recording test wrote no results\n{_tail(run.output)}"
    vectors = {p["name"]: p for p in json.loads(VECTORS.read_text())["poses"]}
    path = Path(sent["path"])
    ds = load_dataset(path)
    assert ds.complete
    assert len(ds) == len(sent["frames"]) == 20
    assert [f.sequence for f in ds] == [f["sequence"] for f in sent["frames"]]
    assert sent["rejected_sequence"] not in [f.sequence for f in ds]
    transforms = json.loads((path / "transforms.json").read_text())["frames"]

    checked_vectors = 0
    for i, (frame, stored) in enumerate(zip(sent["frames"], ds)):
        engine = np.array(frame["engine_c2w"], np.float64).reshape(4, 4)
        assert stored.convention == Convention.UNREAL
        np.testing.assert_allclose(stored.engine_c2w, engine, atol=1e-12)
        if frame["name"] in vectors:
            expected = np.array(vectors[frame["name"]]["opencv_c2w"], np.float64).reshape(4, 4)
            np.testing.assert_allclose(stored.c2w_cv, expected, atol=1e-9, err_msg=frame["name"])
            checked_vectors += 1
        # Unreal (x forward, y right, z up; cm) -> OpenCV world (x = y, y = -z, z = x; m)
        x, y, z = engine[:3, 3]
        np.testing.assert_allclose(stored.c2w_cv[:3, 3], np.array([y, -z, x]) / 100.0, atol=1e-9)
        # transforms.json keeps OpenGL camera-to-world: the OpenCV y and z axes negated
        opengl = stored.c2w_cv @ np.diag([1.0, -1.0, -1.0, 1.0])
        np.testing.assert_allclose(np.array(transforms[i]["transform_matrix"]), opengl, atol=1e-9)

        w, h = frame["width"], frame["height"]
        assert (stored.intrinsics.width, stored.intrinsics.height) == (w, h)
        assert stored.intrinsics.fx == pytest.approx(w / 2)  # 90 degree horizontal FOV
        raw = np.fromfile(results / frame["rgb_file"], np.uint8)
        rgb = raw.reshape(h, w, 4)[..., [2, 1, 0]] if frame["format"] == "BGRA8" else raw.reshape(h, w, 3)
        np.testing.assert_array_equal(ds.read_rgb(i), rgb)
        depth = np.fromfile(results / frame["depth_file"], "<f4").reshape(h, w)
        np.testing.assert_allclose(ds.read_depth(i), depth, atol=1e-3)
    assert checked_vectors == 4


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


def _start_server_on(port: int, data_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "WORLDBRIDGE_TOKEN"}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.Popen([sys.executable, "-m", "worldbridge.cli", "serve", "--port", str(port),
                             "--data-dir", str(data_dir)], env=env)


def _wait_for_file(path: Path, client: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert client.poll() is None, f"the C++ test ended early:\n{_tail(log_path.read_text(), 200)}"
        assert time.monotonic() < deadline, f"no {path.name} in {timeout} s:\n{_tail(log_path.read_text())}"
        time.sleep(0.05)


def test_live_bridge_reconnects_when_the_server_comes_up_and_restarts(cpp_tests, tmp_path):
    """A LiveBridge started against a port nobody serves keeps retrying (Error events, state
    Connecting/Backoff); once a server comes up on that port it connects and streams; when
    that server is stopped and another one started on the same port, it reports Disconnected,
    reopens its session and streams again."""
    port = _free_port()
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    log_path = tmp_path / "reconnect.log"
    xml = tmp_path / "reconnect.xml"
    env = _gtest_env(WORLDBRIDGE_RECONNECT_TARGET=f"127.0.0.1:{port}",
                     WORLDBRIDGE_RECONNECT_DIR=str(handshake))
    server = None
    returncode = None
    with open(log_path, "w") as log:
        client = subprocess.Popen([str(cpp_tests),
                                   "--gtest_filter=Reconnect.ConnectsWhenTheServerAppearsAndAfterItRestarts",
                                   f"--gtest_output=xml:{xml}"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            # The C++ test says when it has seen attempts fail, then when frames flow.
            _wait_for_file(handshake / "retrying", client, log_path, timeout=90)
            server = _start_server_on(port, tmp_path / "data1")
            _wait_for_file(handshake / "streaming", client, log_path, timeout=300)
            _stop(server)
            server = _start_server_on(port, tmp_path / "data2")
            try:
                returncode = client.wait(timeout=300)
            except subprocess.TimeoutExpired:
                returncode = "still running after 300 s"
        finally:
            _stop(client)
            _stop(server)
    output = log_path.read_text()
    assert returncode == 0, f"exit {returncode}\n{_tail(output, 200)}"
    GTestRun(returncode, output, *_parse_gtest_xml(xml)).check(expect_ran=1)


def test_live_bridge_closes_the_session_it_abandons(cpp_tests, tmp_path, make_gateway):
    """When a stream dies (here: the server's render worker is killed, losing the session),
    the LiveBridge closes that session before it opens a new one, so it never holds a
    server slot it no longer uses."""
    gw = make_gateway(workers=1, heartbeat_timeout_s=3.0)
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    log_path = tmp_path / "abandon.log"
    xml = tmp_path / "abandon.xml"
    env = _gtest_env(WORLDBRIDGE_ABANDON_TARGET=gw.target, WORLDBRIDGE_ABANDON_DIR=str(handshake))
    with open(log_path, "w") as log:
        client = subprocess.Popen([str(cpp_tests), "--gtest_filter=Reconnect.ClosesTheSessionItAbandons",
                                   f"--gtest_output=xml:{xml}"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_file(handshake / "first_session", client, log_path, timeout=120)
            first = (handshake / "first_session").read_text()
            assert gw.gateway.servicer.sessions.get(first) is not None
            os.kill(gw.gateway.pool.workers["worker-0"].process.pid, signal.SIGKILL)
            _wait_for_file(handshake / "second_session", client, log_path, timeout=240)
            returncode = client.wait(timeout=60)
        finally:
            _stop(client)
    output = log_path.read_text()
    assert returncode == 0, f"exit {returncode}\n{_tail(output, 200)}"
    GTestRun(returncode, output, *_parse_gtest_xml(xml)).check(expect_ran=1)
    # the lost session was closed by the bridge, not left for the idle timeout
    assert gw.gateway.servicer.sessions.get(first) is None


def test_core_passes_clang_with_engine_flags(cpp_tests):
    """The core, the trajectory planner and the generated stubs also compile with clang (Unreal's
    compiler on Linux and Mac) with the engine's flags and clang's stricter shadowing warnings."""
    clang = shutil.which("clang++")
    if clang is None:
        _unavailable("clang++ is not installed (Debian: apt-get install clang)")
    module = SOURCE_DIR / "WorldBridge" / "Source"
    generated = BUILD_DIR / "generated"
    sources = sorted((module / "WorldBridgeCore" / "Private").glob("*.cpp"))
    sources += sorted((generated / "worldbridge" / "v1").glob("*.cc"))
    sources.append(module / "WorldBridge" / "Private" / "WorldBridgeTrajectory.cpp")
    flags = ["-std=c++20", "-fno-rtti", "-Wall", "-Wextra", "-Wshadow-all", "-Werror", "-fsyntax-only",
             f"-I{module / 'WorldBridgeCore' / 'Public'}", f"-I{module / 'WorldBridgeCore' / 'Private'}",
             f"-I{module / 'WorldBridge' / 'Private'}", f"-I{generated}"]
    failures = []
    for source in sources:
        result = _run([clang, *flags, str(source)], timeout=300)
        if result.returncode != 0:
            failures.append(f"{source.name}:\n{_tail(result.stdout, 40)}")
    assert len(sources) > 10 and not failures, "\n".join(failures)

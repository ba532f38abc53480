"""One error hierarchy (worldbridge.errors): every error derives from WorldBridgeError, and one
table each maps errors to gRPC status codes and to the command line's exit codes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import grpc
import pytest

import worldbridge
from worldbridge.errors import (
    EXIT_CODES,
    GRPC_STATUS,
    AlreadyExists,
    ConfigError,
    InvalidInput,
    NotFound,
    StatusError,
    WorldBridgeError,
    exit_code,
    grpc_status_name,
)


def _package_errors() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(worldbridge.__path__, "worldbridge."):
        if info.name.startswith("worldbridge.v1"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def test_every_error_of_the_package_is_a_worldbridge_error():
    errors = _package_errors()
    assert len(errors) >= 25
    outside = [f"{e.__module__}.{e.__qualname__}" for e in errors if not issubclass(e, WorldBridgeError)]
    assert not outside, outside


def test_status_names_are_grpc_codes():
    for status in GRPC_STATUS.values():
        assert hasattr(grpc.StatusCode, status), status
    for code in EXIT_CODES.values():
        assert 1 <= code <= 7


def test_the_kinds_map_to_status_and_exit_codes():
    from worldbridge.geometry import IntrinsicsError, PoseError
    from worldbridge.recording import DatasetExistsError, DatasetNameError, DatasetNotFoundError
    from worldbridge.serving.gateway.server import InsecureBindError
    from worldbridge.serving.gateway.worker_pool import WorkerError, WorkerUnavailable

    cases = [
        (PoseError("bad pose"), "INVALID_ARGUMENT", 2),
        (IntrinsicsError("bad fx"), "INVALID_ARGUMENT", 2),
        (DatasetNameError("bad name"), "INVALID_ARGUMENT", 2),
        (DatasetNotFoundError("no dataset"), "NOT_FOUND", 3),
        (DatasetExistsError("exists"), "ALREADY_EXISTS", 4),
        (WorkerUnavailable("gone"), "UNAVAILABLE", 7),
        (WorkerError("RESOURCE_EXHAUSTED", "over budget"), "RESOURCE_EXHAUSTED", 6),
        (InsecureBindError("unsafe"), "FAILED_PRECONDITION", 2),
        (RuntimeError("a bug"), "INTERNAL", 1),
        (FileNotFoundError("no file"), "INTERNAL", 3),
    ]
    for error, status, code in cases:
        assert grpc_status_name(error) == status, error
        assert exit_code(error) == code, error
    # the built-in bases callers have always caught are kept
    assert issubclass(DatasetExistsError, FileExistsError) and issubclass(DatasetNotFoundError, FileNotFoundError)
    assert issubclass(InvalidInput, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(NotFound, LookupError) and not issubclass(AlreadyExists, ValueError)


def test_status_errors_carry_their_own_status():
    from worldbridge.serving.gateway.requests import WireError

    e = WireError(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many pixels")
    assert e.code is grpc.StatusCode.RESOURCE_EXHAUSTED and grpc_status_name(e) == "RESOURCE_EXHAUSTED"
    assert exit_code(e) == 6 and str(e) == "too many pixels"
    with pytest.raises(ValueError, match="unknown status code name"):
        StatusError("NOT_A_CODE", "x")


def test_serve_reports_errors_with_the_table_exit_code(tmp_path):
    # a missing token file is a setting that cannot be used: exit code 2, one line, no traceback
    r = subprocess.run([sys.executable, "-m", "worldbridge.cli", "serve", "--port", "0",
                        "--token-file", str(tmp_path / "missing.txt")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "worldbridge serve: cannot read the token file" in r.stderr and "Traceback" not in r.stderr

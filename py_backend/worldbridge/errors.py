"""One error hierarchy for WorldBridge, with one table to gRPC status codes and one to CLI exit codes.

Every error WorldBridge raises on purpose derives from :class:`WorldBridgeError` through one
of the kinds below; each kind also keeps the built-in base that callers have always caught
(``ValueError`` for bad input, ``FileExistsError`` for an existing dataset, ...), so ``except
ValueError`` keeps working. The edge maps an error to a gRPC status with
:func:`grpc_status_name` and the command line to an exit code with :func:`exit_code`; both
look the error's class up in :data:`GRPC_STATUS` / :data:`EXIT_CODES` along its MRO, so a
new error only chooses its kind. :class:`StatusError` carries an explicit status for errors
decided per instance (a worker's reply, a request refused at the edge).

This module imports nothing heavier than the standard library: gRPC is named by its status
code names, so workers, clients and training code can use it.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "WorldBridgeError", "InvalidInput", "NotFound", "AlreadyExists", "FailedPrecondition",
    "ResourceExhausted", "Unavailable", "ConfigError", "StatusError", "GRPC_STATUS", "EXIT_CODES",
    "grpc_status_name", "exit_code",
]


class WorldBridgeError(Exception):
    """Root of WorldBridge's errors (gRPC ``INTERNAL``, exit code 1 unless a kind says otherwise)."""


class InvalidInput(WorldBridgeError, ValueError):
    """A value that is not acceptable (a pose, intrinsics, an image, a name): ``INVALID_ARGUMENT``."""


class NotFound(WorldBridgeError, LookupError):
    """Something named does not exist: ``NOT_FOUND``."""


class AlreadyExists(WorldBridgeError):
    """Something would be overwritten: ``ALREADY_EXISTS``."""


class FailedPrecondition(WorldBridgeError):
    """The request is valid but the system is not in a state to serve it (missing weights, a
    stage run without its inputs): ``FAILED_PRECONDITION``."""


class ResourceExhausted(WorldBridgeError):
    """A limit was reached (sessions, memory, message size, disk): ``RESOURCE_EXHAUSTED``."""


class Unavailable(WorldBridgeError):
    """A part that should serve is gone (a worker, a gateway): ``UNAVAILABLE``."""


class ConfigError(WorldBridgeError, ValueError):
    """A setting that cannot be used (an unsafe bind, a missing token file): exit code 2."""


class StatusError(WorldBridgeError):
    """An error whose gRPC status is decided per instance.

    Args:
        status: a gRPC status code name, e.g. ``"INVALID_ARGUMENT"``.
        message: the text for the client.

    Raises:
        ValueError: ``status`` is not a status code name of :data:`GRPC_STATUS` values or
            ``"INTERNAL"``.
    """

    def __init__(self, status: str, message: str):
        if status not in _STATUS_NAMES:
            raise ValueError(f"unknown status code name {status!r}")
        super().__init__(message)
        self.status = status
        self.message = message


GRPC_STATUS: dict[type, str] = {
    WorldBridgeError: "INTERNAL",
    InvalidInput: "INVALID_ARGUMENT",
    NotFound: "NOT_FOUND",
    AlreadyExists: "ALREADY_EXISTS",
    FailedPrecondition: "FAILED_PRECONDITION",
    ResourceExhausted: "RESOURCE_EXHAUSTED",
    Unavailable: "UNAVAILABLE",
    ConfigError: "FAILED_PRECONDITION",
}
"""Error kind -> gRPC status code name (the one mapping; :func:`grpc_status_name` applies it)."""

EXIT_CODES: dict[type, int] = {
    WorldBridgeError: 1,
    InvalidInput: 2,
    ConfigError: 2,
    NotFound: 3,
    AlreadyExists: 4,
    FailedPrecondition: 5,
    ResourceExhausted: 6,
    Unavailable: 7,
    # errors from Python and libraries, by the same meaning
    ValueError: 2,
    FileNotFoundError: 3,
    FileExistsError: 4,
    ImportError: 5,
}
"""Error kind -> exit code of the ``worldbridge`` command line (the one mapping; :func:`exit_code`).
``worldbridge serve`` and ``worldbridge worker`` use it; ``eval`` (2), ``export-onnx`` (1) and
the training commands (which raise) still keep their own codes."""

_STATUS_NAMES = frozenset(GRPC_STATUS.values()) | {"CANCELLED", "UNAUTHENTICATED", "PERMISSION_DENIED",
                                                    "DEADLINE_EXCEEDED", "ABORTED", "OUT_OF_RANGE",
                                                    "UNIMPLEMENTED", "DATA_LOSS", "UNKNOWN"}


def _lookup(table: Mapping[type, object], error: BaseException):
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return None


def grpc_status_name(error: BaseException) -> str:
    """The gRPC status code name for ``error``: a :class:`StatusError`'s own, else its kind's
    (``INTERNAL`` for anything that is not a :class:`WorldBridgeError`)."""
    if isinstance(error, StatusError):
        return error.status
    return _lookup(GRPC_STATUS, error) or "INTERNAL"


_EXIT_BY_STATUS = {status: EXIT_CODES[kind] for kind, status in GRPC_STATUS.items() if kind is not ConfigError}


def exit_code(error: BaseException) -> int:
    """The ``worldbridge`` exit code for ``error`` (1 for anything without a kind)."""
    if isinstance(error, StatusError):
        return _EXIT_BY_STATUS.get(error.status, 1)
    code = _lookup(EXIT_CODES, error)
    return 1 if code is None else int(code)

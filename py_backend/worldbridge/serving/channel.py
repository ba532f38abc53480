"""Securing the worker channel: CURVE on tcp links, a private ipc socket.

- ``tcp://`` worker links (remote workers, or a tcp bind on loopback) use ZeroMQ CURVE
  (RFC 26 CurveZMQ): the gateway's long-term key pair is derived from the shared token
  (SHA-256 of a domain label and the token), so only a worker that knows the token can
  compute the gateway's public key, complete the handshake and read or write anything on the
  link; the token itself then travels only inside the encrypted channel. Workers use a
  fresh key pair per connection. A tcp bind without a token is refused.
- ``ipc://`` sockets live in a folder only the serving user can open (0700) and the socket
  file is made 0600; local workers additionally prove themselves with a per-spawn key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

import zmq
from zmq.utils import z85

from worldbridge.errors import ConfigError

__all__ = ["ChannelSecurityError", "uses_curve", "server_keys", "secure_server", "secure_client",
           "make_ipc_private", "ipc_path", "IPC_DIR_PREFIX", "OWNER_FILE", "make_ipc_dir",
           "remove_if_orphaned", "sweep_orphaned_ipc_dirs"]

IPC_DIR_PREFIX = "worldbridge-"
"""Prefix of the private folder (in the system temp folder) holding a gateway's ipc socket."""

OWNER_FILE = "gateway.pid"
"""File in that folder naming the gateway's process id, so orphaned folders can be found."""

_KEY_LABEL = b"worldbridge worker channel CURVE v1\0"


class ChannelSecurityError(ConfigError):
    """A worker address that cannot be secured (tcp without a token, no CURVE support)."""


def uses_curve(address: str) -> bool:
    """True for addresses whose links are encrypted with CURVE (``tcp://``)."""
    return address.startswith("tcp://")


def server_keys(token: str) -> tuple[bytes, bytes]:
    """The gateway's CURVE ``(public, secret)`` keys (Z85, 40 bytes each) derived from ``token``.

    Raises:
        ChannelSecurityError: empty token, or libzmq built without CURVE.
    """
    if not token:
        raise ChannelSecurityError("a tcp worker link needs a token (--token-file or "
                                   "WORLDBRIDGE_TOKEN): its CURVE keys are derived from it")
    if not zmq.has("curve"):
        raise ChannelSecurityError("this libzmq has no CURVE support, so tcp worker links "
                                   "cannot be encrypted; use the default ipc socket")
    secret = z85.encode(hashlib.sha256(_KEY_LABEL + token.encode()).digest())
    return zmq.curve_public(secret), secret


def secure_server(sock: zmq.Socket, address: str, token: str | None) -> None:
    """Make ``sock`` (the gateway's ROUTER, before ``bind``) a CURVE server on tcp addresses.

    Raises:
        ChannelSecurityError: tcp without a token.
    """
    if not uses_curve(address):
        return
    public, secret = server_keys(token or "")
    sock.curve_server = True
    sock.curve_publickey = public
    sock.curve_secretkey = secret


def secure_client(sock: zmq.Socket, address: str, token: str | None) -> None:
    """Make ``sock`` (a worker's DEALER, before ``connect``) a CURVE client on tcp addresses.

    Raises:
        ChannelSecurityError: tcp without a token.
    """
    if not uses_curve(address):
        return
    server_public, _ = server_keys(token or "")
    public, secret = zmq.curve_keypair()
    sock.curve_serverkey = server_public
    sock.curve_publickey = public
    sock.curve_secretkey = secret


def ipc_path(address: str) -> Path | None:
    """The socket file of an ``ipc://`` address (None for other transports)."""
    return Path(address[len("ipc://"):]) if address.startswith("ipc://") else None


def make_ipc_private(address: str) -> None:
    """After ``bind``: limit an ipc socket file to its owner (0600) and check that its folder
    is not writable by others (a folder others can write lets them replace the socket).

    Raises:
        ChannelSecurityError: the folder is group- or world-writable.
    """
    path = ipc_path(address)
    if path is None:
        return
    mode = path.parent.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
        raise ChannelSecurityError(f"the worker socket's folder {path.parent} is writable by "
                                   "other users; choose a private folder")
    os.chmod(path, 0o600)


def make_ipc_dir() -> Path:
    """A new private (0700) folder for a gateway's ipc socket, with :data:`OWNER_FILE`."""
    path = Path(tempfile.mkdtemp(prefix=IPC_DIR_PREFIX))
    (path / OWNER_FILE).write_text(str(os.getpid()))
    return path


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no procfs (macOS): trust kill(0)


def remove_if_orphaned(path: Path) -> bool:
    """Remove a gateway's ipc folder whose gateway process no longer exists (one killed with
    SIGKILL never cleans up). Folders of other users, of live gateways, or without a readable
    :data:`OWNER_FILE` are left alone. Returns whether it was removed."""
    try:
        if path.stat().st_uid != os.getuid() or not path.name.startswith(IPC_DIR_PREFIX):
            return False
        pid = int((path / OWNER_FILE).read_text().strip())
    except (OSError, ValueError):
        return False
    if _alive(pid):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return not path.exists()


def sweep_orphaned_ipc_dirs(root: Path | None = None) -> int:
    """Remove every orphaned gateway ipc folder of this user under ``root`` (default: the
    system temp folder); returns how many."""
    root = Path(root or tempfile.gettempdir())
    return sum(remove_if_orphaned(p) for p in root.glob(IPC_DIR_PREFIX + "*") if p.is_dir())

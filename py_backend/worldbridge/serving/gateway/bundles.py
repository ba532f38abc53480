"""The frame-model bundles a running server knows by name: watched folders and a startup list.

A session names a bundle in ``GeneratorOptions.bundle``; the gateway resolves the name here
and sends the worker the bundle's folder, which the worker loads (and caches) like its
default bundle. A bundle written into a watched folder (``worldbridge serve --bundle-dir``),
for example the ``bundle/`` of a ``worldbridge adapt`` run copied there, is served to the
next session that names it, without a restart. ``--bundle NAME=PATH`` lists one at startup.

Names are confined: a name is one path component of ``[A-Za-z0-9._-]``, at most 64
characters, not starting with a dot; a watched name must resolve (symbolic links followed)
to a folder inside its watched folder. Names come from clients: nothing here touches a path
a client spelled.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from worldbridge.errors import ConfigError, InvalidInput, NotFound
from worldbridge.v1 import handshake_pb2

__all__ = ["BundleRegistry", "BundleNameError", "UnknownBundleError", "BUNDLE_NAME"]

log = logging.getLogger("worldbridge.gateway")

BUNDLE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
"""What a bundle name may be (one path component, no leading dot)."""

_BUNDLE_FILE = "bundle.json"
_MAX_BUNDLE_JSON = 1 << 20
"""Largest ``bundle.json`` read for provenance, bytes."""


class BundleNameError(InvalidInput):
    """A bundle name that is not one plain path component."""


class UnknownBundleError(NotFound):
    """A well-formed bundle name the server does not know."""


@dataclass(frozen=True)
class _Listed:
    path: Path
    source: str


class BundleRegistry:
    """Bundles by name: those listed at startup and those in the watched folders (rescanned
    on every lookup, so a bundle written there while the server runs is found at once).

    Args:
        watch: folders whose sub-folders holding a ``bundle.json`` are bundles, named after
            the sub-folder.
        listed: ``name -> bundle folder``, named at startup; a listed name shadows a watched one.

    Raises:
        ConfigError: a watched folder that does not exist, a listed name that is not a valid
            name, or a listed folder without a ``bundle.json``.
    """

    def __init__(self, watch: list[Path] | None = None, listed: dict[str, Path] | None = None):
        self.watch = [Path(w).resolve() for w in (watch or [])]
        for w in self.watch:
            if not w.is_dir():
                raise ConfigError(f"bundle folder {str(w)!r} does not exist")
        self.listed: dict[str, Path] = {}
        for name, path in (listed or {}).items():
            if not BUNDLE_NAME.fullmatch(name):
                raise ConfigError(f"bundle name {name!r} must match {BUNDLE_NAME.pattern}")
            p = Path(path).resolve()
            if not (p / _BUNDLE_FILE).is_file():
                raise ConfigError(f"bundle {name!r}: {str(p)!r} has no {_BUNDLE_FILE}")
            self.listed[name] = p

    def resolve(self, name: str) -> Path:
        """The folder of the bundle named ``name``.

        Raises:
            BundleNameError: ``name`` is not a valid name (a path, a dot name, too long).
            UnknownBundleError: no listed or watched bundle has that name (or the watched
                entry leaves its folder through a link).
        """
        if not BUNDLE_NAME.fullmatch(name):
            shown = name if len(name) <= 64 else name[:64] + "..."
            raise BundleNameError(f"bundle name {shown!r} is not a bundle name: one path component of "
                                  f"letters, digits, '.', '_' and '-' (at most 64, no leading '.')")
        if name in self.listed:
            return self.listed[name]
        for w in self.watch:
            p = self._watched(w, name)
            if p is not None:
                return p
        raise UnknownBundleError(f"unknown bundle {name!r}; known: {sorted(self.names())}")

    @staticmethod
    def _watched(folder: Path, name: str) -> Path | None:
        p = (folder / name).resolve()
        if p.parent != folder or not (p / _BUNDLE_FILE).is_file():
            return None
        return p

    def names(self) -> dict[str, tuple[Path, str]]:
        """Every known bundle: ``name -> (folder, "listed" | "watched")``."""
        out: dict[str, tuple[Path, str]] = {}
        for w in self.watch:
            try:
                entries = sorted(os.listdir(w))
            except OSError:
                continue
            for name in entries:
                if BUNDLE_NAME.fullmatch(name) and name not in out:
                    p = self._watched(w, name)
                    if p is not None:
                        out[name] = (p, "watched")
        out.update({name: (p, "listed") for name, p in self.listed.items()})
        return out

    def info(self) -> list[handshake_pb2.BundleInfo]:
        """``ServerInfo.bundles``: each bundle's provenance from its ``bundle.json`` (fields
        left empty when it records none, or when the file cannot be read)."""
        return [_info(name, path, source) for name, (path, source) in sorted(self.names().items())]


def _info(name: str, path: Path, source: str) -> handshake_pb2.BundleInfo:
    meta: dict = {}
    try:
        f = path / _BUNDLE_FILE
        if f.stat().st_size <= _MAX_BUNDLE_JSON:
            loaded = json.loads(f.read_text())
            meta = loaded if isinstance(loaded, dict) else {}
        else:
            log.warning("bundle %r: %s is over %d bytes; listed without provenance", name, f, _MAX_BUNDLE_JSON)
    except (OSError, ValueError) as e:  # still listed: a session naming it gets the load error
        log.warning("bundle %r: cannot read its %s (%s); listed without provenance", name, _BUNDLE_FILE, e)
    base = meta.get("base_model")
    level = meta.get("level_data")
    evaluation = meta.get("evaluation")
    return handshake_pb2.BundleInfo(
        name=name, description=_text(meta.get("name")), source=source,
        base_model=_text(base.get("name") if isinstance(base, dict) else base),
        level_data=[Path(p).name for p in level.get("train", []) if isinstance(p, str)] if isinstance(level, dict)
        else [],
        created=_text(meta.get("date")),
        evaluation=_text(evaluation.get("verdict") if isinstance(evaluation, dict) else evaluation))


def _text(value: object) -> str:
    return value[:1000] if isinstance(value, str) else ""

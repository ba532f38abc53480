"""Command-line flags generated from config dataclasses.

:func:`add_config_arguments` adds one argparse flag per dataclass field, taking its name,
type and default from the field, so that a command never repeats a config's defaults;
:func:`config_from_args` builds the config back from the parsed flags. A field's
``metadata`` may give ``"help"``, ``"flag"`` (the flag's name, default ``--`` plus the field
name with dashes; the dest is the flag's name with underscores, as argparse makes it),
``"type"`` (the value type, for fields annotated more loosely, e.g. ``Any``) and
``"choices"``.

Field types and the flags they make: ``int``, ``float``, ``str`` (one value), ``X | None``
(one ``X``, default None), ``list[X]`` (one or more ``X``), ``bool`` (a switch:
``store_true`` for a False default, ``--name`` / ``--no-name`` for a True one).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["add_config_arguments", "config_from_args"]


def _field(cls: type, name: str) -> dataclasses.Field:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise ValueError(f"{cls.__name__} has no field {name!r}; fields: {sorted(fields)}")
    return fields[name]


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def _dest(f: dataclasses.Field) -> str:
    """The argparse dest of field ``f``'s flag (``--batch-clips`` -> ``batch_clips``)."""
    return _flag(f).lstrip("-").replace("-", "_")


def _value_type(cls: type, f: dataclasses.Field) -> tuple[Any, bool]:
    """``(element type, is a list)`` of field ``f`` (string annotations, as ``from __future__
    import annotations`` makes them, are resolved first).

    Raises:
        TypeError: a type no flag can hold, or an annotation that does not resolve.
    """
    tp = f.metadata.get("type", f.type)
    if isinstance(tp, str):
        try:
            tp = typing.get_type_hints(cls)[f.name]
        except NameError as e:
            raise TypeError(f"cannot resolve the type of {cls.__name__}.{f.name}: {e}") from None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        tp = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list and len(args) == 1 and args[0] in (int, float, str):
        return args[0], True
    if tp in (int, float, str, bool):
        return tp, False
    raise TypeError(f"no command-line flag for {cls.__name__}.{f.name} of type {tp!r}: give "
                    "metadata 'type' (int, float or str)")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def add_config_arguments(parser: argparse.ArgumentParser, cls: type,
                         fields: Sequence[str] | None = None,
                         defaults: Mapping[str, Any] | None = None) -> None:
    """Add a flag for each of ``fields`` of the dataclass ``cls`` to ``parser``.

    Args:
        parser: the parser (or argument group) to add to.
        cls: a dataclass type (string annotations resolve through :func:`typing.get_type_hints`).
        fields: the field names, in flag order; None: every field.
        defaults: flag defaults that differ from the fields' own (a command's recipe), by
            field name.

    Raises:
        ValueError: a name in ``fields`` or ``defaults`` that is not a field of ``cls`` (or a
            ``defaults`` entry for a field without a flag).
        TypeError: a field whose type no flag can hold (see the module docstring).
    """
    names = [f.name for f in dataclasses.fields(cls)] if fields is None else list(fields)
    defaults = dict(defaults or {})
    stray = sorted(set(defaults) - set(names))
    if stray:
        raise ValueError(f"defaults for fields without a flag: {stray}")
    for name in names:
        f = _field(cls, name)
        value_type, is_list = _value_type(cls, f)
        default = defaults[name] if name in defaults else _default(f)
        kwargs: dict[str, Any] = {"dest": _dest(f), "help": f.metadata.get("help")}
        if default is dataclasses.MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default
        if value_type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
        else:
            kwargs["type"] = value_type
            if is_list:
                kwargs["nargs"] = "+"
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        parser.add_argument(_flag(f), **kwargs)


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """Build ``cls`` from parsed flags: every field whose flag's dest is in ``args`` takes
    its value; ``overrides`` (by field name) win; the other fields keep their defaults.

    Args:
        cls: the dataclass type the flags were made from (:func:`add_config_arguments`).
        args: the parsed namespace.
        **overrides: field values that do not come straight from one flag.

    Returns:
        The config (its ``__post_init__`` validates it).

    Raises:
        ValueError: an override that is not a field of ``cls``, or what ``cls`` raises for
            an invalid value.
    """
    for name in overrides:
        _field(cls, name)
    values = {f.name: getattr(args, _dest(f)) for f in dataclasses.fields(cls)
              if hasattr(args, _dest(f))}
    return cls(**{**values, **overrides})

"""Optimizer and trainer state on disk without pickles: safetensors + JSON.

``optimizer.safetensors`` holds every per-parameter state tensor under
``state.<param index>.<name>``; ``trainer_state.json`` holds the step, the optimizer's
param-group hyperparameters and any JSON-able extras (data epoch, RNG seeds, config).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

__all__ = ["save_trainer_state", "load_trainer_state", "TrainerStateError"]

OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"


class TrainerStateError(ValueError):
    """A missing, corrupt or mismatched trainer state."""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_trainer_state(directory: str | Path, optimizer: torch.optim.Optimizer, step: int,
                       extra: dict[str, Any] | None = None) -> None:
    """Write the optimizer state and ``step`` into ``directory`` (created if needed)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            if torch.is_tensor(value):
                tensors[f"state.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    tmp = d / f".{OPTIMIZER_FILE}.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, d / OPTIMIZER_FILE)
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    _atomic_write_text(d / STATE_FILE, json.dumps(
        {"step": int(step), "param_groups": groups, "scalars": scalars, "extra": extra or {}}, indent=1))


def load_trainer_state(directory: str | Path, optimizer: torch.optim.Optimizer) -> tuple[int, dict[str, Any]]:
    """Restore ``optimizer`` from ``directory``; return ``(step, extra)``.

    Raises:
        TrainerStateError: missing files, corrupt files, or a state for a different set of
            parameters (count or shapes), naming what differs.
    """
    d = Path(directory)
    for name in (OPTIMIZER_FILE, STATE_FILE):
        if not (d / name).is_file():
            raise TrainerStateError(f"no {name} in {d}: not a training checkpoint")
    try:
        meta = json.loads((d / STATE_FILE).read_text())
        tensors = load_file(str(d / OPTIMIZER_FILE))
    except Exception as e:  # json and safetensors raise several types for damaged files
        raise TrainerStateError(f"cannot read trainer state in {d}: {e}") from None
    current = optimizer.state_dict()
    if len(meta["param_groups"]) != len(current["param_groups"]) or any(
            len(a["params"]) != len(b["params"]) for a, b in zip(meta["param_groups"], current["param_groups"])):
        raise TrainerStateError(f"trainer state in {d} is for a different model (parameter groups differ)")
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = value
    for key, value in meta["scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for idx, st in state.items():
        for name, value in st.items():
            if torch.is_tensor(value) and value.dim() > 0 and value.shape != params[idx].shape:
                raise TrainerStateError(f"trainer state {name} of parameter {idx} has shape "
                                        f"{tuple(value.shape)}, the model has {tuple(params[idx].shape)}")
    groups = []
    for saved, cur in zip(meta["param_groups"], current["param_groups"]):
        g = dict(saved)
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
        g["params"] = cur["params"]
        groups.append(g)
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    return int(meta["step"]), meta.get("extra", {})

"""Optimizer and trainer state on disk without pickles: safetensors + JSON; resume helpers.

``optimizer.safetensors`` holds every per-parameter state tensor under
``state.<param index>.<name>``; ``trainer_state.json`` holds the step, the optimizer's
param-group hyperparameters and any JSON-able extras (data epoch, RNG seeds, config).

Every training stage (Stage II and Stage III) resumes the same way: checkpoints are folders
under the run's output folder, and ``latest.txt`` (written atomically, after the checkpoint
is complete) names the newest one relative to that folder (:func:`mark_latest`,
:func:`latest_checkpoint`). Per-step random generators derived from ``(seed, step, rank)``
(:func:`step_generator`) make a resumed run draw exactly what an uninterrupted one draws.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from worldbridge.atomic_io import atomic_path, atomic_write_text
from worldbridge.errors import InvalidInput

__all__ = ["save_trainer_state", "load_trainer_state", "TrainerStateError", "latest_checkpoint",
           "mark_latest", "step_generator", "LATEST_MARKER"]

OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"
LATEST_MARKER = "latest.txt"
"""File in a run's output folder naming its newest complete checkpoint (relative path)."""


class TrainerStateError(InvalidInput):
    """A missing, corrupt or mismatched trainer state."""


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
    with atomic_path(d / OPTIMIZER_FILE) as tmp:
        save_file(tensors, str(tmp))
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    atomic_write_text(d / STATE_FILE, json.dumps(
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
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for key, value in meta["scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
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


def mark_latest(out_dir: str | Path, relative: str) -> None:
    """Point ``out_dir/latest.txt`` at the checkpoint folder ``out_dir/relative``.

    Call it after every file of the checkpoint is written: the marker is replaced atomically
    (temporary file + rename), so a run killed at any moment leaves it naming a complete
    checkpoint (or the previous one).

    Args:
        out_dir: the run's output folder.
        relative: the checkpoint folder relative to ``out_dir`` (``"final"``,
            ``"checkpoints/step_0000500"``).

    Raises:
        ValueError: ``relative`` is absolute or empty.
    """
    if not relative or Path(relative).is_absolute():
        raise ValueError(f"checkpoint path must be relative to the output folder, got {relative!r}")
    atomic_write_text(Path(out_dir) / LATEST_MARKER, relative)


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The checkpoint folder ``out_dir/latest.txt`` names, or None (fresh run).

    None also when the marker names a folder that no longer exists.
    """
    marker = Path(out_dir) / LATEST_MARKER
    if not marker.is_file():
        return None
    path = Path(out_dir) / marker.read_text().strip()
    return path if path.is_dir() else None


def step_generator(seed: int, step: int, rank: int | None = None) -> torch.Generator:
    """A CPU ``torch.Generator`` for one training step, seeded from ``(seed, step, rank)``.

    The seed is mixed with :class:`numpy.random.SeedSequence`, so neighbouring steps and
    ranks get unrelated streams, and a run resumed at step ``n`` draws at every step what an
    uninterrupted run draws there.

    Args:
        seed: the run's seed (>= 0).
        step: the optimiser step about to be taken (>= 0, 0-based).
        rank: the DDP rank (>= 0) for draws that must differ between ranks (noise,
            timesteps); None for draws that every rank must share (a stream separate from
            every rank's), e.g. Stage III's backward-simulation step, which decides how
            many forward passes each rank makes.

    Returns:
        A freshly seeded generator.

    Raises:
        ValueError: a negative or non-integer seed, step or rank.
    """
    values = {"seed": seed, "step": step, "rank": 0 if rank is None else rank}
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"step_generator needs an integer {name} >= 0, got {v!r}")
    stream = 0 if rank is None else 1 + int(rank)
    state = np.random.SeedSequence([int(seed), int(step), stream]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state[0]) & (2**63 - 1))

"""The one training loop of every stage: Stage II, Stage III and autoencoder training.

A stage builds its models, optimizers and data, then hands :class:`TrainLoop` three
callbacks: ``load(checkpoint) -> step`` (restore a checkpoint), ``step_fn(step) -> values``
(one optimiser step: losses, updates, the floats to log) and ``save(folder, step)`` (write
a complete checkpoint). The loop owns everything around them, the same way for every stage:

* resume: :meth:`TrainLoop.resume` loads the checkpoint ``latest.txt`` names (if any) and
  the run continues at its step; the loss-log rows after that step are dropped, since those
  steps are redone;
* the steps ``start .. steps - 1`` (0-based; the step count after step ``i`` is ``i + 1``);
* a tqdm progress bar (rank 0);
* the loss log ``loss.jsonl`` (:class:`~worldbridge.training.loss_log.LossLog`, rank 0): a
  row every ``log_every`` steps and at the last, the step's values plus, unless turned off,
  ``s_per_step`` (the step's wall time, seconds), and its curve ``loss.png`` at every
  checkpoint and at the end;
* checkpoints (rank 0): ``checkpoints/step_NNNNNNN`` every ``checkpoint_every`` steps and a
  final one (``final``, or the last step's folder), each pointed to by ``latest.txt`` once
  complete (:func:`~worldbridge.training.trainer_state.mark_latest`); only the newest
  ``keep_checkpoints`` step folders are kept; every rank waits at a barrier after each save
  under DDP.

Checkpoint folders are relative to the run's output folder, as ``latest.txt`` names them.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from worldbridge.training.distributed import DistInfo
from worldbridge.training.loss_log import LossLog, plot_loss_curves
from worldbridge.training.trainer_state import latest_checkpoint, mark_latest

__all__ = ["FINAL_CHECKPOINT", "LOSS_LOG_NAME", "LoopResult", "TrainLoop", "step_checkpoint"]

LOSS_LOG_NAME = "loss.jsonl"
"""The loss log in a run's output folder; its curve is ``loss.png``."""

FINAL_CHECKPOINT = "final"
"""The final checkpoint folder of Stage II and Stage III runs."""

_STEP_DIR = re.compile(r"^step_\d{7}$")

StepFn = Callable[[int], dict[str, float]]
"""One optimiser step: takes the 0-based step, returns the values to log (floats)."""

SaveFn = Callable[[Path, int], None]
"""Writes a complete checkpoint of the given step count into the given folder."""

LoadFn = Callable[[Path], int]
"""Restores the given checkpoint folder; returns its step count."""


def step_checkpoint(step: int) -> str:
    """The periodic checkpoint folder of step count ``step``, relative to the output folder
    (``checkpoints/step_0000500``)."""
    return f"checkpoints/step_{step:07d}"


@dataclass
class LoopResult:
    """What :meth:`TrainLoop.run` did.

    Attributes:
        resumed_from: the step count of the checkpoint the run resumed from (0: fresh).
        steps: the step count reached: ``max(resumed_from, steps)``.
        history: the values ``step_fn`` returned, one dict per step this run took.
        seconds: the wall time of each of those steps, seconds.
    """

    resumed_from: int
    steps: int
    history: list[dict[str, float]]
    seconds: list[float]


def _check_int(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


class TrainLoop:
    """The steps, logging, checkpoints and resume of one training run (module docstring).

    Call :meth:`resume` (every rank), build what depends on the start step (data order,
    DDP wrappers), then :meth:`run`. :attr:`start` is the step count the run starts at
    (None until :meth:`resume`).

    Args:
        out_dir: the run's output folder (created by :meth:`run` on rank 0).
        steps: the step count to reach (>= 1).
        log_every: steps between loss-log rows (>= 1; the last step is always logged).
        checkpoint_every: steps between periodic checkpoints (>= 0; 0: only the final one).
        desc: the progress bar's label.
        curve_title: the title of ``loss.png``.
        curve_exclude: logged names that are not plotted (schedules, timings).
        postfix: names of ``step_fn`` values the progress bar shows.
        log_step_time: add ``s_per_step`` to every loss-log row.
        final_checkpoint: the final checkpoint folder, relative to ``out_dir``; None: the
            last step's periodic folder (:func:`step_checkpoint`).
        keep_checkpoints: how many of the newest ``checkpoints/step_N`` folders to keep
            (>= 1; the one ``latest.txt`` names always stays); None: all.
        dist: this process's place in the DDP group; None: a single process.
        progress: show a progress bar (rank 0).

    Raises:
        ValueError: a count out of range.
    """

    def __init__(self, out_dir: str | Path, steps: int, *, log_every: int, checkpoint_every: int,
                 desc: str, curve_title: str, curve_exclude: Sequence[str] = ("lr", "s_per_step"),
                 postfix: Sequence[str] = ("loss",), log_step_time: bool = True,
                 final_checkpoint: str | None = FINAL_CHECKPOINT, keep_checkpoints: int | None = None,
                 dist: DistInfo | None = None, progress: bool = True) -> None:
        _check_int(steps, "steps", 1)
        _check_int(log_every, "log_every", 1)
        _check_int(checkpoint_every, "checkpoint_every", 0)
        if keep_checkpoints is not None:
            _check_int(keep_checkpoints, "keep_checkpoints", 1)
        self.out = Path(out_dir)
        self.steps = steps
        self.log_every = log_every
        self.checkpoint_every = checkpoint_every
        self.desc = desc
        self.curve_title = curve_title
        self.curve_exclude = tuple(curve_exclude)
        self.postfix = tuple(postfix)
        self.log_step_time = log_step_time
        self.final_checkpoint = final_checkpoint
        self.keep_checkpoints = keep_checkpoints
        self.dist = dist
        self.progress = progress
        self.start: int | None = None

    @property
    def is_main(self) -> bool:
        """Whether this process writes the files (rank 0, or the only process)."""
        return self.dist is None or self.dist.is_main

    def resume(self, load: LoadFn) -> int:
        """Restore the latest checkpoint of the output folder, if there is one.

        Args:
            load: restores a checkpoint folder (models, optimizers) and returns its step
                count; not called for a fresh run.

        Returns:
            The step count to start at (0 for a fresh run), also :attr:`start`.

        Raises:
            ValueError: ``load`` returned a negative or non-integer step; whatever ``load``
                raises for a checkpoint it cannot resume.
        """
        latest = latest_checkpoint(self.out)
        start = 0 if latest is None else load(latest)
        _check_int(start, f"the step of checkpoint {latest}", 0)
        self.start = start
        return start

    def run(self, step_fn: StepFn, save: SaveFn,
            after_step: Callable[[int], None] | None = None) -> LoopResult:
        """Take the steps ``start .. steps - 1``, logging and checkpointing, then save the
        final checkpoint and plot the loss curve.

        The final checkpoint is written unless the run took no step and ``latest.txt``
        already names it (a finished run rerun).

        Args:
            step_fn: one optimiser step (every rank; the values should be the same on every
                rank, e.g. all-reduced means).
            save: writes a checkpoint (rank 0 only).
            after_step: called on every rank with the step count after each step, after its
                log row and checkpoint (e.g. a periodic evaluation).

        Returns:
            A :class:`LoopResult` (on every rank).

        Raises:
            RuntimeError: :meth:`resume` was not called; whatever the callbacks raise (the
                progress bar is closed first).
        """
        if self.start is None:
            raise RuntimeError("TrainLoop.run needs TrainLoop.resume first (it finds the start step)")
        start, log = self.start, None  # the log exists on rank 0 only: rank 0 writes every file
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            log = LossLog(self.out / LOSS_LOG_NAME)
            log.truncate(start)  # the steps after the checkpoint are redone, and logged again
        bar = None
        if self.progress and self.is_main:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.steps, initial=min(start, self.steps), desc=self.desc, unit="step")
        history: list[dict[str, float]] = []
        seconds: list[float] = []
        try:
            for step in range(start, self.steps):
                t0 = time.perf_counter()
                values = step_fn(step)
                took = time.perf_counter() - t0
                history.append(values)
                seconds.append(took)
                done = step + 1
                if log is not None and (done % self.log_every == 0 or done == self.steps):
                    log.append(done, **values, **({"s_per_step": took} if self.log_step_time else {}))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({**{k: f"{values[k]:.4f}" for k in self.postfix},
                                     "s_per_step": f"{took:.2f}"})
                if self.checkpoint_every and done % self.checkpoint_every == 0 and done < self.steps:
                    if log is not None:
                        self._write_checkpoint(save, done, step_checkpoint(done), log)
                    self._barrier()
                if after_step is not None:
                    after_step(done)
        finally:
            if bar is not None:
                bar.close()
        final = max(start, self.steps)
        rel = self.final_checkpoint or step_checkpoint(final)
        if log is not None:
            latest = latest_checkpoint(self.out)
            if history or latest is None or latest.resolve() != (self.out / rel).resolve():
                self._write_checkpoint(save, final, rel, log)
            else:
                self._plot(log)
        self._barrier()
        return LoopResult(resumed_from=start, steps=final, history=history, seconds=seconds)

    def _write_checkpoint(self, save: SaveFn, step: int, rel: str, log: LossLog) -> None:
        """Save, point ``latest.txt`` at the checkpoint, prune, plot (rank 0)."""
        save(self.out / rel, step)
        mark_latest(self.out, rel)
        if self.keep_checkpoints is not None:
            self._prune()
        self._plot(log)

    def _plot(self, log: LossLog) -> None:
        if log.read():
            plot_loss_curves(log, self.out / "loss.png", title=self.curve_title, exclude=self.curve_exclude)

    def _prune(self) -> None:
        """Delete all but the newest ``keep_checkpoints`` step folders (never the latest)."""
        folder = self.out / "checkpoints"
        if self.keep_checkpoints is None or not folder.is_dir():
            return
        latest = latest_checkpoint(self.out)
        kept = sorted(p for p in folder.iterdir() if p.is_dir() and _STEP_DIR.match(p.name))
        for p in kept[:-self.keep_checkpoints]:
            if latest is None or p.resolve() != latest.resolve():
                shutil.rmtree(p, ignore_errors=True)

    def _barrier(self) -> None:
        """Every rank waits for rank 0's files (DDP only)."""
        if self.dist is not None and self.dist.distributed:
            import torch.distributed

            torch.distributed.barrier()

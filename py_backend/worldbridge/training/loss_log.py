"""Loss logging: one JSON line per logged step, and loss curves plotted to PNG."""

from __future__ import annotations

import json
from pathlib import Path

from worldbridge.atomic_io import atomic_write_text

__all__ = ["LossLog", "plot_loss_curves", "save_figure"]


class LossLog:
    """Appends ``{"step": n, "<name>": value, ...}`` lines to ``path`` (resumable)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, step: int, **values: float) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps({"step": int(step), **{k: float(v) for k, v in values.items()}}) + "\n")

    def truncate(self, after_step: int) -> int:
        """Drop the rows of steps after ``after_step`` (and any torn line), atomically.

        A run resumed from the checkpoint of step ``after_step`` calls it first, so the
        steps it redoes are not logged twice.

        Returns:
            The number of rows dropped.
        """
        if not self.path.exists():
            return 0
        rows = self.read()
        keep = [r for r in rows if int(r.get("step", 0)) <= after_step]
        text = "".join(json.dumps(r) + "\n" for r in keep)
        if text != self.path.read_text():
            atomic_write_text(self.path, text)
        return len(rows) - len(keep)

    def read(self) -> list[dict]:
        """Every complete line (a torn last line from a killed run is skipped)."""
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows


def plot_loss_curves(log: LossLog, png: str | Path, title: str = "training loss",
                     smoothing: float = 0.9, exclude: tuple[str, ...] = ("lr", "anchor_keep")) -> Path:
    """Plot every logged series but ``exclude`` (schedules, not losses) against the step,
    raw (faint) and EMA-smoothed, to ``png``.

    Raises:
        ValueError: the log is empty.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = log.read()
    if not rows:
        raise ValueError(f"no losses logged in {log.path}")
    names = sorted({k for r in rows for k in r if k != "step" and k not in exclude})
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for name in names:
        pts = [(r["step"], r[name]) for r in rows if name in r]
        steps, values = zip(*pts)
        smooth, acc = [], values[0]
        for v in values:
            acc = smoothing * acc + (1 - smoothing) * v
            smooth.append(acc)
        line, = ax.plot(steps, values, alpha=0.25)
        ax.plot(steps, smooth, color=line.get_color(), label=name)
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, png)


def save_figure(fig, png: str | Path) -> Path:
    """Lay out a matplotlib figure, write it to ``png`` (parent folders created), close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out

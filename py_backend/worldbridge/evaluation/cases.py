"""Evaluation protocols: which recorded frames are reference views and which are targets.

* ``extrapolation`` (the default): 1 or 2 reference views (``reference_gap`` frames apart)
  and targets ``distances`` frames (4, 8 and 16) before the first and after the last
  reference, along held-out trajectories; several reference positions per trajectory.
  Views of a scene the references did not see are what a served frame model is for
  (InSpatio-WorldFM, arXiv 2603.11911, sections 2.4-2.5).
* ``interpolation``: non-overlapping 16-frame windows with 4 references spread over each
  (0, 5, 10, 15) and the other 12 frames as targets, as training pairs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PROTOCOLS", "DEFAULT_DISTANCES", "EvalCase", "extrapolation_cases", "interpolation_cases"]

PROTOCOLS = ("extrapolation", "interpolation")
DEFAULT_DISTANCES = (4, 8, 16)
"""Frames between a target and its nearest reference in the extrapolation protocol."""

@dataclass(frozen=True)
class EvalCase:
    """One scene set-up: reference views of one recording and the targets they must serve.

    Attributes:
        dataset_index: which recording.
        references: frame indices of the reference views, in order.
        targets: ``(frame, distance, next_frame)`` per target: its frame index, the number
            of frames to the nearest reference, and the frame after it (one step further
            from the references) for the warping error, or -1 for none.
    """

    dataset_index: int
    references: tuple[int, ...]
    targets: tuple[tuple[int, int, int], ...]


def extrapolation_cases(lengths: Sequence[int], num_references: int,
                        distances: Sequence[int] = DEFAULT_DISTANCES, reference_gap: int = 4,
                        cases_per_recording: int = 2) -> list[EvalCase]:
    """Cases of the extrapolation protocol.

    In a recording of n frames, reference groups ``r, r + gap, ...`` (``num_references``
    of them) are placed at ``cases_per_recording`` positions spread evenly over the
    positions that leave ``max(distances) + 1`` frames on both sides; each case's targets
    are the frames ``d`` before the first and ``d`` after the last reference for every
    ``d`` in ``distances``, each with its next frame (one further away).

    Args:
        lengths: frames per recording.
        num_references: reference views per case (>= 1).
        distances: target distances in frames (>= 1 each).
        reference_gap: frames between consecutive references (>= 1).
        cases_per_recording: reference positions per recording (>= 1).

    Returns:
        The cases (recordings too short for one case contribute none).

    Raises:
        ValueError: a bad count, gap or distance.
    """
    for name, v in (("num_references", num_references), ("reference_gap", reference_gap),
                    ("cases_per_recording", cases_per_recording)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    ds = [int(d) for d in distances]
    if not ds or min(ds) < 1:
        raise ValueError(f"distances must be integers >= 1, got {list(distances)}")
    far = max(ds) + 1
    span = reference_gap * (num_references - 1)
    out = []
    for di, n in enumerate(lengths):
        lo, hi = far, n - 1 - far - span
        if hi < lo:
            continue
        starts = sorted({int(round(x)) for x in np.linspace(lo, hi, cases_per_recording)})
        for r in starts:
            refs = tuple(r + reference_gap * i for i in range(num_references))
            targets = []
            for d in ds:
                targets.append((refs[0] - d, d, refs[0] - d - 1))
                targets.append((refs[-1] + d, d, refs[-1] + d + 1))
            out.append(EvalCase(di, refs, tuple(targets)))
    return out


def interpolation_cases(lengths: Sequence[int], clip_len: int = 16, num_references: int = 4
                        ) -> list[EvalCase]:
    """Cases of the interpolation protocol: non-overlapping ``clip_len`` windows, references
    at ``round(linspace(0, clip_len - 1, num_references))``, the other frames targets (each
    paired with the next target for the warping error).

    Raises:
        ValueError: ``clip_len < 2`` or ``num_references`` not in [1, clip_len - 1].
    """
    if clip_len < 2 or not 1 <= num_references <= clip_len - 1:
        raise ValueError(f"need clip_len >= 2 and 1 <= num_references < clip_len, got "
                         f"{clip_len}, {num_references}")
    pos = sorted({int(round(x)) for x in np.linspace(0, clip_len - 1, num_references)})
    out = []
    for di, n in enumerate(lengths):
        for start in range(0, n - clip_len + 1, clip_len):
            refs = tuple(start + p for p in pos)
            tgts = [start + p for p in range(clip_len) if p not in pos]
            targets = tuple((t, min(abs(t - r) for r in refs), t + 1 if t + 1 in tgts else -1)
                            for t in tgts)
            out.append(EvalCase(di, refs, targets))
    return out

"""Training clips from recorded trajectories: (target, anchor, reference) triples.

Source: InSpatio-WorldFM (arXiv 2603.11911), section 2.4.1 "Fundamental
Frame Model" (its "Training Data" and "Training Strategy" paragraphs) and 2.4.2
"Finetuning with Synthetic Data": each training sample is a clip of 16 frames
with ground-truth poses and depth; 4 of them form the *reference group* whose frames are
lifted into one global point cloud, the other 12 are *targets*; each target is paired with
the *temporally closest* reference frame and with the point cloud rendered at its pose
(the *anchor*); "random shuffling and masking strategies" simulate the disorder and
discreteness of real use, and the anchor is masked with some probability (section 2.4.1,
"Random anchor masking").

How a clip is built here (:meth:`ClipDataset.plan` and :meth:`ClipDataset.load`):

1. **Window.** The dataset enumerates clip windows: in every recording, a window starts
   every ``window_step`` frames while ``clip_len`` frames at the smallest stride still fit.
   An item draws its frame stride uniformly from ``frame_stride`` (inclusive; capped so
   the clip stays inside the recording), so clips cover more or less camera motion; the
   clip is ``start, start + s, ..., start + (clip_len - 1) s``.
2. **References.** Without shuffling: ``num_references`` clip positions spread evenly over
   the clip, ``round(linspace(0, clip_len - 1, R))`` (0, 5, 10, 15 for 16 and 4): the
   reference group spans the whole clip, so every target lies between or next to
   references, as at inference where the reference views surround the explored region.
   With ``shuffle_references`` (the paper's random shuffling): the clip is cut into R
   equal consecutive bins and one position is drawn uniformly in each (stratified: still
   spread over the clip, never two in one bin, but in varying places, so targets are at
   varying distances from their references), and the references are lifted into the point
   cloud in a random order (which only matters where two points tie in the z-buffer).
   With ``reference_layout="contiguous"`` (extrapolation, what serving meets: one or two
   engine views and a camera that moves away from them) R is drawn uniformly from
   ``[min_references, num_references]`` and the references are consecutive, each
   ``reference_gap`` frames (drawn from the range) after the previous one, at a random
   place in the clip; targets may then be up to ``max_target_distance`` frames from the
   nearest reference, on either side.
3. **Targets.** The ``clip_len - R`` other frames, in time order (or ``targets_per_clip``
   of them drawn at random, in time order: cheaper clips, fewer triples); with
   ``max_target_distance`` only frames that close to a reference (drawn with replacement
   when fewer than ``targets_per_clip`` remain).
4. **Reference of a target.** The reference frame at the smallest ``|position - target|``
   in the clip; a tie (a target midway between two references) goes to the earlier one,
   or to a random one of the two with ``shuffle_references``.
5. **Anchor.** Every reference frame is centre-cropped and resized (see :func:`crop_resize`)
   and lifted at the S x S resolution into a :class:`~worldbridge.memory.SceneMemory` as a
   reference view by the one anchor builder (:func:`worldbridge.memory.anchors.add_view`,
   the sky rule included), in lifting order, exactly as a serving session lifts its
   reference views; the memory is rendered at each target pose (z-buffer, nearest point
   wins, ties to the earlier point). The hole value is not applied here: the trainer
   applies the model's own (:func:`~worldbridge.memory.anchors.apply_hole_value`), as the
   serving pipeline does.
6. **Anchor masking.** Each target's anchor is dropped (``anchor_keep`` False) with
   probability ``anchor_mask_prob``, independently per target. The anchor tensors are left
   intact; the trainer replaces dropped anchors (whole frames) with its null condition.
7. **Point and reference dropout** (the paper's "random shuffling and masking" of the
   point cloud): each reference is left out of the point cloud with probability
   ``reference_dropout`` (at least one stays; its image may still be a target's reference
   view, so the model learns to take content from the reference image where the anchor
   has none), and a fraction drawn uniformly from ``[0, point_dropout]`` of every
   reference's depth pixels is not lifted (sparser anchors, more cracks).

Depth: recorded depth is uint16 millimetres with 0 for invalid, sky and beyond 65.535 m
(:mod:`worldbridge.recording.png_codec`); non-positive and non-finite values are never
lifted. Serving lifts reference-view sky (+inf on the wire) as points
:data:`~worldbridge.memory.anchors.SKY_DEPTH_M` away; recordings cannot tell sky from
invalid, so ``ClipSpec.zero_depth_is_sky`` (off by default) lifts every 0 pixel of a
reference that way, which matches serving for engines whose only zero-depth pixels are sky
(the Panda3D example).

Randomness: every random choice of item ``index`` comes from
``numpy.random.default_rng([seed, epoch, index])``, so an item is the same in any worker
process, any number of workers and any DDP rank, and changes with :meth:`ClipDataset.
set_epoch`; DDP ranks see different items because the sampler gives them different
indices (:func:`worldbridge.training.data.make_dataloader`).
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from worldbridge.geometry import Intrinsics
from worldbridge.geometry.framing import SquareFit
from worldbridge.geometry.views import PosedView
from worldbridge.memory import SceneMemory
from worldbridge.memory.anchors import add_view, depth_scale
from worldbridge.recording import Dataset, DatasetError, load_dataset

__all__ = ["ClipSpec", "ClipPlan", "ClipDataset", "crop_resize", "crop_resize_intrinsics"]

_LOG = logging.getLogger(__name__)

def _int_range(value: Any, name: str) -> tuple[int, int]:
    """A ``(min, max)`` pair of integers >= 1 with ``min <= max``.

    Raises:
        ValueError: not a 2-sequence, an entry that is not an integer >= 1, or min > max.
    """
    pair = tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2:
        raise ValueError(f"{name} must be a (min, max) pair, got {value!r}")
    lo, hi = _int(pair[0], f"{name}[0]", 1), _int(pair[1], f"{name}[1]", 1)
    if hi < lo:
        raise ValueError(f"{name} must have min <= max, got {pair}")
    return lo, hi


def _int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class ClipSpec:
    """How clips are cut from recordings and turned into training triples.

    Saved as JSON beside a run's checkpoints with :meth:`to_dict` / :meth:`from_dict`.

    Attributes:
        clip_len: frames per clip (the paper: 16).
        num_references: frames of the clip that build the point cloud (the paper: 4);
            the other ``clip_len - num_references`` are targets (the paper: 12).
        frame_stride: ``(min, max)`` frame stride, inclusive; each item draws one
            uniformly (capped by the frames left in its recording).
        window_step: frames between the starts of consecutive clip windows of a recording.
        image_size: S: every image is centre-cropped to a square and resized to S x S
            pixels, intrinsics adjusted (:func:`crop_resize`).
        anchor_mask_prob: probability, per target, that ``anchor_keep`` is False (random
            anchor masking, whole frame), in [0, 1].
        shuffle_references: random (stratified) reference positions, random lifting order
            and random tie-breaks; False: evenly spread positions, time order (see the
            module docstring).
        targets_per_clip: return only this many targets per clip (drawn at random, in time
            order), or None for all ``clip_len - num_references``.
        point_radius_px: splat radius of the anchor renderer, pixels
            (:func:`~worldbridge.render.render_points`); 0 as in serving.
        zero_depth_is_sky: lift zero-depth reference pixels as sky (far along their rays,
            :func:`~worldbridge.memory.anchors.lifting_depth`, as serving lifts +inf sky)
            instead of skipping them.
        reference_layout: ``"spread"`` (references spread over the clip, the paper's
            interpolation layout) or ``"contiguous"`` (consecutive references, targets on
            both sides: extrapolation; needs ``targets_per_clip``).
        min_references: with ``"contiguous"``, the fewest references of a clip (R is
            uniform in ``[min_references, num_references]``); None: ``num_references``.
        reference_gap: ``(min, max)`` clip positions between consecutive contiguous
            references.
        max_target_distance: targets at most this many clip positions from their nearest
            reference; None: any.
        point_dropout: the largest fraction of reference depth pixels left unlifted, in
            [0, 1) (each clip draws its fraction uniformly from ``[0, point_dropout]``).
        reference_dropout: probability that a reference is left out of the point cloud,
            in [0, 1) (at least one always stays).

    Raises:
        ValueError: a value out of range (clip_len < 2, num_references not in
            [1, clip_len - 1], bad stride range, window_step < 1, image_size < 1, a
            probability outside [0, 1], targets_per_clip not in [1, clip_len -
            num_references], negative radius).
    """

    clip_len: int = 16
    num_references: int = 4
    frame_stride: tuple[int, int] = (1, 3)
    window_step: int = 8
    image_size: int = 256
    anchor_mask_prob: float = 0.1
    shuffle_references: bool = True
    targets_per_clip: int | None = None
    point_radius_px: int = 0
    zero_depth_is_sky: bool = False
    reference_layout: str = "spread"
    min_references: int | None = None
    reference_gap: tuple[int, int] = (2, 4)
    max_target_distance: int | None = None
    point_dropout: float = 0.0
    reference_dropout: float = 0.0

    def __post_init__(self) -> None:
        _int(self.clip_len, "clip_len", 2)
        refs = _int(self.num_references, "num_references", 1)
        if refs > self.clip_len - 1:
            raise ValueError(f"num_references must be <= clip_len - 1 = {self.clip_len - 1} "
                             f"(at least one target), got {refs}")
        object.__setattr__(self, "frame_stride", _int_range(self.frame_stride, "frame_stride"))
        _int(self.window_step, "window_step", 1)
        _int(self.image_size, "image_size", 1)
        p = self.anchor_mask_prob
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"anchor_mask_prob must be a number in [0, 1], got {p!r}")
        if self.targets_per_clip is not None:
            k = _int(self.targets_per_clip, "targets_per_clip", 1)
            if k > self.clip_len - refs:
                raise ValueError(f"targets_per_clip must be <= clip_len - num_references = "
                                 f"{self.clip_len - refs}, got {k}")
        _int(self.point_radius_px, "point_radius_px", 0)
        if self.reference_layout not in ("spread", "contiguous"):
            raise ValueError(f"reference_layout must be 'spread' or 'contiguous', got "
                             f"{self.reference_layout!r}")
        if self.min_references is not None:
            lo = _int(self.min_references, "min_references", 1)
            if lo > refs:
                raise ValueError(f"min_references must be <= num_references = {refs}, got {lo}")
            if self.reference_layout != "contiguous" and lo != refs:
                raise ValueError("a varying reference count (min_references) needs "
                                 "reference_layout='contiguous'")
        g_lo, g_hi = _int_range(self.reference_gap, "reference_gap")
        object.__setattr__(self, "reference_gap", (g_lo, g_hi))
        if self.reference_layout == "contiguous":
            if self.targets_per_clip is None:
                raise ValueError("reference_layout='contiguous' needs targets_per_clip (clips "
                                 "of one batch must have the same number of targets)")
            if (refs - 1) * g_hi + 1 >= self.clip_len:
                raise ValueError(f"{refs} references {g_hi} positions apart leave no target in a "
                                 f"clip of {self.clip_len}")
        if self.max_target_distance is not None:
            _int(self.max_target_distance, "max_target_distance", 1)
        for name in ("point_dropout", "reference_dropout"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= v < 1.0:
                raise ValueError(f"{name} must be a number in [0, 1), got {v!r}")

    @property
    def num_targets(self) -> int:
        """Targets returned per clip: ``targets_per_clip`` or ``clip_len - num_references``."""
        if self.targets_per_clip is not None:
            return self.targets_per_clip
        return self.clip_len - self.num_references

    @property
    def min_span(self) -> int:
        """Frames a recording needs for one clip at the smallest stride."""
        return (self.clip_len - 1) * self.frame_stride[0] + 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the fields."""
        d = dataclasses.asdict(self)
        d["frame_stride"] = list(self.frame_stride)
        d["reference_gap"] = list(self.reference_gap)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClipSpec:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: unknown keys or invalid values.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown ClipSpec fields {unknown}; known: {sorted(names)}")
        d = dict(d)
        for key in ("frame_stride", "reference_gap"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class ClipPlan:
    """Every random choice of one clip (no pixels): what :meth:`ClipDataset.load` loads.

    Attributes:
        clip_index: the item index in the :class:`ClipDataset`.
        dataset_index: which recording (index into :attr:`ClipDataset.datasets`).
        stride: frame stride of this clip.
        frames: ``[clip_len]`` int64 frame indices in the recording, ascending.
        reference_positions: ``[R]`` int64 clip positions (0 .. clip_len - 1) of the
            references, in lifting order (the point cloud's order).
        target_positions: ``[T]`` int64 clip positions of the returned targets, ascending.
        target_reference: ``[T]`` int64 index into ``reference_positions`` of each
            target's temporally closest reference.
        anchor_keep: ``[T]`` bool, False where the anchor is masked.
        sample_seed: a 63-bit seed for later random choices of this item (e.g.
            :func:`~worldbridge.training.data.collate_clips` subsampling and point
            dropout).
        lifted: ``[R]`` bool, False for references left out of the point cloud
            (reference dropout).
        point_dropout: fraction of reference depth pixels left unlifted in this clip.
    """

    clip_index: int
    dataset_index: int
    stride: int
    frames: np.ndarray
    reference_positions: np.ndarray
    target_positions: np.ndarray
    target_reference: np.ndarray
    anchor_keep: np.ndarray
    sample_seed: int
    lifted: np.ndarray | None = None
    point_dropout: float = 0.0


def _rgbd(view: PosedView) -> tuple[np.ndarray, np.ndarray]:
    """A clip frame's ``(rgb, depth)``; a recorded frame read by the clip loader has both.

    Raises:
        DatasetError: a view without RGB or depth.
    """
    if view.rgb is None or view.depth is None:
        raise DatasetError("a clip frame needs both RGB and depth")
    return view.rgb, view.depth


def crop_resize_intrinsics(intrinsics: Intrinsics, size: int) -> Intrinsics:
    """Intrinsics after :func:`crop_resize`: centre crop to a square, then resize to S x S.

    The crop removes ``(W - side) // 2`` columns on the left and ``(H - side) // 2`` rows
    at the top (``side = min(W, H)``), which shifts the principal point by the same
    amounts; the resize scales ``fx, fy, cx, cy`` by ``S / side``
    (:class:`~worldbridge.geometry.framing.SquareFit` in ``"crop"`` mode).

    Args:
        intrinsics: the recorded camera, pixels.
        size: S, output side, pixels (>= 1).

    Returns:
        The S x S camera, pixels.

    Raises:
        ValueError: ``size`` not a positive integer.
    """
    size = _int(size, "size", 1)
    return SquareFit.of(intrinsics.width, intrinsics.height, size, "crop").intrinsics(intrinsics)


def crop_resize(rgb: np.ndarray, depth: np.ndarray | None, intrinsics: Intrinsics, size: int
                ) -> tuple[np.ndarray, np.ndarray | None, Intrinsics]:
    """Centre-crop an RGB(-D) image to a square and resize it to S x S.

    RGB is resized with ``cv2.INTER_AREA`` (area averaging) when shrinking and
    ``cv2.INTER_LINEAR`` when enlarging; depth with ``cv2.INTER_NEAREST_EXACT``, which
    takes the source pixel that contains the output pixel's centre, so depth values are
    never blended across edges and 0 (invalid) stays 0.

    Args:
        rgb: ``[H, W, 3]`` uint8 RGB.
        depth: ``[H, W]`` float32 planar z, metres (0 invalid), or None.
        intrinsics: the camera of the images (size W x H), pixels.
        size: S, output side, pixels.

    Returns:
        ``(rgb [S, S, 3] uint8, depth [S, S] float32 or None, intrinsics)``; the
        intrinsics are :func:`crop_resize_intrinsics`.

    Raises:
        ValueError: images not of the intrinsics' size, or a bad ``size``.
    """
    h, w = intrinsics.height, intrinsics.width
    if rgb.shape[:2] != (h, w) or (depth is not None and depth.shape != (h, w)):
        raise ValueError(f"images are {list(rgb.shape)} / "
                         f"{None if depth is None else list(depth.shape)} but the intrinsics "
                         f"are for {w}x{h} (width x height)")
    fit = SquareFit.of(w, h, _int(size, "size", 1), "crop")
    interp = cv2.INTER_AREA if size < fit.side else cv2.INTER_LINEAR
    rgb = fit.to_square(rgb, interp)
    if depth is not None:
        depth = np.ascontiguousarray(
            fit.to_square(depth.astype(np.float32, copy=False), cv2.INTER_NEAREST_EXACT),
            dtype=np.float32)
    return rgb, depth, fit.intrinsics(intrinsics)


def _to_unit(rgb: np.ndarray) -> np.ndarray:
    """``[N, S, S, 3]`` uint8 -> ``[N, 3, S, S]`` float32 in [-1, 1]."""
    return np.ascontiguousarray(rgb.transpose(0, 3, 1, 2), dtype=np.float32) / 127.5 - 1.0


class ClipDataset(torch.utils.data.Dataset):
    """Clips of recorded trajectories as (target, anchor, reference) training triples.

    See the module docstring for how clips, references, targets and anchors are chosen
    (InSpatio-WorldFM section 2.4.1). Item ``i`` is :meth:`load` of :meth:`plan` ``(i)``.

    Args:
        datasets: one or more recordings: directories (``str`` / ``Path``, loaded with
            :func:`~worldbridge.recording.load_dataset`) or loaded
            :class:`~worldbridge.recording.Dataset` objects.
        spec: the clip layout.
        seed: base seed of every random choice.
        epoch: initial epoch (see :meth:`set_epoch`).

    Raises:
        ValueError: no recording given; a frame without depth (the references need
            ground-truth depth); no recording long enough for one clip
            (``spec.min_span`` frames); recordings too short are skipped with a warning.
        DatasetNotFoundError, DatasetError: a path is not a readable recording.
    """

    def __init__(self, datasets: str | Path | Dataset | Sequence[str | Path | Dataset],
                 spec: ClipSpec | None = None, seed: int = 0, epoch: int = 0) -> None:
        if isinstance(datasets, (str, Path, Dataset)):
            datasets = [datasets]
        self.spec = spec if spec is not None else ClipSpec()
        self.seed = _int(seed, "seed", 0)
        loaded: list[Dataset] = [d if isinstance(d, Dataset) else load_dataset(d)
                                 for d in datasets]
        if not loaded:
            raise ValueError("ClipDataset needs at least one recording, got none")
        self.datasets = loaded
        windows: list[tuple[int, int]] = []
        span = self.spec.min_span
        for di, ds in enumerate(loaded):
            missing = [f.index for f in ds.frames if not f.has_depth or f.depth_path is None]
            if missing:
                raise ValueError(f"recording {ds.path} has frames without depth ({len(missing)}"
                                 f", first {missing[:5]}); clips need ground-truth depth")
            if len(ds) < span:
                _LOG.warning("recording %s has %d frames, fewer than the %d a clip needs; "
                             "skipped", ds.path, len(ds), span)
                continue
            windows += [(di, s) for s in range(0, len(ds) - span + 1, self.spec.window_step)]
        if not windows:
            raise ValueError(f"no recording has the {span} frames one clip needs (clip_len "
                             f"{self.spec.clip_len} at stride {self.spec.frame_stride[0]}); "
                             f"lengths: {[len(d) for d in loaded]}")
        self.windows = np.asarray(windows, dtype=np.int64)
        # Shared memory: persistent DataLoader workers see set_epoch() of the main process.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.windows)

    @property
    def epoch(self) -> int:
        """The epoch mixed into every item's random choices."""
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        """Change the epoch (new random choices for every item).

        The value lives in shared memory, so DataLoader worker processes (persistent ones
        too) see it for every item they load after the call; call it before iterating the
        loader of that epoch (:meth:`~worldbridge.training.data.ClipDataLoader.set_epoch`
        does, with the sampler's).

        Raises:
            ValueError: a negative or non-integer epoch.
        """
        self._epoch[0] = _int(epoch, "epoch", 0)

    def rng(self, index: int) -> np.random.Generator:
        """The random generator of item ``index`` at the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, int(index)])

    def plan(self, index: int) -> ClipPlan:
        """Draw the random choices of item ``index`` (stride, references, masking ...).

        Cheap (no file is read). Deterministic in ``(seed, epoch, index)``.

        Raises:
            IndexError: ``index`` out of range.
        """
        n_items = len(self.windows)
        if not -n_items <= index < n_items:
            raise IndexError(f"clip index {index} out of range for {n_items} clips")
        index = int(index) % n_items
        spec = self.spec
        rng = self.rng(index)
        di, start = (int(v) for v in self.windows[index])
        n_frames = len(self.datasets[di])
        lo, hi = spec.frame_stride
        hi = max(lo, min(hi, (n_frames - 1 - start) // (spec.clip_len - 1)))
        stride = int(rng.integers(lo, hi + 1))
        frames = start + stride * np.arange(spec.clip_len, dtype=np.int64)

        r, length = spec.num_references, spec.clip_len
        if spec.reference_layout == "contiguous":
            refs, targets = self._contiguous(rng)
            r = len(refs)
        else:
            if spec.shuffle_references:
                bins = np.array_split(np.arange(length), r)
                refs = np.array([b[rng.integers(len(b))] for b in bins], dtype=np.int64)
            else:
                refs = np.round(np.linspace(0, length - 1, r)).astype(np.int64)
            targets = np.setdiff1d(np.arange(length, dtype=np.int64), refs)
            if spec.max_target_distance is not None:
                near = np.abs(targets[:, None] - refs[None, :]).min(axis=1)
                targets = targets[near <= spec.max_target_distance]
            if spec.targets_per_clip is not None:
                targets = np.sort(rng.choice(targets, spec.targets_per_clip,
                                             replace=len(targets) < spec.targets_per_clip))
        order = rng.permutation(r) if spec.shuffle_references else np.arange(r)
        refs = refs[order]  # lifting order

        dist = np.abs(targets[:, None] - refs[None, :])
        best = dist.min(axis=1, keepdims=True)
        tied = dist == best
        if spec.shuffle_references:
            score = np.where(tied, rng.random(tied.shape), -1.0)
        else:  # the earliest of the tied references
            score = np.where(tied, -refs[None, :].astype(np.float64), -np.inf)
        target_ref = np.argmax(score, axis=1).astype(np.int64)
        keep = rng.random(len(targets)) >= spec.anchor_mask_prob
        sample_seed = int(rng.integers(2**63 - 1))
        lifted = np.ones(r, bool)
        if spec.reference_dropout > 0 and r > 1:
            lifted = rng.random(r) >= spec.reference_dropout
            if not lifted.any():
                lifted[rng.integers(r)] = True
        dropout = float(rng.uniform(0.0, spec.point_dropout)) if spec.point_dropout > 0 else 0.0
        return ClipPlan(clip_index=index, dataset_index=di, stride=stride, frames=frames,
                        reference_positions=refs, target_positions=targets,
                        target_reference=target_ref, anchor_keep=keep, sample_seed=sample_seed,
                        lifted=lifted, point_dropout=dropout)

    def _contiguous(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Consecutive references at a random place, and targets around them (extrapolation)."""
        spec = self.spec
        length = spec.clip_len
        lo_r = spec.min_references or spec.num_references
        r = int(rng.integers(lo_r, spec.num_references + 1))
        gaps = rng.integers(spec.reference_gap[0], spec.reference_gap[1] + 1, size=r - 1)
        offsets = np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)
        first = int(rng.integers(0, length - int(offsets[-1])))
        refs = first + offsets
        targets = np.setdiff1d(np.arange(length, dtype=np.int64), refs)
        if spec.max_target_distance is not None:
            near = np.abs(targets[:, None] - refs[None, :]).min(axis=1)
            targets = targets[near <= spec.max_target_distance]
        k = int(spec.targets_per_clip)  # type: ignore[arg-type]  # set for a contiguous layout (checked)
        targets = np.sort(rng.choice(targets, k, replace=len(targets) < k))
        return refs, targets

    def _read(self, ds: Dataset, frame: int) -> PosedView:
        """Frame ``frame`` centre-cropped and resized to the model's square side."""
        view = ds.read_view(frame)
        rgb, depth, k = crop_resize(*_rgbd(view), view.intrinsics, self.spec.image_size)
        return PosedView(view.camera.with_intrinsics(k), rgb, depth)

    def load(self, plan: ClipPlan) -> dict[str, torch.Tensor]:
        """Read, resize and render the clip that ``plan`` describes.

        Returns:
            A dict of tensors, ``T`` = ``spec.num_targets``, ``R`` = ``spec.num_references``,
            ``S`` = ``spec.image_size``; poses are OpenCV (camera X right, Y down, Z
            forward), metres; K in pixels of the S x S image:

            - ``target_rgb`` ``[T, 3, S, S]`` float32 in [-1, 1]: the target frames.
            - ``anchor_rgb`` ``[T, 3, S, S]`` float32 in [-1, 1]: the references' point
              cloud rendered at each target pose; 0 where nothing landed (the trainer
              applies the model's hole value).
            - ``anchor_mask`` ``[T, 1, S, S]`` float32 in {0, 1}: 1 where a point landed.
            - ``anchor_keep`` ``[T]`` bool: False where the anchor is masked (the tensors
              above are not changed; the trainer drops the whole anchor).
            - ``reference_rgb`` ``[T, 3, S, S]`` float32 in [-1, 1]: each target's
              temporally closest reference frame.
            - ``target_w2c``, ``reference_w2c`` ``[T, 4, 4]`` float32 world-to-camera.
            - ``reference_scale`` ``[T]`` float32: the scene scale of each target's
              reference (median valid depth, metres,
              :func:`~worldbridge.memory.anchors.depth_scale`), PRoPE's pose
              normalisation.
            - ``target_K``, ``reference_K`` ``[T, 3, 3]`` float32 pinhole matrices.
            - ``target_depth`` ``[T, 1, S, S]`` float32 planar z, metres, 0 = invalid
              (for evaluation).
            - ``target_frame_index`` ``[T]`` int64, ``reference_frame_index``
              ``[num_references]`` int64 (lifting order, padded with -1 when a clip has
              fewer references): frame indices in the recording;
              ``target_reference`` ``[T]`` int64 index into ``reference_frame_index``.
            - ``clip_index``, ``dataset_index``, ``stride``, ``sample_seed``: ``[]`` int64.

        Raises:
            DatasetError: a frame's files are missing or unreadable.
        """
        spec = self.spec
        ds = self.datasets[plan.dataset_index]
        refs = [self._read(ds, int(plan.frames[p])) for p in plan.reference_positions]
        tgts = [self._read(ds, int(plan.frames[p])) for p in plan.target_positions]

        memory = SceneMemory(max_points=None)
        lifted = plan.lifted if plan.lifted is not None else np.ones(len(refs), bool)
        drop_rng = np.random.default_rng([plan.sample_seed, 1])
        for view, lift in zip(refs, lifted):
            if not lift:
                continue
            if plan.point_dropout > 0:  # NaN: not lifted (0 could mean sky)
                rgb, depth = _rgbd(view)
                view = PosedView(view.camera, rgb, np.where(
                    drop_rng.random(depth.shape) < plan.point_dropout, np.float32(np.nan), depth))
            add_view(memory, view, reference=True, zero_depth_is_sky=spec.zero_depth_is_sky)

        s = spec.image_size
        n_t = len(tgts)
        anchor = np.zeros((n_t, s, s, 3), np.uint8)
        mask = np.zeros((n_t, s, s), bool)
        target_w2c = np.empty((n_t, 4, 4))
        for i, view in enumerate(tgts):
            target_w2c[i] = view.camera.w2c
            r = memory.render_camera(view.camera, point_radius_px=spec.point_radius_px, backend="numba")
            anchor[i], mask[i] = r.image, r.mask
        anchor_rgb = np.where(mask[:, None], _to_unit(anchor), np.float32(0.0))
        ref_scale = np.array([depth_scale(_rgbd(v)[1]) for v in refs], np.float64)

        ref_w2c = np.stack([v.camera.w2c for v in refs])
        ref_k = np.stack([v.intrinsics.K for v in refs])
        ref_rgb = _to_unit(np.stack([_rgbd(v)[0] for v in refs]))
        tr = plan.target_reference
        f32 = np.float32
        out = {
            "target_rgb": _to_unit(np.stack([_rgbd(v)[0] for v in tgts])),
            "anchor_rgb": anchor_rgb.astype(f32, copy=False),
            "anchor_mask": mask[:, None].astype(f32),
            "anchor_keep": plan.anchor_keep.copy(),
            "reference_rgb": ref_rgb[tr],
            "target_w2c": target_w2c.astype(f32),
            "target_K": np.stack([v.intrinsics.K for v in tgts]).astype(f32),
            "reference_w2c": ref_w2c[tr].astype(f32),
            "reference_K": ref_k[tr].astype(f32),
            "reference_scale": ref_scale[tr].astype(f32),
            "target_depth": np.stack([_rgbd(v)[1] for v in tgts])[:, None].astype(f32),
            "target_frame_index": plan.frames[plan.target_positions].copy(),
            "reference_frame_index": np.pad(plan.frames[plan.reference_positions],
                                            (0, spec.num_references - len(refs)),
                                            constant_values=-1),
            "target_reference": tr.copy(),
        }
        tensors = {key: torch.from_numpy(np.ascontiguousarray(v)) for key, v in out.items()}
        for key in ("clip_index", "dataset_index", "stride", "sample_seed"):
            tensors[key] = torch.tensor(int(getattr(plan, key)), dtype=torch.int64)
        return tensors

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        """Item ``index``: :meth:`load` of :meth:`plan`; see :meth:`load` for the keys.

        Raises:
            IndexError: ``index`` out of range.
            DatasetError: unreadable files.
        """
        return self.load(self.plan(index))

    def __repr__(self) -> str:
        return (f"ClipDataset({len(self.datasets)} recordings, {len(self)} clips, "
                f"spec={self.spec}, seed={self.seed}, epoch={self.epoch})")

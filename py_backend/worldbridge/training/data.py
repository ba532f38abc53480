"""DataLoaders of training clips: DDP sharding, worker set-up, flattening clips into triples.

The frame model trains on (target, anchor, reference) triples (InSpatio-WorldFM ("InSpatio-WorldFM:
An Open-Source Real-Time Generative Frame Model", arXiv 2603.11911), section 2.2: the noisy
target, the anchor render and the reference image side by side). A
:class:`~worldbridge.training.clips.ClipDataset` item holds the T triples of one clip;
:func:`collate_clips` merges a batch of B clips into ``B * T`` triples (optionally only
``targets_per_clip`` per clip, to bound the batch).

Sampling always goes through :class:`torch.utils.data.DistributedSampler`: under DDP with
the process group's world size and rank (each rank gets a disjoint ``1 / world_size`` of
the clips; the last ones are repeated to even out the shards), otherwise with one replica,
which is just a seeded permutation per epoch. Together with the per-item generators of
the dataset (seeded from ``(seed, epoch, index)``) a run is reproducible for a given
world size, whatever the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from worldbridge.training.clips import ClipDataset

__all__ = ["ClipDataLoader", "ResumableDistributedSampler", "make_dataloader", "collate_clips",
           "worker_init", "PER_CLIP_KEYS", "PER_TARGET_KEYS"]

PER_TARGET_KEYS = ("target_rgb", "anchor_rgb", "anchor_mask", "anchor_keep", "reference_rgb",
                   "target_w2c", "target_K", "reference_w2c", "reference_K", "reference_scale",
                   "target_depth",
                   "target_frame_index", "target_reference")
"""Item keys with a leading target axis ``[T, ...]``: flattened into triples."""

PER_CLIP_KEYS = ("clip_index", "dataset_index", "stride", "sample_seed")
"""Item keys holding one ``[]`` value per clip: repeated for each of its triples."""


def collate_clips(batch: Sequence[dict[str, torch.Tensor]], targets_per_clip: int | None = None,
                  flatten: bool = True) -> dict[str, torch.Tensor]:
    """Merge clip items into one batch of training triples.

    Args:
        batch: B items of :class:`~worldbridge.training.clips.ClipDataset` (same T).
        targets_per_clip: keep only this many targets of each clip, drawn without
            replacement by a generator seeded with the item's ``sample_seed`` (so the
            choice is reproducible and varies per clip and epoch), kept in time order;
            None keeps all. Cheaper: ``ClipSpec.targets_per_clip`` renders only those.
        flatten: True: ``[B * T, ...]`` triples; False: ``[B, T, ...]`` clips.

    Returns:
        The per-target keys (:data:`PER_TARGET_KEYS`) as ``[N, ...]`` with ``N = B * T'``
        (``T' = min(T, targets_per_clip)``) or ``[B, T', ...]``; the per-clip keys
        (:data:`PER_CLIP_KEYS`) as ``[N]`` int64, repeated for each triple of the clip, or
        ``[B]``; ``reference_frame_index`` as ``[B, R]``; and, when flattened,
        ``triple_clip`` ``[N]`` int64: the position in the batch of each triple's clip.

    Raises:
        ValueError: an empty batch, items with different target counts, or
            ``targets_per_clip < 1``.
    """
    if not batch:
        raise ValueError("collate_clips got an empty batch")
    if targets_per_clip is not None and targets_per_clip < 1:
        raise ValueError(f"targets_per_clip must be >= 1 or None, got {targets_per_clip}")
    counts = {int(item["target_rgb"].shape[0]) for item in batch}
    if len(counts) != 1:
        raise ValueError(f"clips of one batch must have the same number of targets, got {counts}")
    t = counts.pop()
    keep_t = t if targets_per_clip is None else min(t, int(targets_per_clip))
    picks: list[torch.Tensor | None] = []
    for item in batch:
        if keep_t == t:
            picks.append(None)
            continue
        g = torch.Generator().manual_seed(int(item["sample_seed"]) & (2**63 - 1))
        picks.append(torch.sort(torch.randperm(t, generator=g)[:keep_t]).values)

    out: dict[str, torch.Tensor] = {}
    b = len(batch)
    for key in PER_TARGET_KEYS:
        parts = [item[key] if p is None else item[key][p] for item, p in zip(batch, picks)]
        stacked = torch.stack(parts)
        out[key] = stacked.flatten(0, 1) if flatten else stacked
    for key in PER_CLIP_KEYS:
        values = torch.stack([item[key] for item in batch]).to(torch.int64)
        out[key] = values.repeat_interleave(keep_t) if flatten else values
    out["reference_frame_index"] = torch.stack([item["reference_frame_index"] for item in batch])
    if flatten:
        out["triple_clip"] = torch.arange(b, dtype=torch.int64).repeat_interleave(keep_t)
    return out


def worker_init(worker_id: int, limit_cv2_threads: bool = True) -> None:
    """DataLoader ``worker_init_fn``: seed, limit threads, compile the renderer's kernels.

    Seeds Python's ``random`` and numpy's legacy global generator from the worker's torch
    seed (``torch.initial_seed()``, which the DataLoader derives from its generator and the
    worker id); the dataset itself does not use them (its items have their own generators).
    Limits OpenCV to one thread (the workers are the parallelism) and loads the numba
    kernels of :mod:`worldbridge.memory` and :mod:`worldbridge.render` (compiled once into
    numba's on-disk cache; about 0.2 s per worker once cached), so no item pays for it.

    Args:
        worker_id: the worker's index (unused beyond the seed torch already mixed in).
        limit_cv2_threads: call ``cv2.setNumThreads(1)``. Must be False in workers
            *forked* from a process that has used OpenCV's thread pool: there the call
            blocks forever on the pool's lock copied by ``fork``
            (:func:`make_dataloader` passes False for the ``fork`` start method).
    """
    from worldbridge.memory import warmup

    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    if limit_cv2_threads:
        import cv2

        cv2.setNumThreads(1)
    warmup()


class ResumableDistributedSampler(DistributedSampler):
    """A :class:`~torch.utils.data.DistributedSampler` that can start an epoch part-way.

    :attr:`skip` indices of this rank's share of the epoch are left out (without loading
    them), so a resumed run continues an epoch exactly where its checkpoint left it. The
    order of the remaining indices is the sampler's own (same seed, epoch and rank).
    """

    skip: int = 0

    def __iter__(self):
        return itertools.islice(super().__iter__(), self.skip, None)

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)


class ClipDataLoader(DataLoader):
    """A :class:`~torch.utils.data.DataLoader` of clips with :meth:`set_epoch`.

    Built by :func:`make_dataloader`; :attr:`sampler` is a
    :class:`ResumableDistributedSampler` (a :class:`~torch.utils.data.DistributedSampler`).
    """

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        """Start epoch ``epoch``: a new clip order and new random choices in every clip.

        Call it before iterating the loader for that epoch (as with
        ``DistributedSampler.set_epoch``); persistent workers see the new epoch through
        the dataset's shared memory.

        Args:
            epoch: the epoch (>= 0).
            skip_batches: leave out the first this many batches of the epoch (their clips
                are not loaded), to resume mid-epoch; the epoch then yields
                ``len(loader)`` minus that many batches, the rest exactly as a full epoch
                would. Applies until the next :meth:`set_epoch`.

        Raises:
            ValueError: a negative epoch, or ``skip_batches`` outside ``[0, batches per
                epoch]``.
        """
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        sampler: Any = self.sampler
        full = -(-sampler.num_samples // self.batch_size) if not self.drop_last \
            else sampler.num_samples // self.batch_size
        if isinstance(skip_batches, bool) or not isinstance(skip_batches, int) \
                or not 0 <= skip_batches <= full:
            raise ValueError(f"skip_batches must be an integer in [0, {full}] (batches per epoch), "
                             f"got {skip_batches!r}")
        if skip_batches and not isinstance(sampler, ResumableDistributedSampler):
            raise ValueError(f"skip_batches needs a ResumableDistributedSampler, the loader has a "
                             f"{type(sampler).__name__}")
        if isinstance(sampler, ResumableDistributedSampler):
            sampler.skip = skip_batches * int(self.batch_size or 0)
        sampler.set_epoch(int(epoch))
        dataset = self.dataset
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(int(epoch))


def _dist_world() -> tuple[int, int] | None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return None


def make_dataloader(dataset: ClipDataset, batch_size: int, num_workers: int = 2,
                    distributed: bool | None = None, seed: int = 0, epoch: int = 0, *,
                    shuffle: bool = True, drop_last: bool = True,
                    targets_per_clip: int | None = None, flatten: bool = True,
                    num_replicas: int | None = None, rank: int | None = None,
                    pin_memory: bool | None = None, prefetch_factor: int | None = 2,
                    multiprocessing_context: Any = None) -> ClipDataLoader:
    """A DataLoader of clip batches, flattened into training triples.

    Args:
        dataset: the clips.
        batch_size: clips per batch (per rank); a batch holds ``batch_size * T`` triples.
        num_workers: loader processes (0: load in the calling process).
        distributed: shard the clips over DDP ranks. None: when a ``torch.distributed``
            process group is initialised (or ``num_replicas`` is given).
        seed: seed of the clip order (``DistributedSampler(seed=...)``) and of the
            loader's generator (the workers' torch seeds); the clips' own random choices
            use the dataset's seed.
        epoch: the first epoch (sets the sampler's and the dataset's); later ones with
            :meth:`ClipDataLoader.set_epoch`.
        shuffle: permute the clips every epoch (False: in order, e.g. for evaluation).
        drop_last: drop the last incomplete batch (training batches all have one size).
        targets_per_clip: triples kept per clip by :func:`collate_clips` (None: all).
        flatten: ``[B * T, ...]`` triples (True) or ``[B, T, ...]`` clips.
        num_replicas, rank: the DDP world size and this process's rank, overriding the
            process group's (e.g. to test the sharding without one).
        pin_memory: pin batches for fast copies to the GPU; None: when CUDA is available.
        prefetch_factor: batches each worker loads ahead (ignored with 0 workers).
        multiprocessing_context: start method of the workers (a name or a context). None:
            ``"forkserver"`` where the platform has it (Linux, macOS), else ``"spawn"``:
            workers start from a clean process, not forked from one whose thread pools
            (OpenCV, OpenMP, gRPC) may hold locks; they cost about 2 s to start, once
            (they are persistent), and need the usual ``if __name__ == "__main__":``
            guard in the training script. ``"fork"`` starts faster and works too.

    Returns:
        A :class:`ClipDataLoader` (workers persistent between epochs, each set up by
        :func:`worker_init`).

    Raises:
        ValueError: ``batch_size < 1``, ``num_workers < 0``, ``distributed=True`` without
            a process group or ``num_replicas``, or a rank outside ``[0, num_replicas)``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}")
    world = _dist_world()
    if distributed is None:
        distributed = world is not None or num_replicas is not None
    if distributed:
        if num_replicas is None:
            if world is None:
                raise ValueError("distributed=True needs an initialised torch.distributed "
                                 "process group (torchrun) or an explicit num_replicas/rank")
            num_replicas = world[0]
        if rank is None:
            rank = world[1] if world is not None else 0
    else:
        num_replicas, rank = 1, 0
    if not 0 <= rank < num_replicas:
        raise ValueError(f"rank must be in [0, {num_replicas}), got {rank}")
    sampler = ResumableDistributedSampler(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle,
                                          seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    if num_workers == 0:  # items load in this process: compile the kernels now
        from worldbridge.memory import warmup

        warmup()
    generator = torch.Generator().manual_seed(int(seed))
    extra: dict[str, Any] = {}
    if num_workers > 0:
        if multiprocessing_context is None:
            methods = multiprocessing.get_all_start_methods()
            multiprocessing_context = "forkserver" if "forkserver" in methods else "spawn"
        method = multiprocessing_context if isinstance(multiprocessing_context, str) \
            else multiprocessing_context.get_start_method()
        init = functools.partial(worker_init, limit_cv2_threads=method != "fork")
        extra.update(persistent_workers=True, prefetch_factor=prefetch_factor,
                     worker_init_fn=init, multiprocessing_context=multiprocessing_context)
    return ClipDataLoader(dataset, batch_size=batch_size, sampler=sampler,
                          num_workers=num_workers, drop_last=drop_last, pin_memory=pin_memory,
                          generator=generator,
                          collate_fn=functools.partial(collate_clips,
                                                       targets_per_clip=targets_per_clip,
                                                       flatten=flatten),
                          **extra)

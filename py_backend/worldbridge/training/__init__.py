"""Training: recorded trajectories -> 16-frame clips -> (target, anchor, reference) triples.

Clips (:mod:`worldbridge.training.clips`) follow InSpatio-WorldFM section 2.4.1; loaders
(:mod:`worldbridge.training.data`) shard them over DDP ranks and flatten them into triples.
"""

from worldbridge.training.clips import (
    ClipDataset,
    ClipPlan,
    ClipSpec,
    crop_resize,
    crop_resize_intrinsics,
)
from worldbridge.training.data import ClipDataLoader, collate_clips, make_dataloader, worker_init

__all__ = ["ClipSpec", "ClipPlan", "ClipDataset", "crop_resize", "crop_resize_intrinsics",
           "ClipDataLoader", "make_dataloader", "collate_clips", "worker_init"]

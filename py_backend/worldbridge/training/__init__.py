"""Training: recorded trajectories -> 16-frame clips -> (target, anchor, reference) triples.

Clips (:mod:`worldbridge.training.clips`) follow InSpatio-WorldFM ("InSpatio-WorldFM: An
Open-Source Real-Time Generative Frame Model", arXiv 2603.11911) section 2.4.1; loaders
(:mod:`worldbridge.training.data`) shard them over DDP ranks and flatten them into triples.

The names below load on first use, so that importing :mod:`worldbridge.training.commands`
(the command line's parsers) does not load PyTorch: ``worldbridge serve`` never needs it in
the gateway process.
"""

from importlib import import_module

__all__ = ["ClipSpec", "ClipPlan", "ClipDataset", "crop_resize", "crop_resize_intrinsics",
           "ClipDataLoader", "make_dataloader", "collate_clips", "worker_init"]

_HOME = {"ClipSpec": "clips", "ClipPlan": "clips", "ClipDataset": "clips", "crop_resize": "clips",
         "crop_resize_intrinsics": "clips", "ClipDataLoader": "data", "make_dataloader": "data",
         "collate_clips": "data", "worker_init": "data"}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f"worldbridge.training.{_HOME[name]}"), name)
    raise AttributeError(f"module 'worldbridge.training' has no attribute {name!r}")

"""Training: recorded trajectories -> 16-frame clips -> (target, anchor, reference) triples.

Clips (:mod:`worldbridge.training.clips`) follow InSpatio-WorldFM ("InSpatio-WorldFM: An
Open-Source Real-Time Generative Frame Model", arXiv 2603.11911) section 2.4.1; loaders
(:mod:`worldbridge.training.data`) shard them over DDP ranks and flatten them into triples.
Stage II (:mod:`~worldbridge.training.stage2`), Stage III (:mod:`~worldbridge.training.stage3`)
and autoencoder training (:mod:`~worldbridge.training.autoencoder`) run in one loop
(:mod:`~worldbridge.training.loop`), configured by the dataclasses of
:mod:`~worldbridge.training.config`, whose command-line flags :mod:`~worldbridge.training.flags`
generates.

The names below load on first use, so that importing :mod:`worldbridge.training.commands`
(the command line's parsers) does not load PyTorch: ``worldbridge serve`` never needs it in
the gateway process.
"""

from importlib import import_module

__all__ = ["AutoencoderTrainConfig", "ClipDataLoader", "ClipDataset", "ClipPlan", "ClipSpec", "LoopResult",
           "Stage2Config", "Stage3Config", "TrainConfigBase", "TrainLoop", "add_config_arguments",
           "collate_clips", "config_from_args", "crop_resize", "crop_resize_intrinsics", "make_dataloader",
           "worker_init"]

_HOME = {"ClipSpec": "clips", "ClipPlan": "clips", "ClipDataset": "clips", "crop_resize": "clips",
         "crop_resize_intrinsics": "clips", "ClipDataLoader": "data", "make_dataloader": "data",
         "collate_clips": "data", "worker_init": "data", "TrainLoop": "loop", "LoopResult": "loop",
         "TrainConfigBase": "config", "Stage2Config": "config", "Stage3Config": "config",
         "AutoencoderTrainConfig": "config", "add_config_arguments": "flags", "config_from_args": "flags"}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f"worldbridge.training.{_HOME[name]}"), name)
    raise AttributeError(f"module 'worldbridge.training' has no attribute {name!r}")

"""Initialise the frame model from a PixArt-Sigma checkpoint on local disk.

InSpatio-WorldFM starts from PixArt-Sigma (arXiv 2603.11911, section 2.3; Chen et al. 2024,
"PixArt-Sigma"). Our :class:`~worldbridge.models.dit.FrameModel` keeps PixArt's
self-attention blocks, adaLN-single timestep path, patch embedding and final layer, and drops
the text path (T5 caption projection and cross-attention). Two key layouts are understood:

* diffusers ``PixArtTransformer2DModel`` (``transformer/diffusion_pytorch_model.safetensors``,
  single file or sharded with an ``.index.json``): ``pos_embed.proj``,
  ``adaln_single.emb.timestep_embedder.linear_{1,2}``, ``adaln_single.linear``,
  ``transformer_blocks.N.{attn1.to_q/to_k/to_v/to_out.0, ff.net.0.proj, ff.net.2,
  scale_shift_table}``, ``scale_shift_table``, ``proj_out``; dropped: ``caption_projection``,
  ``transformer_blocks.N.attn2``, the resolution / aspect-ratio micro-condition embedders.
* the original PixArt code (``PixArt-Sigma-XL-2-512-MS.pth``, loaded with
  ``torch.load(weights_only=True)``, the tensors under ``state_dict``): ``x_embedder``,
  ``t_embedder``, ``t_block``, ``blocks.N.{attn.qkv, attn.proj, mlp.fc1, mlp.fc2,
  scale_shift_table}``, ``final_layer``; dropped: ``y_embedder``, ``blocks.N.cross_attn``,
  ``pos_embed``, ``csize_embedder``/``ar_embedder``.

PixArt predicts 8 channels (epsilon and the learned variance); with ``learn_sigma=False`` only
the epsilon rows of the final projection are kept. The sin-cos position embedding has no
weights: ours is recomputed over the merged width and equals PixArt-Sigma-512's on the target
third. ``null_anchor`` and the anchor-mask embedding (``mask_embedder``, in configs with an
anchor-mask input) are new and keep their initial values.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from worldbridge.models.checkpoint import CheckpointError
from worldbridge.models.dit import FrameModel

__all__ = [
    "PIXART_DOWNSAMPLE",
    "PIXART_LATENT_CHANNELS",
    "PixArtLoadReport",
    "check_pixart_setup",
    "convert_pixart_state_dict",
    "load_pixart_sigma_weights",
    "read_pixart_state_dict",
]

PIXART_LATENT_CHANNELS = 4
"""Latent channels of the autoencoder PixArt-Sigma was trained on (the SDXL VAE)."""

PIXART_DOWNSAMPLE = 8
"""Spatial downsampling factor f of that autoencoder (an f8 VAE: 512 px -> 64 x 64 latents)."""

_DIFFUSERS_FILE = "diffusion_pytorch_model.safetensors"
_DIFFUSERS_INDEX = "diffusion_pytorch_model.safetensors.index.json"

# Our parameters that PixArt does not have (names or prefixes): the null anchor latent and
# the anchor-mask patch embedding (zero-initialised, so it starts as a no-op).
_NEW_PARAMETERS = ("null_anchor", "mask_embedder.")

_TEXT = "text path (not used by the frame model)"
_MICRO = "resolution / aspect-ratio micro-conditions (not used by the frame model)"
_POS = "sin-cos position embedding (no weights; recomputed over the merged width)"

_DIFFUSERS_RULES: list[tuple[str, str | None, str]] = [
    # (source regex, target template or None to drop, reason when dropped)
    (r"pos_embed\.proj\.(weight|bias)", r"x_embedder.proj.\1", ""),
    (r"pos_embed\.pos_embed", None, _POS),
    (r"adaln_single\.emb\.timestep_embedder\.linear_1\.(weight|bias)", r"t_embedder.mlp.0.\1", ""),
    (r"adaln_single\.emb\.timestep_embedder\.linear_2\.(weight|bias)", r"t_embedder.mlp.2.\1", ""),
    (r"adaln_single\.linear\.(weight|bias)", r"t_block.1.\1", ""),
    (r"adaln_single\.emb\.(resolution_embedder|aspect_ratio_embedder|additional_condition_proj)\..*",
     None, _MICRO),
    (r"caption_projection\..*", None, _TEXT),
    (r"transformer_blocks\.(\d+)\.attn2\..*", None, "cross-attention, " + _TEXT),
    (r"transformer_blocks\.(\d+)\.attn1\.to_out\.0\.(weight|bias)", r"blocks.\1.attn.proj.\2", ""),
    (r"transformer_blocks\.(\d+)\.ff\.net\.0\.proj\.(weight|bias)", r"blocks.\1.mlp.fc1.\2", ""),
    (r"transformer_blocks\.(\d+)\.ff\.net\.2\.(weight|bias)", r"blocks.\1.mlp.fc2.\2", ""),
    (r"transformer_blocks\.(\d+)\.scale_shift_table", r"blocks.\1.scale_shift_table", ""),
    (r"scale_shift_table", "final_layer.scale_shift_table", ""),
    (r"proj_out\.(weight|bias)", r"final_layer.linear.\1", ""),
]

_ORIGINAL_RULES: list[tuple[str, str | None, str]] = [
    (r"(x_embedder\.proj\.(?:weight|bias))", r"\1", ""),
    (r"(t_embedder\.mlp\.[02]\.(?:weight|bias))", r"\1", ""),
    (r"(t_block\.1\.(?:weight|bias))", r"\1", ""),
    (r"pos_embed", None, _POS),
    (r"y_embedder\..*", None, _TEXT),
    (r"(csize_embedder|ar_embedder)\..*", None, _MICRO),
    (r"blocks\.(\d+)\.cross_attn\..*", None, "cross-attention, " + _TEXT),
    (r"(blocks\.\d+\.attn\.(?:qkv|proj)\.(?:weight|bias))", r"\1", ""),
    (r"(blocks\.\d+\.mlp\.fc[12]\.(?:weight|bias))", r"\1", ""),
    (r"(blocks\.\d+\.scale_shift_table)", r"\1", ""),
    (r"(final_layer\.scale_shift_table)", r"\1", ""),
    (r"(final_layer\.linear\.(?:weight|bias))", r"\1", ""),
]

_QKV = re.compile(r"transformer_blocks\.(\d+)\.attn1\.to_([qkv])\.(weight|bias)")


@dataclass
class PixArtLoadReport:
    """What :func:`load_pixart_sigma_weights` did.

    Attributes:
        source_format: ``"diffusers"`` or ``"pixart"`` (original PixArt key names).
        loaded: our parameter names that received pretrained values.
        skipped: source key -> why it was not used (text path, micro-conditions, ...).
        not_initialised: our parameters left at their current values (``null_anchor``).
        adapted: our parameter -> how the source tensor was changed to fit (fused q/k/v,
            epsilon rows of the final projection).
    """

    source_format: str
    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    not_initialised: list[str] = field(default_factory=list)
    adapted: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs."""
        reasons: dict[str, int] = {}
        for r in self.skipped.values():
            reasons[r] = reasons.get(r, 0) + 1
        skipped = "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items()))
        return (f"PixArt ({self.source_format}): loaded {len(self.loaded)} tensors, skipped "
                f"{len(self.skipped)} ({skipped or 'none'}), not initialised "
                f"{self.not_initialised or 'none'}")


def _resolve(path: Path) -> list[Path]:
    """The weight file(s) behind ``path`` (a file, a diffusers pipeline or transformer dir)."""
    if path.is_file():
        return [path]
    if not path.exists():
        raise CheckpointError(f"PixArt-Sigma weights {str(path)!r} do not exist")
    tried = []
    for d in (path / "transformer", path):
        single, index = d / _DIFFUSERS_FILE, d / _DIFFUSERS_INDEX
        tried += [str(single), str(index)]
        if single.is_file():
            return [single]
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
                return [d / name for name in sorted(set(weight_map.values()))]
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
                raise CheckpointError(f"bad shard index {str(index)!r}: {e}") from None
    pths = sorted(path.glob("*.pth"))
    if len(pths) == 1:
        return pths
    raise CheckpointError(f"no PixArt-Sigma weights under {str(path)!r}: tried {tried} and a "
                          f"single *.pth file (found {len(pths)})")


def read_pixart_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a PixArt(-Sigma) transformer state dict from local disk.

    Args:
        path: a ``.safetensors`` file, a diffusers pipeline directory (with
            ``transformer/``) or transformer directory (single or sharded safetensors), or an
            original ``.pth`` checkpoint (read with ``torch.load(weights_only=True)``; the
            tensors under ``state_dict``, ``ema`` or ``model``, else the top level).

    Returns:
        Source key -> CPU tensor.

    Raises:
        CheckpointError: nothing found, or a file that cannot be read.
    """
    tensors: dict[str, torch.Tensor] = {}
    for f in _resolve(Path(path)):
        if not f.is_file():
            raise CheckpointError(f"PixArt-Sigma shard {str(f)!r} is missing")
        try:
            if f.suffix == ".safetensors":
                from safetensors.torch import load_file

                tensors.update(load_file(str(f), device="cpu"))
                continue
            obj = torch.load(str(f), map_location="cpu", weights_only=True)
        except Exception as e:  # safetensors / torch.load raise many types
            raise CheckpointError(f"cannot read PixArt-Sigma weights {str(f)!r}: "
                                  f"{type(e).__name__}: {e}") from None
        if isinstance(obj, dict):
            for key in ("state_dict", "ema", "model"):
                if isinstance(obj.get(key), dict):
                    obj = obj[key]
                    break
        if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
            raise CheckpointError(f"{str(f)!r} does not hold a state dict of tensors")
        tensors.update(obj)
    return tensors


def _select_epsilon_rows(t: torch.Tensor, patch_size: int, want: int, key: str) -> torch.Tensor:
    """Keep the first ``want`` output channels of a ``[p * p * C_src, ...]`` final projection."""
    rows = t.shape[0]
    src = rows // (patch_size * patch_size)
    if src * patch_size * patch_size != rows or src < want:
        raise CheckpointError(f"{key}: {rows} output rows do not fit patch {patch_size} with "
                              f">= {want} channels")
    return t.reshape(patch_size * patch_size, src, *t.shape[1:])[:, :want].reshape(
        patch_size * patch_size * want, *t.shape[1:])


def convert_pixart_state_dict(source: dict[str, torch.Tensor], model: FrameModel
                              ) -> tuple[dict[str, torch.Tensor], PixArtLoadReport]:
    """Map PixArt(-Sigma) keys onto ``model``'s parameter names (no copying into the model).

    Args:
        source: from :func:`read_pixart_state_dict` (diffusers or original key names).
        model: the target, used for its config and parameter shapes.

    Returns:
        ``(state, report)``: our name -> tensor (source dtype), and what was mapped or dropped.

    Raises:
        CheckpointError: keys of neither layout, or an incomplete q/k/v triple.
    """
    if "adaln_single.linear.weight" in source:
        fmt, rules = "diffusers", _DIFFUSERS_RULES
    elif "t_block.1.weight" in source:
        fmt, rules = "pixart", _ORIGINAL_RULES
    else:
        sample = sorted(source)[:8]
        raise CheckpointError("not a PixArt transformer state dict: neither "
                              "'adaln_single.linear.weight' (diffusers) nor 't_block.1.weight' "
                              f"(original PixArt) is present; first keys: {sample}")
    report = PixArtLoadReport(fmt)
    cfg = model.config
    ours = {k: v.shape for k, v in model.state_dict().items()}
    state: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    compiled = [(re.compile(p), t, r) for p, t, r in rules]
    for key, tensor in source.items():
        m = _QKV.fullmatch(key) if fmt == "diffusers" else None
        if m:
            qkv.setdefault((m.group(1), m.group(3)), {})[m.group(2)] = tensor
            continue
        for pattern, template, reason in compiled:
            m = pattern.fullmatch(key)
            if m:
                if template is None:
                    report.skipped[key] = reason
                else:
                    state[m.expand(template)] = tensor
                break
        else:
            report.skipped[key] = "not a PixArt-Sigma parameter this model has"
    for (layer, kind), parts in sorted(qkv.items()):
        if set(parts) != {"q", "k", "v"}:
            raise CheckpointError(f"transformer_blocks.{layer}.attn1 has to_{sorted(parts)} "
                                  f"{kind} but not all of q, k, v")
        name = f"blocks.{layer}.attn.qkv.{kind}"
        state[name] = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
        report.adapted[name] = "concatenated attn1.to_q, to_k, to_v"
    for kind in ("weight", "bias"):
        name = f"final_layer.linear.{kind}"
        if name in state and name in ours and state[name].shape[0] != ours[name][0]:
            before = state[name].shape[0]
            state[name] = _select_epsilon_rows(state[name], cfg.patch_size, cfg.out_channels, name)
            report.adapted[name] = (f"kept the first {cfg.out_channels} of "
                                    f"{before // cfg.patch_size ** 2} output channels (epsilon)")
    for name in sorted(set(state) - set(ours)):
        report.skipped[name] = "layer beyond this model's depth"
        del state[name]
    return state, report


def load_pixart_sigma_weights(model: FrameModel, path: str | os.PathLike[str], *,
                              strict: bool = True) -> PixArtLoadReport:
    """Initialise ``model`` in place from PixArt-Sigma weights on local disk.

    Meant for the paper-sized config (:meth:`FrameModelConfig.xl`, PixArt-Sigma XL/2 at
    512 px); any config whose shapes match the file works.

    Args:
        model: the frame model to initialise (its parameters are overwritten, cast to their
            dtype and device).
        path: see :func:`read_pixart_state_dict`.
        strict: require every parameter except the new ones (``null_anchor``,
            ``mask_embedder``) to be provided.

    Returns:
        A :class:`PixArtLoadReport` (call ``.summary()`` for a log line).

    Raises:
        CheckpointError: unreadable or unrecognised file, shape mismatches (listed), or with
            ``strict`` parameters the file does not provide (listed).
    """
    if not isinstance(model, FrameModel):
        raise ValueError(f"model must be a FrameModel, got {type(model).__name__}")
    source = read_pixart_state_dict(path)
    state, report = convert_pixart_state_dict(source, model)
    ours = {k: v.shape for k, v in model.state_dict().items()}
    mismatched = sorted(f"{k}: file {tuple(v.shape)} vs model {tuple(ours[k])}"
                        for k, v in state.items() if tuple(v.shape) != tuple(ours[k]))
    if mismatched:
        raise CheckpointError(f"PixArt weights {str(path)!r} do not fit the model config "
                              f"{model.config.to_dict()}: " + "; ".join(mismatched[:20])
                              + (f" ... ({len(mismatched)} in all)" if len(mismatched) > 20 else ""))
    absent = sorted(set(ours) - set(state))
    required = [k for k in absent if not k.startswith(_NEW_PARAMETERS)]
    if strict and required:
        raise CheckpointError(f"PixArt weights {str(path)!r} lack parameters of this model: "
                              + ", ".join(required[:20])
                              + (f" ... ({len(required)} in all)" if len(required) > 20 else ""))
    with torch.no_grad():
        model.load_state_dict(state, strict=False)
    report.loaded = sorted(state)
    report.not_initialised = absent
    return report


def check_pixart_setup(config, autoencoder) -> None:
    """Check that a model config and an autoencoder fit PixArt-Sigma's latent space.

    PixArt-Sigma (Chen et al. 2024) was trained on the SDXL VAE's latents: 4 channels, f8.
    Its weights only mean something on those latents, so a run initialised from them must
    use such an autoencoder, and the model's latent grid must be the f8 latent of its
    images (``latent_size * 8 == image_size``). Call it before reading the (large) weights.

    Args:
        config: the :class:`~worldbridge.models.config.FrameModelConfig` to initialise.
        autoencoder: an :class:`~worldbridge.models.autoencoder.Autoencoder` (its
            ``latent_channels`` and ``downsample`` are read).

    Raises:
        ValueError: listing every mismatch with the offending values.
    """
    c, f = PIXART_LATENT_CHANNELS, PIXART_DOWNSAMPLE
    problems = []
    if int(autoencoder.latent_channels) != c:
        problems.append(f"the autoencoder has {autoencoder.latent_channels} latent channels, "
                        f"PixArt-Sigma's has {c}")
    if int(autoencoder.downsample) != f:
        problems.append(f"the autoencoder downsamples by {autoencoder.downsample} (f{autoencoder.downsample}), "
                        f"PixArt-Sigma's by {f} (f{f})")
    if config.latent_channels != c:
        problems.append(f"the model config has latent_channels={config.latent_channels}, PixArt-Sigma {c}")
    if config.latent_size * f != config.image_size:
        problems.append(f"the model config has latent_size={config.latent_size} and "
                        f"image_size={config.image_size}, but an f{f} latent of {config.image_size}-pixel "
                        f"images is {config.image_size / f:g} (latent_size * {f} must equal image_size)")
    if problems:
        raise ValueError("cannot start from PixArt-Sigma weights: " + "; ".join(problems)
                         + " (PixArt-Sigma was trained on the 4-channel f8 SDXL VAE latent)")

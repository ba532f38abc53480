"""The frame model: a PixArt-Sigma-style DiT over [noisy target | anchor | reference] latents.

Sources:

* InSpatio-WorldFM (arXiv 2603.11911), sections 2.2 (formulation: ``eps_theta(z_t, t, C)`` with
  ``C = {x_ref, pi_ref, pi_tgt, x^_tgt}``), 2.3 (PixArt-Sigma backbone) and 2.4.1 (model
  architecture): the noisy target latent, the anchor (point-cloud render at the target pose)
  and the reference latent are concatenated along the width, patch-embedded by one shared
  layer, given sinusoidal position embeddings, processed by self-attention-only blocks
  with PRoPE camera encoding, and only the target third of the output is kept.
* PixArt-alpha (Chen et al. 2023, "PixArt-alpha", section 2.3, "adaLN-single") and
  PixArt-Sigma (Chen et al. 2024): one timestep MLP produces the 6 x D modulation shared by
  all blocks; each block adds its own learned ``scale_shift_table [6, D]``; the final layer
  has its own ``[2, D]`` table added to the timestep embedding. Parameter names follow the
  original PixArt code (``x_embedder``, ``t_embedder``, ``t_block``, ``blocks.N.attn.qkv``,
  ``blocks.N.mlp.fc1``, ``final_layer.linear``) so :mod:`worldbridge.models.pixart` can map
  pretrained weights.
* DiT (Peebles and Xie 2023): patchify / unpatchify and the 2D sin-cos position embedding.
* PRoPE (Li et al. 2025): :mod:`worldbridge.models.prope`.

Reference caching: with ``reference_self_attention_only`` the reference tokens attend only to
each other, so their hidden states, keys and values depend on the reference latent, the
reference camera and the timestep only. :meth:`FrameModel.compute_reference_cache` runs them
once; :meth:`FrameModel.forward` with ``reference_cache`` then processes only the target and
anchor tokens (a third fewer tokens and no reference-to-reference attention per call).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast, overload

import torch
import torch.nn.functional as F
from torch import nn

from worldbridge.models.config import FrameModelConfig
from worldbridge.models.prope import PRoPE

__all__ = ["FrameModel", "ReferenceCache", "sincos_pos_embed_2d", "timestep_embedding"]

TIMESTEP_FREQUENCY_CHANNELS = 256
"""Width of the sinusoidal timestep features fed to the timestep MLP (PixArt, DiT)."""


def timestep_embedding(timestep: torch.Tensor, dim: int = TIMESTEP_FREQUENCY_CHANNELS,
                       max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal timestep features, cosines first (DiT / PixArt / diffusers' flip_sin_to_cos).

    Args:
        timestep: ``[B]`` timesteps (float or integer), usually in ``[0, 1000)``.
        dim: output width (even).
        max_period: longest period.

    Returns:
        ``[B, dim]`` float32: ``[cos(t * f_k), sin(t * f_k)]`` with
        ``f_k = max_period ** (-k / (dim / 2))``.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32,
                                                           device=timestep.device) / half)
    args = timestep.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def sincos_pos_embed_2d(grid_height: int, grid_width: int, dim: int) -> torch.Tensor:
    """2D sin-cos position embedding over a ``grid_height x grid_width`` token grid.

    Positions are patch indices; as in DiT/PixArt the first ``dim / 2`` channels encode the
    column x (``sin`` then ``cos``), the last ``dim / 2`` the row y. With a 32 x 32 grid this is
    exactly PixArt-Sigma-512's embedding.

    Args:
        grid_height, grid_width: token rows and columns.
        dim: embedding width, divisible by 4.

    Returns:
        ``[grid_height * grid_width, dim]`` float32, tokens row-major.
    """
    if dim % 4:
        raise ValueError(f"sin-cos position embedding needs dim divisible by 4, got {dim}")
    omega = 1.0 / 10000.0 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4))
    ys, xs = torch.meshgrid(torch.arange(grid_height, dtype=torch.float64),
                            torch.arange(grid_width, dtype=torch.float64), indexing="ij")

    def one_axis(pos: torch.Tensor) -> torch.Tensor:
        out = pos.reshape(-1, 1) * omega[None]
        return torch.cat([out.sin(), out.cos()], dim=1)

    return torch.cat([one_axis(xs), one_axis(ys)], dim=1).float()


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """PixArt's ``t2i_modulate``: ``x * (1 + scale) + shift`` (``shift/scale [B, 1, D]``)."""
    return x * (1 + scale) + shift


class PatchEmbed(nn.Module):
    """Shared patch embedding: Conv2d with kernel = stride = patch size."""

    def __init__(self, in_channels: int, hidden_size: int, patch_size: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, hidden_size, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` -> ``[B, D, H / p, W / p]``."""
        return self.proj(x)


class TimestepEmbedder(nn.Module):
    """Sinusoidal features -> Linear -> SiLU -> Linear (DiT, PixArt ``t_embedder``)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(TIMESTEP_FREQUENCY_CHANNELS, hidden_size), nn.SiLU(),
                                 nn.Linear(hidden_size, hidden_size))

    def forward(self, timestep: torch.Tensor) -> torch.Tensor:
        """``[B]`` timesteps -> ``[B, D]`` embedding (parameter dtype)."""
        freq = timestep_embedding(timestep)
        return self.mlp(freq.to(self.mlp[0].weight.dtype))  # type: ignore[arg-type]


class Attention(nn.Module):
    """Fused q/k/v projection and output projection (the attention itself is in the model)."""

    def __init__(self, hidden_size: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.proj = nn.Linear(hidden_size, hidden_size)

    def heads(self, x: torch.Tensor, kv_only: bool = False
              ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """``[B, L, D]`` -> q, k, v ``[B, H, L, hd]`` (q is None with ``kv_only``)."""
        b, length, d = x.shape
        if kv_only:
            kv = F.linear(x, self.qkv.weight[d:], self.qkv.bias[d:])
            k, v = kv.view(b, length, 2, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
            return None, k, v
        q, k, v = self.qkv(x).view(b, length, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return q, k, v

    def merge(self, o: torch.Tensor) -> torch.Tensor:
        """Attention output ``[B, H, L, hd]`` -> projected ``[B, L, D]``."""
        b, h, length, hd = o.shape
        return self.proj(o.transpose(1, 2).reshape(b, length, h * hd))


class Mlp(nn.Module):
    """fc1 -> GELU(tanh) -> fc2 (timm ``Mlp`` as used by PixArt)."""

    def __init__(self, hidden_size: int, mlp_ratio: float):
        super().__init__()
        inner = int(hidden_size * mlp_ratio)
        self.fc1 = nn.Linear(hidden_size, inner)
        self.fc2 = nn.Linear(inner, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class FrameBlock(nn.Module):
    """A PixArt-Sigma block without cross-attention: adaLN-single, self-attention, MLP.

    The block is split into :meth:`attention_inputs` and :meth:`finish` so the model can
    route the attention (reference isolation, caching, PRoPE) between them.
    """

    def __init__(self, hidden_size: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden_size, num_heads)
        self.norm2 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(hidden_size, mlp_ratio)
        self.scale_shift_table = nn.Parameter(torch.randn(6, hidden_size) / hidden_size**0.5)

    def modulation(self, t_mod: torch.Tensor) -> torch.Tensor:
        """``[B, 6 * D]`` shared modulation -> ``[B, 6, D]`` (shift/scale/gate msa, then mlp)."""
        return self.scale_shift_table[None] + t_mod.view(t_mod.shape[0], 6, -1)

    @overload
    def attention_inputs(self, x: torch.Tensor, mod: torch.Tensor, kv_only: Literal[False] = False
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...

    @overload
    def attention_inputs(self, x: torch.Tensor, mod: torch.Tensor, kv_only: bool
                         ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]: ...

    def attention_inputs(self, x: torch.Tensor, mod: torch.Tensor, kv_only: bool = False
                         ) -> tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """q, k, v ``[B, H, L, hd]`` of tokens ``x [B, L, D]`` (q None with ``kv_only``)."""
        h = _modulate(self.norm1(x), mod[:, 0:1], mod[:, 1:2])
        return self.attn.heads(h, kv_only)

    def finish(self, x: torch.Tensor, attn_out: torch.Tensor, mod: torch.Tensor) -> torch.Tensor:
        """Residual updates from the attention output ``[B, H, L, hd]`` and the MLP."""
        x = x + mod[:, 2:3] * self.attn.merge(attn_out)
        return x + mod[:, 5:6] * self.mlp(_modulate(self.norm2(x), mod[:, 3:4], mod[:, 4:5]))


class FinalLayer(nn.Module):
    """LayerNorm, modulation by ``scale_shift_table [2, D]`` + timestep embedding, Linear."""

    def __init__(self, hidden_size: int, patch_size: int, out_channels: int):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden_size, patch_size * patch_size * out_channels)
        self.scale_shift_table = nn.Parameter(torch.randn(2, hidden_size) / hidden_size**0.5)

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        """``x [B, L, D]``, ``t_emb [B, D]`` -> ``[B, L, p * p * C_out]``."""
        shift, scale = (self.scale_shift_table[None] + t_emb[:, None]).chunk(2, dim=1)
        return self.linear(_modulate(self.norm_final(x), shift, scale))


@dataclass(frozen=True)
class ReferenceCache:
    """Per-layer keys and values of the reference tokens at one timestep.

    Made by :meth:`FrameModel.compute_reference_cache`; valid for that model's weights, that
    reference latent and camera, and that timestep (adaLN-single modulation depends on it).

    Attributes:
        keys, values: one ``[Bc, heads, N, head_dim]`` tensor per layer, PRoPE already applied
            (``N`` = tokens per image). ``Bc`` is the batch it was computed for; a cache with
            ``Bc = 1`` serves any batch.
        timestep: ``[Bc]`` the timesteps it was computed at.
    """

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]
    timestep: torch.Tensor

    @property
    def batch_size(self) -> int:
        """Bc."""
        return int(self.timestep.shape[0])

    @property
    def nbytes(self) -> int:
        """Memory held by the keys and values, bytes."""
        return sum(t.numel() * t.element_size() for t in (*self.keys, *self.values))


class FrameModel(nn.Module):
    """InSpatio-WorldFM's frame model: predicts the noise of a target latent.

    Args:
        config: architecture (:class:`~worldbridge.models.config.FrameModelConfig`).

    Attributes:
        config: the architecture.
        pos_embed: ``[1, 3 N, D]`` float32 buffer (not saved): the 2D sin-cos embedding of
            the merged ``grid x 3 grid`` token grid, grouped by third (target tokens, then
            anchor, then reference; row-major inside each).
        null_anchor: ``[1, C, h, w]`` learned latent used where ``anchor_keep`` is False.
        mask_embedder: with ``config.anchor_mask_channel``, the patch embedding (1 input
            channel, zero-initialised) of the anchor's coverage, added to the anchor tokens;
            else None.
    """

    pos_embed: torch.Tensor  # a buffer (register_buffer in __init__)

    def __init__(self, config: FrameModelConfig):
        super().__init__()
        if not isinstance(config, FrameModelConfig):
            raise ValueError(f"FrameModel needs a FrameModelConfig, got {type(config).__name__}")
        self.config = config
        c, d = config.latent_channels, config.hidden_size
        self.x_embedder = PatchEmbed(c, d, config.patch_size)
        self.t_embedder = TimestepEmbedder(d)
        self.t_block = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        self.blocks = cast("Sequence[FrameBlock]", nn.ModuleList(
            [FrameBlock(d, config.num_heads, config.mlp_ratio) for _ in range(config.depth)]))
        self.final_layer = FinalLayer(d, config.patch_size, config.out_channels)
        self.null_anchor = nn.Parameter(torch.zeros(1, c, config.latent_size, config.latent_size))
        self.mask_embedder = PatchEmbed(1, d, config.patch_size) if config.anchor_mask_channel \
            else None
        self.register_buffer("pos_embed", self.position_embedding(), persistent=False)
        self.initialize_weights()

    def position_embedding(self) -> torch.Tensor:
        """The ``[1, 3 N, D]`` float32 sin-cos embedding of the merged ``g x 3g`` grid.

        Computed over the width-concatenated grid (target columns ``0 .. g-1``, anchor
        ``g .. 2g-1``, reference ``2g .. 3g-1``) and regrouped by third, row-major inside each.
        """
        cfg = self.config
        g, d = cfg.grid_size, cfg.hidden_size
        merged = sincos_pos_embed_2d(g, 3 * g, d)  # [g * 3g, D], row-major over the merged width
        return merged.view(g, 3, g, d).permute(1, 0, 2, 3).reshape(1, 3 * g * g, d)

    # ------------------------------------------------------------------ setup
    def initialize_weights(self) -> None:
        """PixArt-alpha's initialisation: xavier-uniform Linear/Conv weights, zero biases,
        N(0, 0.02) timestep MLPs, a zero final projection (the model starts predicting 0)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        w = self.x_embedder.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.x_embedder.proj.bias)  # type: ignore[arg-type]
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)  # type: ignore[arg-type]
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)  # type: ignore[arg-type]
        nn.init.normal_(self.t_block[1].weight, std=0.02)  # type: ignore[arg-type]
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)
        if self.mask_embedder is not None:  # starts neutral: a model without it, fine-tuned
            nn.init.zeros_(self.mask_embedder.proj.weight)
            nn.init.zeros_(self.mask_embedder.proj.bias)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ helpers
    def _embed(self, latents: list[torch.Tensor], first_third: int) -> torch.Tensor:
        """Width-concatenate latents, patch-embed, add position embeddings.

        Patchifying the width concatenation ``[B, C, h, k w]`` with the shared Conv2d equals
        patchifying each third (kernel = stride = p divides w); tokens come back grouped by
        third, ``[B, k N, D]``, with the embedding of their column in the merged grid.
        """
        cfg = self.config
        g, n = cfg.grid_size, cfg.tokens_per_image
        k = len(latents)
        x = torch.cat(latents, dim=-1) if k > 1 else latents[0]
        x = self.x_embedder(x.to(self.x_embedder.proj.weight.dtype))  # [B, D, g, k g]
        b, d = x.shape[:2]
        x = x.view(b, d, g, k, g).permute(0, 3, 2, 4, 1).reshape(b, k * n, d)
        pos = self.pos_embed[:, first_third * n:(first_third + k) * n]
        return x + pos.to(x.dtype)

    def _unpatchify(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, N, p * p * C]`` -> ``[B, C, h, w]`` (channel fastest per patch, as PixArt)."""
        cfg = self.config
        g, p, c = cfg.grid_size, cfg.patch_size, cfg.out_channels
        x = x.reshape(x.shape[0], g, g, p, p, c)
        return torch.einsum("bhwpqc->bchpwq", x).reshape(x.shape[0], c, g * p, g * p)

    def _cameras(self, w2c: torch.Tensor, K: torch.Tensor) -> PRoPE | None:
        """PRoPE for views ``w2c [B, V, 4, 4]`` / ``K [B, V, 3, 3]``; None without PRoPE."""
        cfg = self.config
        if not cfg.use_prope:
            return None
        return PRoPE.from_cameras(w2c, K, image_size=cfg.image_size, grid_size=cfg.grid_size,
                                  head_dim=cfg.head_dim)

    @staticmethod
    def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, q_cam: PRoPE | None
                ) -> torch.Tensor:
        """SDPA; PRoPE on the output when the queries carry it (inputs already transformed)."""
        out = F.scaled_dot_product_attention(q, k, v)
        return q_cam.output(out) if q_cam is not None else out

    def _reference_step(self, block: FrameBlock, x_ref: torch.Tensor, mod: torch.Tensor,
                        cam_ref: PRoPE | None, last: bool
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One block on the reference tokens alone -> (k, v with PRoPE, updated tokens)."""
        q, k, v = block.attention_inputs(x_ref, mod, kv_only=last)
        if cam_ref is not None:
            k, v = cam_ref.key_value(k), cam_ref.key_value(v)
        if last:  # the last layer's reference tokens feed nothing but these keys/values
            return k, v, x_ref
        if q is None:  # only kv_only (the last layer, returned above) leaves out the queries
            raise RuntimeError("attention_inputs gave no queries")
        if cam_ref is not None:
            q = cam_ref.query(q)
        out = self._attend(q, k, v, cam_ref)
        return k, v, block.finish(x_ref, out, mod)

    def _main_step(self, block: FrameBlock, x_main: torch.Tensor, mod: torch.Tensor,
                   cam_main: PRoPE | None, k_ref: torch.Tensor, v_ref: torch.Tensor
                   ) -> torch.Tensor:
        """One block on target + anchor tokens, attending to themselves and the reference."""
        q, k, v = block.attention_inputs(x_main, mod)
        if cam_main is not None:
            q, k, v = cam_main.query(q), cam_main.key_value(k), cam_main.key_value(v)
        b = x_main.shape[0]
        k = torch.cat([k, k_ref.to(k.dtype).expand(b, -1, -1, -1)], dim=2)
        v = torch.cat([v, v_ref.to(v.dtype).expand(b, -1, -1, -1)], dim=2)
        return block.finish(x_main, self._attend(q, k, v, cam_main), mod)

    def _joint_step(self, block: FrameBlock, x: torch.Tensor, mod: torch.Tensor,
                    cam: PRoPE | None) -> torch.Tensor:
        """One block with full attention among all tokens (no reference isolation)."""
        q, k, v = block.attention_inputs(x, mod)
        if cam is not None:
            q, k, v = cam.query(q), cam.key_value(k), cam.key_value(v)
        return block.finish(x, self._attend(q, k, v, cam), mod)

    def _timestep(self, timestep: torch.Tensor, device: torch.device
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B]`` timesteps -> (embedding ``[B, D]``, shared modulation ``[B, 6 D]``)."""
        t_emb = self.t_embedder(timestep.to(device))
        return t_emb, self.t_block(t_emb)

    def _check_latent(self, name: str, x: torch.Tensor | None, b: int | None) -> int:
        cfg = self.config
        want = (cfg.latent_channels, cfg.latent_size, cfg.latent_size)
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != want:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be [B, {want[0]}, {want[1]}, {want[2]}], got {got}")
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a floating tensor, got {x.dtype}")
        if b is not None and x.shape[0] != b:
            raise ValueError(f"{name} has batch {x.shape[0]}, expected {b}")
        return x.shape[0]

    @staticmethod
    def _check_camera(name: str, t: torch.Tensor | None, shape: tuple[int, ...]) -> None:
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != shape:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be {list(shape)}, got {got}")

    @staticmethod
    def _check_timestep(timestep: torch.Tensor, b: int) -> torch.Tensor:
        if not isinstance(timestep, torch.Tensor):
            timestep = torch.as_tensor(timestep)
        if timestep.ndim == 0:
            timestep = timestep.expand(b)
        if tuple(timestep.shape) != (b,):
            raise ValueError(f"timestep must be [B] = [{b}] (or a scalar), got {tuple(timestep.shape)}")
        return timestep

    # ------------------------------------------------------------------ API
    def compute_reference_cache(self, reference: torch.Tensor, reference_w2c: torch.Tensor,
                                reference_K: torch.Tensor, timestep: torch.Tensor
                                ) -> ReferenceCache:
        """Run the reference tokens alone and keep their per-layer keys and values.

        Valid only with ``config.reference_self_attention_only`` (then the reference tokens
        never see the target or anchor). Runs with the caller's grad mode; wrap it in
        ``torch.inference_mode()`` when serving.

        Args:
            reference: ``[Bc, C, h, w]`` reference latent.
            reference_w2c: ``[Bc, 4, 4]`` OpenCV world-to-camera of the reference view, metres.
            reference_K: ``[Bc, 3, 3]`` its intrinsics, pixels of an ``image_size`` image.
            timestep: ``[Bc]`` (or a scalar) timesteps in ``[0, 1000)``, float or integer.

        Returns:
            A :class:`ReferenceCache` for :meth:`forward` at the same timestep(s).

        Raises:
            ValueError: bad shapes, or ``reference_self_attention_only`` is off.
        """
        cfg = self.config
        if not cfg.reference_self_attention_only:
            raise ValueError("reference caching needs reference_self_attention_only=True "
                             "(otherwise the reference tokens depend on the target)")
        b = self._check_latent("reference", reference, None)
        self._check_camera("reference_w2c", reference_w2c, (b, 4, 4))
        self._check_camera("reference_K", reference_K, (b, 3, 3))
        timestep = self._check_timestep(timestep, b)
        _, t_mod = self._timestep(timestep, reference.device)
        x_ref = self._embed([reference], 2)
        cam_ref = self._cameras(reference_w2c[:, None], reference_K[:, None])
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            k, v, x_ref = self._reference_step(block, x_ref, block.modulation(t_mod), cam_ref,
                                               last=i == len(self.blocks) - 1)
            keys.append(k)
            values.append(v)
        return ReferenceCache(tuple(keys), tuple(values), timestep.detach().clone())

    def forward(self, x_t: torch.Tensor, timestep: torch.Tensor, anchor: torch.Tensor,
                reference: torch.Tensor | None, target_w2c: torch.Tensor, target_K: torch.Tensor,
                reference_w2c: torch.Tensor | None, reference_K: torch.Tensor | None,
                anchor_keep: torch.Tensor | None = None,
                reference_cache: ReferenceCache | None = None,
                anchor_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Predict the noise ``eps`` of the noisy target latent (InSpatio-WorldFM eq. 1).

        Target and anchor tokens use the target camera (the anchor is rendered at the target
        pose); reference tokens use the reference camera. Camera translations are in the
        units :attr:`FrameModelConfig.pose_normalization` prescribes (the caller normalises,
        :func:`~worldbridge.models.conditioning.normalize_cameras`).

        Args:
            x_t: ``[B, C, h, w]`` float noisy target latent.
            timestep: ``[B]`` (or a scalar) float or integer timesteps in ``[0, 1000)``.
            anchor: ``[B, C, h, w]`` latent of the point-cloud render at the target pose.
            reference: ``[B, C, h, w]`` reference latent (ignored, may be None, with a cache).
            target_w2c: ``[B, 4, 4]`` OpenCV world-to-camera of the target view.
            target_K: ``[B, 3, 3]`` target intrinsics in pixels of an ``image_size`` image.
            reference_w2c, reference_K: the same for the reference view (ignored with a cache).
            anchor_keep: ``[B]`` bool; False rows replace the anchor by the learned
                :attr:`null_anchor` and its coverage by 0 (progressive condition injection,
                random anchor masking). None keeps all anchors.
            reference_cache: from :meth:`compute_reference_cache` at the same timestep(s),
                batch ``B`` or 1; skips all reference-token computation and gives the same
                output as the uncached call.
            anchor_mask: ``[B, 1, h, w]`` float coverage of the anchor in [0, 1] at latent
                resolution; required with ``config.anchor_mask_channel``, refused without.

        Returns:
            ``[B, C, h, w]`` epsilon prediction for the target only (``[B, 2C, h, w]``,
            epsilon first, with ``learn_sigma``), dtype of the parameters (or autocast).

        Raises:
            ValueError: bad shapes/dtypes, a missing or unexpected ``anchor_mask``, a cache
                with another batch, depth, timestep or token count, or a cache when
                ``reference_self_attention_only`` is off.
        """
        cfg = self.config
        b = self._check_latent("x_t", x_t, None)
        self._check_latent("anchor", anchor, b)
        self._check_camera("target_w2c", target_w2c, (b, 4, 4))
        self._check_camera("target_K", target_K, (b, 3, 3))
        timestep = self._check_timestep(timestep, b)
        if reference_cache is None:
            self._check_latent("reference", reference, b)
            self._check_camera("reference_w2c", reference_w2c, (b, 4, 4))
            self._check_camera("reference_K", reference_K, (b, 3, 3))
        else:
            self._check_cache(reference_cache, timestep, b)
        self._check_anchor_mask(anchor_mask, b)
        if anchor_keep is None:
            anchor_keep = torch.ones(b, dtype=torch.bool, device=anchor.device)
        elif (not isinstance(anchor_keep, torch.Tensor) or anchor_keep.dtype != torch.bool
              or tuple(anchor_keep.shape) != (b,)):
            got = (f"{tuple(anchor_keep.shape)} {anchor_keep.dtype}"
                   if isinstance(anchor_keep, torch.Tensor) else type(anchor_keep).__name__)
            raise ValueError(f"anchor_keep must be a [B] = [{b}] bool tensor, got {got}")
        if reference_cache is not None:
            return self.denoise_cached(x_t, timestep, anchor, anchor_mask, target_w2c, target_K,
                                       reference_cache.keys, reference_cache.values, anchor_keep)
        if reference is None or reference_w2c is None or reference_K is None:  # refused above
            raise ValueError("reference, reference_w2c and reference_K are needed without a reference_cache")
        t_emb, t_mod = self._timestep(timestep, x_t.device)
        n = cfg.tokens_per_image
        x_main = self._main_tokens(x_t, anchor, anchor_mask, anchor_keep)
        tw, tk = target_w2c[:, None], target_K[:, None]
        if cfg.reference_self_attention_only:
            cam_main = self._cameras(torch.cat([tw, tw], 1), torch.cat([tk, tk], 1))
            cam_ref = self._cameras(reference_w2c[:, None], reference_K[:, None])
            x_ref = self._embed([reference], 2)
            for i, block in enumerate(self.blocks):
                mod = block.modulation(t_mod)
                k_ref, v_ref, x_ref = self._reference_step(block, x_ref, mod, cam_ref,
                                                           last=i == len(self.blocks) - 1)
                x_main = self._main_step(block, x_main, mod, cam_main, k_ref, v_ref)
        else:
            cam_all = self._cameras(torch.cat([tw, tw, reference_w2c[:, None]], 1),
                                    torch.cat([tk, tk, reference_K[:, None]], 1))
            x = torch.cat([x_main, self._embed([reference], 2)], dim=1)
            for block in self.blocks:
                x = self._joint_step(block, x, block.modulation(t_mod), cam_all)
            x_main = x[:, :2 * n]
        return self._unpatchify(self.final_layer(x_main[:, :n], t_emb))

    def _main_tokens(self, x_t: torch.Tensor, anchor: torch.Tensor, anchor_mask: torch.Tensor | None,
                     anchor_keep: torch.Tensor) -> torch.Tensor:
        """Target and anchor tokens ``[B, 2N, D]``: null anchors where not kept, coverage added."""
        n = self.config.tokens_per_image
        keep = anchor_keep.to(anchor.device)[:, None, None, None]
        # Always through torch.where so null_anchor is in the graph (DDP needs every
        # parameter to take part in each step).
        anchor = torch.where(keep, anchor, self.null_anchor.to(anchor.dtype))
        x_main = self._embed([x_t, anchor], 0)  # [B, 2N, D]: target, anchor
        if self.mask_embedder is not None:
            given = cast(torch.Tensor, anchor_mask)  # required with a mask embedder (forward checks)
            mask = torch.where(keep, given, torch.zeros_like(given))
            m = self.mask_embedder(mask.to(self.mask_embedder.proj.weight.dtype))  # [B, D, g, g]
            m = m.flatten(2).transpose(1, 2)  # [B, N, D], row-major like the anchor third
            x_main = torch.cat([x_main[:, :n], x_main[:, n:] + m.to(x_main.dtype)], dim=1)
        return x_main

    def denoise_cached(self, x_t: torch.Tensor, timestep: torch.Tensor, anchor: torch.Tensor,
                       anchor_mask: torch.Tensor | None, target_w2c: torch.Tensor,
                       target_K: torch.Tensor, reference_keys: Sequence[torch.Tensor],
                       reference_values: Sequence[torch.Tensor],
                       anchor_keep: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`forward` with a reference cache, without input validation or host syncs.

        The serving hot path: safe to trace (ONNX export) and to capture in a CUDA graph,
        because nothing here reads a tensor's value on the host. Callers must pass what
        :meth:`forward` would accept (same shapes; keys/values from
        :meth:`compute_reference_cache` at ``timestep``).

        Args:
            x_t, anchor: ``[B, C, h, w]`` latents; anchor_mask ``[B, 1, h, w]`` or None
                (as the config requires).
            timestep: ``[B]`` timesteps.
            target_w2c ``[B, 4, 4]``, target_K ``[B, 3, 3]``: the target camera.
            reference_keys, reference_values: per layer ``[1 or B, heads, N, head_dim]``.
            anchor_keep: ``[B]`` bool or None (all kept).

        Returns:
            ``[B, C, h, w]`` epsilon (``[B, 2C, h, w]`` with ``learn_sigma``).
        """
        b = x_t.shape[0]
        if anchor_keep is None:
            anchor_keep = torch.ones(b, dtype=torch.bool, device=anchor.device)
        t_emb, t_mod = self._timestep(timestep, x_t.device)
        x_main = self._main_tokens(x_t, anchor, anchor_mask, anchor_keep)
        tw, tk = target_w2c[:, None], target_K[:, None]
        cam_main = self._cameras(torch.cat([tw, tw], 1), torch.cat([tk, tk], 1))
        for block, k_ref, v_ref in zip(self.blocks, reference_keys, reference_values):
            x_main = self._main_step(block, x_main, block.modulation(t_mod), cam_main, k_ref, v_ref)
        return self._unpatchify(self.final_layer(x_main[:, :self.config.tokens_per_image], t_emb))

    def _check_anchor_mask(self, anchor_mask: torch.Tensor | None, b: int) -> None:
        cfg = self.config
        if not cfg.anchor_mask_channel:
            if anchor_mask is not None:
                raise ValueError("this model has no anchor-mask input (anchor_mask_channel="
                                 "False); pass anchor_mask=None")
            return
        want = (b, 1, cfg.latent_size, cfg.latent_size)
        if (not isinstance(anchor_mask, torch.Tensor) or tuple(anchor_mask.shape) != want
                or not anchor_mask.is_floating_point()):
            got = (f"{tuple(anchor_mask.shape)} {anchor_mask.dtype}"
                   if isinstance(anchor_mask, torch.Tensor) else type(anchor_mask).__name__)
            raise ValueError(f"anchor_mask must be a float tensor {list(want)} (coverage in "
                             f"[0, 1]; the model has anchor_mask_channel=True), got {got}")

    def _check_cache(self, cache: ReferenceCache, timestep: torch.Tensor, b: int) -> None:
        cfg = self.config
        if not cfg.reference_self_attention_only:
            raise ValueError("reference_cache needs reference_self_attention_only=True")
        if not isinstance(cache, ReferenceCache):
            raise ValueError(f"reference_cache must be a ReferenceCache, got {type(cache).__name__}")
        if len(cache.keys) != cfg.depth or len(cache.values) != cfg.depth:
            raise ValueError(f"reference_cache has {len(cache.keys)} layers, the model {cfg.depth}")
        want = (cfg.num_heads, cfg.tokens_per_image, cfg.head_dim)
        for i, (k, v) in enumerate(zip(cache.keys, cache.values)):
            if tuple(k.shape[1:]) != want or k.shape != v.shape or k.shape[0] not in (1, b):
                raise ValueError(f"reference_cache layer {i} keys {tuple(k.shape)} / values "
                                 f"{tuple(v.shape)} do not fit [{b} or 1, {want[0]}, {want[1]}, "
                                 f"{want[2]}]")
        ct = cache.timestep.to(timestep.device, torch.float32)
        if cache.batch_size not in (1, b) or bool((ct != timestep.float()).any()):
            raise ValueError(f"reference_cache was computed at timestep {cache.timestep.tolist()}, "
                             f"called with {timestep.tolist()}: a cache is per timestep")

"""PRoPE: cameras as relative positional encoding in attention.

Source: Li et al. 2025, "Cameras as Relative Positional Encoding" (arXiv 2507.10496,
NeurIPS 2025), section 3 ("PRoPE"); used by InSpatio-WorldFM (arXiv 2603.11911, section 2.4.1,
"Camera Pose Encoding"). Written from the paper's equations; the authors' reference code
(MIT) was read to match its conventions (normalised intrinsics, channel layout, RoPE
frequencies), not copied.

Every token ``i`` belongs to an image seen by a camera with projection matrix

    P_i = lift(K_norm) @ w2c          (4 x 4, "image <- world")

where ``w2c`` is the OpenCV world-to-camera transform (metres) and ``K_norm`` the pinhole
intrinsics divided by the image size with the principal point moved to the centre
(``fx / W, fy / H, cx / W - 0.5, cy / H - 0.5``). Per attention head the channels are split
into a projective half and a RoPE half. On the projective half, taken as groups of 4
channels, attention becomes

    q_i -> P_i^T q_i,   k_j -> P_j^-1 k_j,   v_j -> P_j^-1 v_j,   o_i -> P_i o_i

so the logit ``q_i^T P_i P_j^-1 k_j`` and the output ``sum_j a_ij P_i P_j^-1 v_j`` only depend
on the *relative* projective transform ``P_i P_j^-1``: a rigid motion of the whole world
(``w2c -> w2c @ G``) leaves attention unchanged, moving one camera relative to another does
not. The other half carries 2D rotary embeddings (RoPE, Su et al. 2021) of the token's patch
column x (one quarter of the channels) and row y (the last quarter), counted within its own
image, so tokens of one image also know their relative positions. Tokens of one image with
the same camera get ``P_i P_j^-1 = I`` and the projective half reduces to plain attention.

Channel layout of one head (``head_dim`` divisible by 8)::

    [ projective: head_dim/2 = (head_dim/8) blocks of 4 | RoPE x: head_dim/4 | RoPE y: head_dim/4 ]

with each RoPE quarter in "split" order (first half of the quarter rotated against its
second half). Tokens are laid out as ``V`` image blocks of ``grid_size ** 2`` tokens each,
row-major inside a block; block ``v`` uses camera ``v``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "ROPE_BASE",
    "PRoPE",
    "normalize_intrinsics",
    "projection_matrices",
    "prope_attention",
    "rope_coefficients",
]

ROPE_BASE = 100.0
"""RoPE frequency base over patch indices (Li et al. 2025 use 100 for image patches)."""


def normalize_intrinsics(K: torch.Tensor, image_width: int, image_height: int) -> torch.Tensor:
    """Intrinsics of an image of unit size centred on its principal axis.

    Args:
        K: ``[..., 3, 3]`` pinhole intrinsics in pixels (OpenCV: ``cx, cy`` from the top-left
            corner), no skew.
        image_width, image_height: image size the pixels refer to.

    Returns:
        ``[..., 3, 3]`` with ``fx / W``, ``fy / H``, ``cx / W - 0.5``, ``cy / H - 0.5``, same dtype.
    """
    out = torch.zeros_like(K)
    out[..., 0, 0] = K[..., 0, 0] / image_width
    out[..., 1, 1] = K[..., 1, 1] / image_height
    out[..., 0, 2] = K[..., 0, 2] / image_width - 0.5
    out[..., 1, 2] = K[..., 1, 2] / image_height - 0.5
    out[..., 2, 2] = 1.0
    return out


def projection_matrices(w2c: torch.Tensor, K: torch.Tensor, image_size: int
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """PRoPE's camera matrices ``P = lift(K_norm) @ w2c`` and their exact inverses.

    Computed in float32 (float64 if given) whatever the input dtype; the inverse is
    analytic (``w2c^-1 @ lift(K_norm^-1)``), which assumes ``w2c`` is rigid (a rotation and
    a translation) and K has no skew.

    Args:
        w2c: ``[..., 4, 4]`` OpenCV world-to-camera transforms, metres.
        K: ``[..., 3, 3]`` pinhole intrinsics in pixels of an ``image_size x image_size`` image.
        image_size: side of the square image, pixels.

    Returns:
        ``(P, P_inv)``, each ``[..., 4, 4]``.
    """
    dtype = torch.float64 if w2c.dtype == torch.float64 else torch.float32
    w2c = w2c.to(dtype)
    k = normalize_intrinsics(K.to(dtype), image_size, image_size)
    lift = torch.zeros(k.shape[:-2] + (4, 4), dtype=dtype, device=k.device)
    lift[..., :3, :3] = k
    lift[..., 3, 3] = 1.0
    lift_inv = torch.zeros_like(lift)
    lift_inv[..., 0, 0] = 1.0 / k[..., 0, 0]
    lift_inv[..., 1, 1] = 1.0 / k[..., 1, 1]
    lift_inv[..., 0, 2] = -k[..., 0, 2] / k[..., 0, 0]
    lift_inv[..., 1, 2] = -k[..., 1, 2] / k[..., 1, 1]
    lift_inv[..., 2, 2] = 1.0
    lift_inv[..., 3, 3] = 1.0
    r_t = w2c[..., :3, :3].transpose(-1, -2)
    c2w = torch.zeros_like(w2c)
    c2w[..., :3, :3] = r_t
    c2w[..., :3, 3] = -(r_t @ w2c[..., :3, 3:4])[..., 0]
    c2w[..., 3, 3] = 1.0
    return lift @ w2c, c2w @ lift_inv


def rope_coefficients(grid_size: int, num_channels: int, *, base: float = ROPE_BASE,
                      device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cosines and sines of 2D RoPE over the patch grid of one image.

    Frequencies ``base ** (-f / F)`` for ``f = 0 .. F-1``, ``F = num_channels / 2``; angles are
    the patch column (x) or row (y) index times the frequency.

    Args:
        grid_size: tokens per side of the image (square grid, row-major tokens).
        num_channels: channels of one RoPE quarter (``head_dim / 4``), even.
        base: frequency base.
        device: where to build them.
        dtype: their dtype (computed in float64).

    Returns:
        ``(cos_x, sin_x, cos_y, sin_y)``, each ``[grid_size ** 2, num_channels / 2]``.

    Raises:
        ValueError: ``num_channels`` odd or not positive.
    """
    if num_channels <= 0 or num_channels % 2:
        raise ValueError(f"RoPE needs an even, positive channel count, got {num_channels}")
    nf = num_channels // 2
    freqs = base ** (-torch.arange(nf, dtype=torch.float64, device=device) / nf)
    idx = torch.arange(grid_size, dtype=torch.float64, device=device)
    xs = idx.repeat(grid_size)  # column of each row-major token
    ys = idx.repeat_interleave(grid_size)  # row
    ax, ay = xs[:, None] * freqs, ys[:, None] * freqs
    return tuple(t.to(dtype) for t in (ax.cos(), ax.sin(), ay.cos(), ay.sin()))  # type: ignore[return-value]


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, inverse: bool) -> torch.Tensor:
    """RoPE on ``x [B, H, V, N, c]`` with ``cos/sin [N, c/2]`` (split channel order)."""
    a, b = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    if inverse:
        return torch.cat((cos * a - sin * b, sin * a + cos * b), dim=-1)
    return torch.cat((cos * a + sin * b, cos * b - sin * a), dim=-1)


@dataclass(frozen=True)
class PRoPE:
    """PRoPE transforms for a token sequence of ``V`` image blocks.

    Build with :meth:`from_cameras`; apply :meth:`query` to queries, :meth:`key_value` to keys
    and values and :meth:`output` to the attention output (all ``[B, heads, V * N, head_dim]``,
    ``N = grid_size ** 2``). Queries and keys may come from different :class:`PRoPE` objects
    (different views), as long as each tensor is transformed by the object describing its
    own tokens; :meth:`views` selects a subset of the blocks.

    Attributes:
        P: ``[B, V, 4, 4]`` projection matrices (``lift(K_norm) @ w2c``), float32 (float64
            for float64 cameras); cast to the features' dtype when applied.
        P_inv: ``[B, V, 4, 4]`` their inverses.
        cos_x, sin_x, cos_y, sin_y: ``[N, head_dim / 8]`` RoPE coefficients, same dtype as P.
    """

    P: torch.Tensor
    P_inv: torch.Tensor
    cos_x: torch.Tensor
    sin_x: torch.Tensor
    cos_y: torch.Tensor
    sin_y: torch.Tensor

    @classmethod
    def from_cameras(cls, w2c: torch.Tensor, K: torch.Tensor, *, image_size: int, grid_size: int,
                     head_dim: int) -> PRoPE:
        """Transforms for ``V`` images seen by the given cameras.

        Args:
            w2c: ``[B, V, 4, 4]`` OpenCV world-to-camera transforms (rigid), metres.
            K: ``[B, V, 3, 3]`` pinhole intrinsics in pixels of an ``image_size`` square image.
            image_size: image side in pixels (normalises K).
            grid_size: tokens per side of each image.
            head_dim: channels per head, divisible by 8.

        Raises:
            ValueError: bad shapes or ``head_dim``.
        """
        if head_dim <= 0 or head_dim % 8:
            raise ValueError(f"PRoPE needs head_dim divisible by 8, got {head_dim}")
        if w2c.ndim != 4 or w2c.shape[-2:] != (4, 4):
            raise ValueError(f"w2c must be [B, V, 4, 4], got {tuple(w2c.shape)}")
        if K.shape != w2c.shape[:2] + (3, 3):
            raise ValueError(f"K must be [B, V, 3, 3] = {tuple(w2c.shape[:2]) + (3, 3)}, "
                             f"got {tuple(K.shape)}")
        P, P_inv = projection_matrices(w2c, K, image_size)
        coeffs = rope_coefficients(grid_size, head_dim // 4, device=w2c.device, dtype=P.dtype)
        return cls(P, P_inv, *coeffs)

    @property
    def num_views(self) -> int:
        """V, the number of image blocks."""
        return self.P.shape[1]

    def views(self, start: int, stop: int) -> PRoPE:
        """The transforms of image blocks ``start .. stop - 1``."""
        return PRoPE(self.P[:, start:stop], self.P_inv[:, start:stop],
                     self.cos_x, self.sin_x, self.cos_y, self.sin_y)

    def _apply(self, x: torch.Tensor, mat: torch.Tensor, inverse_rope: bool) -> torch.Tensor:
        b, h, length, d = x.shape
        dtype = x.dtype
        v = mat.shape[1]
        n = self.cos_x.shape[0]
        if length != v * n or d % 8 or self.cos_x.shape[1] * 8 != d:
            raise ValueError(f"PRoPE for {v} views of {n} tokens and head_dim "
                             f"{self.cos_x.shape[1] * 8} cannot apply to {tuple(x.shape)}")
        if mat.shape[0] not in (1, b):
            raise ValueError(f"PRoPE batch {mat.shape[0]} does not match features batch {b}")
        # Half-precision features are transformed in float32 (metric translations in P lose
        # too much in bfloat16) and rounded once at the end.
        work = torch.promote_types(x.dtype, torch.float32)
        x = x.reshape(b, h, v, n, d).to(work)
        proj, rx, ry = x.split((d // 2, d // 4, d // 4), dim=-1)
        proj = proj.reshape(b, h, v, n, d // 8, 4)
        # out[..., i] = sum_j mat[b, v, i, j] * proj[..., j], per group of 4 channels
        # (autocast off: it would run this product in half precision).
        with torch.autocast(x.device.type, enabled=False):
            proj = torch.einsum("bvij,bhvnkj->bhvnki", mat.to(work), proj)
        proj = proj.reshape(b, h, v, n, d // 2)
        rx = _rotate(rx, self.cos_x, self.sin_x, inverse_rope)
        ry = _rotate(ry, self.cos_y, self.sin_y, inverse_rope)
        out = torch.cat((proj, rx, ry), dim=-1).reshape(b, h, length, d)
        return out.to(dtype)

    def query(self, q: torch.Tensor) -> torch.Tensor:
        """``P^T`` on the projective half, RoPE on the rest. ``[B, H, V*N, hd]`` in and out."""
        return self._apply(q, self.P.transpose(-1, -2), inverse_rope=False)

    def key_value(self, x: torch.Tensor) -> torch.Tensor:
        """``P^-1`` on the projective half, RoPE on the rest (keys and values alike)."""
        return self._apply(x, self.P_inv, inverse_rope=False)

    def output(self, o: torch.Tensor) -> torch.Tensor:
        """``P`` on the projective half, inverse RoPE on the rest (the attention output)."""
        return self._apply(o, self.P, inverse_rope=True)


def prope_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, q_prope: PRoPE,
                    kv_prope: PRoPE | None = None, attn_mask: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """Scaled dot-product attention with PRoPE (Li et al. 2025, section 3).

    Args:
        q: ``[B, H, Lq, hd]`` queries of the tokens ``q_prope`` describes.
        k, v: ``[B, H, Lk, hd]`` keys and values of the tokens ``kv_prope`` describes
            (default ``q_prope``: self-attention).
        q_prope, kv_prope: camera transforms of the query and key/value tokens.
        attn_mask: optional mask for :func:`torch.nn.functional.scaled_dot_product_attention`
            (boolean: True = may attend).

    Returns:
        ``[B, H, Lq, hd]``, same dtype as ``q``.
    """
    kv_prope = q_prope if kv_prope is None else kv_prope
    out = F.scaled_dot_product_attention(q_prope.query(q), kv_prope.key_value(k),
                                         kv_prope.key_value(v), attn_mask=attn_mask)
    return q_prope.output(out)

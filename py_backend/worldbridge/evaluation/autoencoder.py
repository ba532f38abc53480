"""Held-out round trip of an autoencoder: the ceiling of every frame-model number.

:func:`evaluate_autoencoder` encodes and decodes held-out frames at the resolution they are
given (the model's working resolution) and scores the reconstruction as it would be served:
decoded images are clamped and rounded to 8 bits (:func:`~worldbridge.models.tensor_to_rgb`)
before they are compared with the ground truth.

* PSNR is pooled over every frame: ``10 log10(1 / MSE)`` with ``MSE = SSE / (N * 3 * H * W)``,
  the squared error on the [0, 1] scale summed over all pixel-channels of all N frames
  (:func:`~worldbridge.evaluation.pooling.pooled_psnr`), so one perfect frame cannot make
  it infinite.
* SSIM is the mean over frames of :func:`~worldbridge.evaluation.metrics.ssim` (Wang et al.
  2004; 11 x 11 Gaussian window, sigma 1.5, windows fully inside the image).
* Encode and decode times are per image at batch 1, the median (and p95) over repeats
  after warm-up, with the PyTorch thread count and the machine's load average beside them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch

from worldbridge.evaluation.metrics import ssim
from worldbridge.evaluation.pooling import pooled_psnr

__all__ = ["evaluate_autoencoder", "heldout_images"]


def heldout_images(images: Any) -> torch.Tensor:
    """Held-out frames as a ``[N, 3, H, W]`` float32 tensor in ``[-1, 1]``.

    Args:
        images: uint8 RGB ``[N, H, W, 3]`` (numpy or torch; as recorded), or a floating
            ``[N, 3, H, W]`` tensor in ``[-1, 1]`` (returned as float32).

    Returns:
        ``[N, 3, H, W]`` float32 on the CPU (or on the input tensor's device).

    Raises:
        ValueError: any other dtype or shape, or no frames.
    """
    from worldbridge.models.autoencoder import rgb_to_tensor

    if isinstance(images, np.ndarray) or (isinstance(images, torch.Tensor)
                                          and images.dtype == torch.uint8):
        if images.dtype != np.uint8 and images.dtype != torch.uint8:
            raise ValueError(f"numpy images must be uint8 [N, H, W, 3], got {images.dtype}")
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"uint8 images must be [N, H, W, 3], got {tuple(images.shape)}")
        x = rgb_to_tensor(images)
    elif isinstance(images, torch.Tensor) and images.is_floating_point():
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"floating images must be [N, 3, H, W] in [-1, 1], got "
                             f"{tuple(images.shape)}")
        x = images.float()
    else:
        got = images.dtype if isinstance(images, (np.ndarray, torch.Tensor)) else type(images).__name__
        raise ValueError(f"images must be uint8 [N, H, W, 3] or floating [N, 3, H, W], got {got}")
    if x.shape[0] == 0:
        raise ValueError("no held-out images to evaluate")
    return x


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_ms(fn, repeats: int, warmup: int, device: torch.device) -> tuple[float, float]:
    """Median and p95 wall time of ``fn()`` over ``repeats`` calls after ``warmup``, ms."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times)), float(np.percentile(times, 95))


@torch.no_grad()
def evaluate_autoencoder(autoencoder: Any, images: Any, batch_size: int = 16,
                         timing_repeats: int = 20, timing_warmup: int = 3,
                         device: Any = None) -> dict[str, Any]:
    """Round-trip quality and speed of an autoencoder on held-out frames.

    Every frame is encoded (:meth:`~worldbridge.models.Autoencoder.encode`, the posterior
    mean) and decoded; the reconstruction is clamped and rounded to 8 bits, as served, and
    compared on the [0, 1] scale with the frame.

    Args:
        autoencoder: an :class:`~worldbridge.models.Autoencoder` (compact or diffusers);
            its training mode is kept (encode / decode are deterministic either way).
        images: the held-out frames, uint8 ``[N, H, W, 3]`` or floating ``[N, 3, H, W]`` in
            ``[-1, 1]`` (see :func:`heldout_images`), at the working resolution; H and W
            multiples of the autoencoder's f and at least 11 (the SSIM window).
        batch_size: frames per encode / decode call for the quality pass (> 0).
        timing_repeats: timed repeats of encode and of decode of one frame at batch 1
            (0: no timing).
        timing_warmup: untimed calls before them (>= 0).
        device: where to run (default: the autoencoder's device when it has one, else CPU).

    Returns:
        A JSON-able dict: ``psnr`` (dB, pooled over all frames), ``ssim`` (mean over
        frames), ``psnr_frame_min`` / ``psnr_frame_median`` (per-frame PSNR, dB),
        ``ssim_frame_min``, ``frames``, ``height``, ``width``, ``latent_shape``
        ``[C, h, w]``, ``quantized`` (True: 8-bit reconstruction), ``device``,
        ``threads`` (torch intra-op threads), ``load_average`` (1, 5, 15 min, at the
        start); with timing also ``encode_ms`` / ``decode_ms`` (median per image, batch 1)
        and ``encode_ms_p95`` / ``decode_ms_p95``, ``timing_repeats`` and
        ``load_average_after``.

    Raises:
        ValueError: bad images (see :func:`heldout_images`), sizes that are not multiples
            of f or smaller than the SSIM window, or a bad ``batch_size`` /
            ``timing_repeats`` / ``timing_warmup``.
    """
    from worldbridge.models.autoencoder import tensor_to_rgb

    for name, v, lo in (("batch_size", batch_size, 1), ("timing_repeats", timing_repeats, 0),
                        ("timing_warmup", timing_warmup, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    x = heldout_images(images)
    # 8-bit ground truth stays exact (k / 255); floating input is compared as given
    exact = isinstance(images, np.ndarray) or images.dtype == torch.uint8
    n, _, h, w = x.shape
    f = int(autoencoder.downsample)
    if h % f or w % f:
        raise ValueError(f"held-out frames of {h} x {w} pixels are not multiples of the "
                         f"autoencoder's downsampling factor f = {f}")
    if h < 11 or w < 11:
        raise ValueError(f"held-out frames must be at least 11 x 11 pixels (SSIM window), "
                         f"got {h} x {w}")
    if device is None:
        device = getattr(autoencoder, "device", None) or "cpu"
    dev = torch.device(device)
    load = [round(v, 2) for v in os.getloadavg()]
    sse = 0.0
    frame_psnr: list[float] = []
    frame_ssim: list[torch.Tensor] = []
    latent_shape: list[int] = []
    for batch in x.split(batch_size):
        z = autoencoder.encode(batch.to(dev))
        latent_shape = list(z.shape[1:])
        recon = torch.from_numpy(tensor_to_rgb(autoencoder.decode(z).cpu()))
        recon = recon.permute(0, 3, 1, 2).double().div_(255.0)
        truth = batch.cpu().double().add(1.0).mul_(0.5)
        if exact:
            truth = truth.mul_(255.0).round_().div_(255.0)
        err = (recon - truth).square().sum(dim=(1, 2, 3))
        sse += float(err.sum())
        frame_psnr += [pooled_psnr(float(e), 3 * h * w) for e in err]
        frame_ssim.append(ssim(recon, truth))
    ssims = torch.cat(frame_ssim)
    report: dict[str, Any] = {
        "psnr": pooled_psnr(sse, n * 3 * h * w),
        "ssim": float(ssims.mean()),
        "psnr_frame_min": float(min(frame_psnr)),
        "psnr_frame_median": float(np.median(frame_psnr)),
        "ssim_frame_min": float(ssims.min()),
        "frames": int(n), "height": int(h), "width": int(w), "latent_shape": latent_shape,
        "quantized": True, "device": str(dev), "threads": torch.get_num_threads(),
        "load_average": load,
    }
    if timing_repeats > 0:
        one = x[:1].to(dev)
        z1 = autoencoder.encode(one)
        enc = _time_ms(lambda: autoencoder.encode(one), timing_repeats, timing_warmup, dev)
        dec = _time_ms(lambda: autoencoder.decode(z1), timing_repeats, timing_warmup, dev)
        report.update(encode_ms=enc[0], encode_ms_p95=enc[1], decode_ms=dec[0],
                      decode_ms_p95=dec[1], timing_repeats=timing_repeats,
                      load_average_after=[round(v, 2) for v in os.getloadavg()])
    return report

"""Texture encoding and decoding: RGB frames to the wire's Texture formats and back.

Raw formats (RGBA8, BGRA8, RGB8) are tightly packed rows with the stated row order; alpha
is 255. JPEG and PNG are encoded with OpenCV and always top row first.
"""

from __future__ import annotations

import enum
import io

import cv2
import numpy as np
from PIL import Image

from worldbridge.errors import InvalidInput

__all__ = ["TextureFormat", "RowOrder", "TextureError", "encode_texture", "decode_texture", "image_header_size"]


class TextureFormat(enum.IntEnum):
    """Values equal ``worldbridge.v1.TextureFormat``."""

    UNSPECIFIED = 0
    RGBA8 = 1
    BGRA8 = 2
    RGB8 = 3
    JPEG = 4
    PNG = 5


class RowOrder(enum.IntEnum):
    """Values equal ``worldbridge.v1.RowOrder``; UNSPECIFIED means TOP_DOWN."""

    UNSPECIFIED = 0
    TOP_DOWN = 1
    BOTTOM_UP = 2


class TextureError(InvalidInput):
    """A texture whose format, size or bytes are wrong."""


_CHANNELS = {TextureFormat.RGBA8: 4, TextureFormat.BGRA8: 4, TextureFormat.RGB8: 3}


def _fmt(value: int) -> TextureFormat:
    try:
        fmt = TextureFormat(int(value))
    except ValueError:
        raise TextureError(f"unknown texture format {value!r}") from None
    if fmt is TextureFormat.UNSPECIFIED:
        raise TextureError("texture format is UNSPECIFIED")
    return fmt


def _row_order(value: int) -> RowOrder:
    try:
        return RowOrder(int(value))
    except ValueError:
        raise TextureError(f"unknown row order {value!r}") from None


def encode_texture(rgb: np.ndarray, fmt: int, row_order: int = RowOrder.TOP_DOWN,
                   jpeg_quality: int = 90) -> bytes:
    """Encode an RGB image for the wire.

    Args:
        rgb: ``[H, W, 3]`` uint8 RGB, top row first.
        fmt: a :class:`TextureFormat`.
        row_order: row order of raw formats (ignored for JPEG/PNG).
        jpeg_quality: 1..100.

    Returns:
        The texture bytes (``H * W * 4`` for RGBA8/BGRA8).

    Raises:
        TextureError: bad format, row order, quality or image shape.
    """
    fmt = _fmt(fmt)
    order = _row_order(row_order)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise TextureError(f"expected [H, W, 3] uint8 RGB, got {rgb.shape} {rgb.dtype}")
    if fmt is TextureFormat.JPEG:
        if not 1 <= jpeg_quality <= 100:
            raise TextureError(f"jpeg_quality must be in 1..100, got {jpeg_quality}")
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        return buf.tobytes()
    if fmt is TextureFormat.PNG:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_PNG_COMPRESSION, 1])
        return buf.tobytes()
    if order is RowOrder.BOTTOM_UP:
        rgb = rgb[::-1]
    if fmt is TextureFormat.RGB8:
        return np.ascontiguousarray(rgb).tobytes()
    code = cv2.COLOR_RGB2RGBA if fmt is TextureFormat.RGBA8 else cv2.COLOR_RGB2BGRA
    return cv2.cvtColor(np.ascontiguousarray(rgb), code).tobytes()


def image_header_size(data: bytes, fmt: int) -> tuple[int, int]:
    """``(width, height)`` from a JPEG or PNG header, without decoding the pixels (Pillow reads
    the header only).

    Raises:
        TextureError: not a readable image of that format.
    """
    fmt = _fmt(fmt)
    try:
        with Image.open(io.BytesIO(data)) as im:
            kind, size = im.format, im.size
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise TextureError(f"could not read the {fmt.name} header of {len(data)} bytes: {e}") from None
    if kind != fmt.name:
        raise TextureError(f"texture says {fmt.name} but its bytes are {kind}")
    return int(size[0]), int(size[1])


def decode_texture(data: bytes, width: int, height: int, fmt: int,
                   row_order: int = RowOrder.TOP_DOWN) -> np.ndarray:
    """Decode wire texture bytes to ``[H, W, 3]`` uint8 RGB, top row first.

    Raises:
        TextureError: unknown format, byte length that does not match the size, an
            undecodable JPEG/PNG, or a decoded image whose size differs from width x height.
    """
    fmt = _fmt(fmt)
    order = _row_order(row_order)
    if width <= 0 or height <= 0:
        raise TextureError(f"texture size must be > 0, got {width}x{height}")
    if fmt in (TextureFormat.JPEG, TextureFormat.PNG):
        # The header's size is checked before decoding: a few hundred kB of PNG can decode
        # to gigabytes (a decompression bomb).
        header_size = image_header_size(data, fmt)
        if header_size != (width, height):
            raise TextureError(f"{fmt.name} header says {header_size[0]}x{header_size[1]}, message "
                               f"says {width}x{height}")
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise TextureError(f"could not decode {fmt.name} texture of {len(data)} bytes")
        if img.shape[:2] != (height, width):
            raise TextureError(f"{fmt.name} texture is {img.shape[1]}x{img.shape[0]}, message "
                               f"says {width}x{height}")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    c = _CHANNELS[fmt]
    if len(data) != width * height * c:
        raise TextureError(f"{fmt.name} texture {width}x{height} needs {width * height * c} "
                           f"bytes, got {len(data)}")
    img = np.frombuffer(data, np.uint8).reshape(height, width, c)
    if order is RowOrder.BOTTOM_UP:
        img = img[::-1]
    if fmt is TextureFormat.RGB8:
        return np.ascontiguousarray(img)
    code = cv2.COLOR_RGBA2RGB if fmt is TextureFormat.RGBA8 else cv2.COLOR_BGRA2RGB
    return cv2.cvtColor(np.ascontiguousarray(img), code)

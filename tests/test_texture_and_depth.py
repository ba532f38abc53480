"""Texture formats/row orders and depth encodings, both directions."""

import numpy as np
import pytest

from worldbridge.geometry import DepthEncoding, DepthError, DepthKind, Intrinsics, decode_depth, encode_depth
from worldbridge.wire.texture import RowOrder, TextureError, TextureFormat, decode_texture, encode_texture

RGB = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)


def test_rgba8_layout_and_alpha():
    data = encode_texture(RGB, TextureFormat.RGBA8)
    px = np.frombuffer(data, np.uint8).reshape(6, 5, 4)
    np.testing.assert_array_equal(px[..., :3], RGB)
    assert (px[..., 3] == 255).all()


def test_bgra8_is_unreal_order():
    px = np.frombuffer(encode_texture(RGB, TextureFormat.BGRA8), np.uint8).reshape(6, 5, 4)
    np.testing.assert_array_equal(px[..., 0], RGB[..., 2])
    np.testing.assert_array_equal(px[..., 2], RGB[..., 0])


def test_bottom_up_puts_the_last_row_first():
    px = np.frombuffer(encode_texture(RGB, TextureFormat.RGBA8, RowOrder.BOTTOM_UP), np.uint8).reshape(6, 5, 4)
    np.testing.assert_array_equal(px[0, :, :3], RGB[-1])


@pytest.mark.parametrize("fmt", [TextureFormat.RGBA8, TextureFormat.BGRA8, TextureFormat.RGB8, TextureFormat.PNG])
@pytest.mark.parametrize("order", [RowOrder.TOP_DOWN, RowOrder.BOTTOM_UP])
def test_lossless_round_trips(fmt, order):
    out = decode_texture(encode_texture(RGB, fmt, order), 5, 6, fmt, order)
    np.testing.assert_array_equal(out, RGB)


def test_jpeg_round_trip_is_close():
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (64, 1, 3))
    out = decode_texture(encode_texture(smooth, TextureFormat.JPEG, jpeg_quality=95), 64, 64, TextureFormat.JPEG)
    assert np.abs(out.astype(int) - smooth).mean() < 2


def test_texture_errors():
    with pytest.raises(TextureError, match="needs 120 bytes, got 7"):
        decode_texture(b"1234567", 5, 6, TextureFormat.RGBA8)
    with pytest.raises(TextureError, match="unknown texture format 42"):
        decode_texture(b"", 5, 6, 42)
    with pytest.raises(TextureError, match="could not read the PNG header of 7 bytes"):
        decode_texture(b"garbage", 5, 6, TextureFormat.PNG)


def test_compressed_sizes_are_read_from_the_header_before_decoding():
    import cv2

    ok, png = cv2.imencode(".png", np.zeros((600, 800), np.uint8))
    with pytest.raises(TextureError, match="PNG header says 800x600, message says 64x48"):
        decode_texture(png.tobytes(), 64, 48, TextureFormat.PNG)
    ok, jpeg = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(TextureError, match="texture says PNG but its bytes are JPEG"):
        decode_texture(jpeg.tobytes(), 64, 48, TextureFormat.PNG)
    assert decode_texture(jpeg.tobytes(), 64, 48, TextureFormat.JPEG).shape == (48, 64, 3)
    # a decompression bomb: 280 kB of PNG that would decode to 16384 x 16384 (256 MiB)
    ok, bomb = cv2.imencode(".png", np.zeros((16384, 16384), np.uint8))
    assert len(bomb) < 400_000
    with pytest.raises(TextureError, match="PNG header"):
        decode_texture(bomb.tobytes(), 64, 64, TextureFormat.PNG)


Z = np.array([[0.5, 1.25, 0.0], [2.0, np.inf, 10.0]], np.float32)


@pytest.mark.parametrize("enc, tol", [(DepthEncoding.FLOAT32_M, 0), (DepthEncoding.FLOAT16_M, 5e-3),
                                      (DepthEncoding.UINT16_MM, 1e-3)])
def test_depth_round_trip_keeps_invalid_and_sky(enc, tol):
    z = decode_depth(encode_depth(Z, enc), 3, 2, enc, DepthKind.PLANAR_Z)
    # +inf (sky) survives the float encodings; millimetres have no sky, only 0 (invalid)
    expected = np.where(np.isinf(Z), 0, Z) if enc == DepthEncoding.UINT16_MM else Z
    np.testing.assert_allclose(z, expected, atol=tol)
    assert z.dtype == np.float32


def test_ray_distance_becomes_planar_z():
    k = Intrinsics(2.0, 2.0, 1.5, 1.0, 3, 2)
    # a fronto-parallel plane at z = 4: ray distance grows off-axis
    u = (np.arange(3) + 0.5 - 1.5) / 2.0
    v = (np.arange(2) + 0.5 - 1.0) / 2.0
    ray = 4.0 * np.sqrt(u[None] ** 2 + v[:, None] ** 2 + 1)
    z = decode_depth(ray.astype("<f4").tobytes(), 3, 2, DepthEncoding.FLOAT32_M, DepthKind.RAY_DISTANCE, k)
    np.testing.assert_allclose(z, 4.0, rtol=1e-6)


@pytest.mark.parametrize("data, enc, kind, match", [
    (b"\0" * 23, DepthEncoding.FLOAT32_M, DepthKind.PLANAR_Z, "needs 24 bytes, got 23"),
    (np.full(6, np.nan, "<f4").tobytes(), DepthEncoding.FLOAT32_M, DepthKind.PLANAR_Z, "NaN"),
    (np.full(6, -1, "<f4").tobytes(), DepthEncoding.FLOAT32_M, DepthKind.PLANAR_Z, "negative"),
    (b"\0" * 24, 0, DepthKind.PLANAR_Z, "UNSPECIFIED"),
    (b"\0" * 24, DepthEncoding.FLOAT32_M, 7, "DepthKind"),
    (b"\0" * 24, DepthEncoding.FLOAT32_M, DepthKind.RAY_DISTANCE, "needs intrinsics"),
])
def test_depth_errors(data, enc, kind, match):
    with pytest.raises(DepthError, match=match):
        decode_depth(data, 3, 2, enc, kind)

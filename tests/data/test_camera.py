"""`camera.preprocess`: decode errors, and a 512 camera JPEG read back at model resolution."""

from __future__ import annotations

import numpy as np
import pytest

from splitvlm.data import Sample, render
from splitvlm.data.camera import (
    camera_image,
    encode_image,
    preprocess,
)
from splitvlm.errors import ImageError

from . import spec

PALETTE = np.array(list(spec.COLORS.values()), dtype=np.float32)  # (6, 3)


def _jpeg(held_out: list[Sample]) -> bytes:
    return encode_image(camera_image(held_out[0].scene, np.random.default_rng(0)))


def test_empty_bytes_raise_image_decode_error() -> None:
    with pytest.raises(ImageError, match="empty"):
        preprocess(b"", 64)


def test_garbage_bytes_raise_image_decode_error_with_reason() -> None:
    with pytest.raises(ImageError, match=r"cannot decode 12 image bytes"):
        preprocess(b"not an image", 64)


def test_truncated_jpeg_raises_image_decode_error(held_out: list[Sample]) -> None:
    data = _jpeg(held_out)
    with pytest.raises(ImageError, match="cannot decode") as info:
        preprocess(data[: len(data) // 2], 64)
    assert isinstance(info.value, ValueError) and info.value.__cause__ is not None


def test_model_resolution_png_passes_through_unchanged(held_out: list[Sample]) -> None:
    pixels = render(held_out[1].scene, 64)
    assert np.array_equal(preprocess(encode_image(pixels, fmt="PNG"), 64), pixels)


def _read_cell(window: np.ndarray, background: float) -> str | None:
    """A cell's colour name from noisy pixels: median of the clearly non-gray ones."""
    far = np.abs(window.astype(np.float32) - background).max(axis=-1) > 80  # (h, w)
    if far.sum() < 3:
        return None
    rgb = np.median(window[far].astype(np.float32), axis=0)  # (3,)
    return list(spec.COLORS)[int(np.argmin(((PALETTE - rgb) ** 2).sum(axis=1)))]


def test_camera_jpeg_downscales_with_cells_still_readable(held_out: list[Sample]) -> None:
    for i, s in enumerate(held_out[:24]):
        camera = camera_image(s.scene, np.random.default_rng(i))
        assert camera.shape == (512, 512, 3) and camera.dtype == np.uint8
        data = encode_image(camera)
        assert data[:2] == b"\xff\xd8"  # a JPEG
        pixels = preprocess(data, 64)
        assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
        by_cell = {o.cell: o for o in s.scene.objects}
        for cell in range(9):
            window = pixels[spec.cell_window(cell, 64)]
            obj = by_cell.get(cell)
            assert _read_cell(window, s.scene.background) == (obj and obj.color), (i, cell)
            if obj is None:  # an empty cell stays near the background level
                assert np.abs(window[4:-4, 4:-4].astype(int) - s.scene.background).max() <= 10
                continue
            cx, cy = spec.centre_px(obj, 64)
            centre = pixels[int(cy), int(cx)].astype(int)
            assert np.abs(centre - spec.COLORS[obj.color]).max() <= 16, (i, obj, centre)


def test_a_large_jpeg_decodes_at_a_reduced_scale_to_nearly_the_same_pixels() -> None:
    from splitvlm.data.camera import DRAFT_ABOVE_PIXELS, decode_for_model, decode_image, downscale

    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:3000, 0:2000]
    photo = np.stack([(x // 7) % 256, (y // 5) % 256, ((x + y) // 11) % 256], axis=-1)
    photo = (photo + rng.normal(0, 3, photo.shape)).clip(0, 255).astype(np.uint8)
    jpeg = encode_image(photo)
    assert photo.shape[0] * photo.shape[1] > DRAFT_ABOVE_PIXELS
    pixels, mpix = decode_for_model(jpeg, 64)
    full = downscale(decode_image(jpeg), 64)
    assert mpix == 6.0 and pixels.shape == full.shape == (64, 64, 3)  # the size as sent
    assert np.abs(pixels.astype(int) - full.astype(int)).mean() < 2.0  # of 255
    frame = encode_image(photo[:512, :512])  # a camera frame: decoded in full, as trained
    assert np.array_equal(decode_for_model(frame, 64)[0], downscale(decode_image(frame), 64))

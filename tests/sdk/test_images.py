"""image_bytes: paths, bytes, PIL images and uint8 arrays of 1, 3 or 4 channels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from splitvlm.errors import ImageError
from splitvlm.sdk import image_bytes


def _decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        assert img.mode == "RGB"
        return np.asarray(img)


@pytest.mark.parametrize("shape", [(8, 6), (8, 6, 1), (8, 6, 3), (8, 6, 4)],
                         ids=["gray", "gray-1", "rgb", "rgba"])
def test_arrays_of_any_channel_count_become_rgb(shape: tuple[int, ...]) -> None:
    array = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    rgb = _decoded(image_bytes(array))
    assert rgb.shape == (8, 6, 3)
    gray = array.reshape(8, 6, -1)
    assert np.array_equal(rgb, np.repeat(gray, 3, axis=2) if gray.shape[2] == 1
                          else gray[:, :, :3])


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((4, 4, 3), np.float32), "must be uint8, got float32"),
    (np.zeros((4, 4, 2), np.uint8), r"got \(4, 4, 2\)"),
    (np.zeros((2, 4, 4, 3), np.uint8), r"got \(2, 4, 4, 3\)"),
])
def test_unusable_arrays_say_why(array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        image_bytes(array)


def test_files_and_bytes_go_as_they_are(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "x.png"
    path.write_bytes(b"\x89PNG data")
    assert image_bytes(path) == image_bytes(str(path)) == b"\x89PNG data"
    with pytest.raises(FileNotFoundError, match="no image file"):
        image_bytes(path.with_name("missing.png"))
    with pytest.raises(TypeError, match="cannot send a dict"):
        image_bytes({})  # type: ignore[arg-type]

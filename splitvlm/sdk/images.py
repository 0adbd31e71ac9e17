"""Whatever image a caller has -> the bytes the edge takes (JPEG/PNG)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

ImageLike = str | Path | bytes | np.ndarray | Any  # Any: a PIL.Image.Image


def image_bytes(image: ImageLike) -> bytes:
    """A path, encoded bytes, a PIL image or an (H, W, 3) uint8 array -> JPEG/PNG bytes.

    Arrays and PIL images are sent as lossless PNG; files and bytes go as they are.
    """
    if isinstance(image, bytes):
        return image
    if isinstance(image, str | Path):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}")
        return path.read_bytes()
    from PIL import Image

    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"an image array must be (H, W, 3) uint8, got {image.shape} "
                             f"{image.dtype}")
        image = Image.fromarray(image)
    if isinstance(image, Image.Image):
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
    raise TypeError(f"cannot send a {type(image).__name__} as an image; give a path, bytes, "
                    "a PIL image or an (H, W, 3) uint8 numpy array")

"""Whatever image a caller has -> the bytes the edge takes (JPEG/PNG)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from splitvlm.errors import ImageError

if TYPE_CHECKING:
    from PIL import Image

ImageLike = Union[str, Path, bytes, np.ndarray, "Image.Image"]  # noqa: UP007 - a forward ref


def image_bytes(image: ImageLike) -> bytes:
    """A path, encoded bytes, a PIL image or a uint8 array -> JPEG/PNG bytes.

    Arrays may be (H, W) grayscale, (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA; they and PIL
    images are sent as lossless PNG in RGB. Files and bytes go as they are (the edge decodes
    them; a file that is not an image is refused there).
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
        image = Image.fromarray(_rgb_array(image))
    if isinstance(image, Image.Image):
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
    raise TypeError(f"cannot send a {type(image).__name__} as an image; give a path, bytes, "
                    "a PIL image or a uint8 numpy array (H, W[, 1|3|4])")


def _rgb_array(array: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 -> (H, W, 3) uint8."""
    if array.dtype != np.uint8:
        raise ImageError(f"an image array must be uint8, got {array.dtype}; scale it to "
                         "0..255 and use .astype(np.uint8)")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim == 3 and array.shape[2] == 4:
        return array[:, :, :3]  # alpha dropped: the models see colour only
    if array.ndim == 3 and array.shape[2] == 3:
        return array
    raise ImageError(f"an image array must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got "
                     f"{array.shape}")

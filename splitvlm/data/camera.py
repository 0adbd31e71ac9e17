"""Camera-style originals and the `preprocess` stage (numpy + PIL, no torch).

A camera renders the scene at a higher resolution with sensor noise and sends JPEG; the edge
downscales to model resolution. Training mixes such images in so that the visual side sees
what a deployed edge feeds it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from splitvlm.data.scenes import Scene, render
from splitvlm.errors import ImageError
from splitvlm.limits import MAX_IMAGE_PIXELS

CAMERA_SIZE = 512
CAMERA_NOISE_SIGMA = 4.0
CAMERA_JPEG_QUALITY = 90
DRAFT_ABOVE_PIXELS = 4_000_000  # larger JPEGs decode at a reduced scale (see decode_image)
DRAFT_MARGIN = 8  # ... keeping at least this many pixels per model pixel a side


def camera_image(
    scene: Scene, rng: np.random.Generator, size: int = CAMERA_SIZE,
    noise_sigma: float = CAMERA_NOISE_SIGMA,
) -> np.ndarray:
    """The scene at camera resolution with Gaussian sensor noise: (size, size, 3) uint8."""
    clean = render(scene, size).astype(np.float32)
    noisy = clean + rng.normal(0.0, noise_sigma, clean.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def encode_image(
    pixels: np.ndarray, fmt: str = "JPEG", quality: int = CAMERA_JPEG_QUALITY
) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    else:
        Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def decode_image(data: bytes, target: int | None = None) -> np.ndarray:
    """JPEG/PNG bytes -> (H, W, 3) uint8 RGB. Raises ImageError with the reason.

    `target`: the side the pixels will be downscaled to. A JPEG of more than DRAFT_ABOVE_PIXELS
    then decodes at a reduced scale (libjpeg's DCT scaling, 1/2 to 1/8, never below
    DRAFT_MARGIN x `target` a side): a photo costs a fraction of its full decode. Camera frames
    (512x512) decode in full, as the models were trained on them."""
    return _decode(data, target)[0]


def decode_for_model(data: bytes, size: int) -> tuple[np.ndarray, float]:
    """(pixels at model resolution (size, size, 3) uint8, megapixels of the image as sent)."""
    pixels, mpix = _decode(data, size)
    return downscale(pixels, size), mpix


def _decode(data: bytes, target: int | None) -> tuple[np.ndarray, float]:
    if not data:
        raise ImageError("image is empty (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            pixels = img.width * img.height
            if pixels > MAX_IMAGE_PIXELS:
                raise ImageError(f"image is {img.width}x{img.height} = "
                                 f"{pixels / 1e6:.0f} megapixels, over the "
                                 f"limit of {MAX_IMAGE_PIXELS / 1e6:.0f}; downscale it first")
            if target is not None and img.format == "JPEG" and pixels > DRAFT_ABOVE_PIXELS:
                img.draft("RGB", (DRAFT_MARGIN * target, DRAFT_MARGIN * target))
            img.load()
            return np.asarray(img.convert("RGB")), pixels / 1e6
    except UnidentifiedImageError as exc:
        raise ImageError(f"cannot decode {len(data)} image bytes as JPEG/PNG: not an image "
                         f"format PIL knows (they start {data[:8]!r})") from exc
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:  # PIL refuses these before we see the size
        raise ImageError(f"image is over the limit of {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels "
                         f"({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(
            f"cannot decode {len(data)} image bytes as JPEG/PNG ({exc})"
        ) from exc


def downscale(pixels: np.ndarray, size: int) -> np.ndarray:
    """Area-average (box filter) to (size, size, 3) uint8; a no-op at model resolution."""
    if pixels.shape[:2] == (size, size):
        return pixels
    img = Image.fromarray(pixels).resize((size, size), Image.Resampling.BOX)
    return np.asarray(img)


def preprocess(data: bytes, size: int) -> np.ndarray:
    """The `preprocess` stage: image bytes -> pixels at model resolution (size, size, 3) uint8."""
    return decode_for_model(data, size)[0]

"""Content hashing: the one hash function of the system, and the feature-cache key.

    content_hash(data)                      -> 32 hex chars (blake2b, 16-byte digest)
    feature_key(pixels, visual_version)     -> content_hash(header(shape, version) + pixels)

A feature key names the visual tokens an image produces: the same preprocessed pixels through
the same visual model version give the same tokens, so any tier may reuse them.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIGEST_BYTES = 16  # blake2b digest size; hex strings are twice as long


def content_hash(data: bytes, *more: bytes) -> str:
    """blake2b-128 hex digest of `data` then `more` (the same as hashing their concatenation)."""
    h = hashlib.blake2b(data, digest_size=DIGEST_BYTES)
    for part in more:
        h.update(part)
    return h.hexdigest()


def feature_key(pixels: np.ndarray, visual_version: str) -> str:
    """Cache key of the visual tokens for `pixels` (uint8, H×W×3 at model resolution).

    The shape and the version string enter a length-prefixed header, so no two (shape,
    version, pixels) triples share the bytes that are hashed.
    """
    if pixels.dtype != np.uint8:
        raise ValueError(f"pixels.dtype={pixels.dtype}; expected uint8 preprocessed pixels")
    if not visual_version:
        raise ValueError("visual_version=''; expected the visual model's version hash")
    version = visual_version.encode()
    shape = "x".join(str(d) for d in pixels.shape)
    header = f"splitvlm.feature.v1 shape={shape} version={len(version)}:".encode() + version
    return content_hash(header, b"\n", np.ascontiguousarray(pixels).tobytes())

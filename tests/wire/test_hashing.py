"""content_hash and feature_key."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from splitvlm.wire import content_hash, feature_key


def _pixels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)


def test_content_hash_is_blake2b_128_of_the_concatenation() -> None:
    expected = hashlib.blake2b(b"abcdef", digest_size=16).hexdigest()
    assert content_hash(b"abcdef") == content_hash(b"abc", b"def") == expected
    assert len(expected) == 32


def test_feature_key_depends_on_pixels_shape_and_version() -> None:
    px = _pixels()
    key = feature_key(px, "v1")
    assert key == feature_key(px.copy(), "v1")
    assert key == feature_key(np.asfortranarray(px), "v1")  # layout does not matter
    others = {
        feature_key(_pixels(1), "v1"),
        feature_key(px, "v2"),
        feature_key(px.reshape(4, 16, 3), "v1"),  # same bytes, other shape
    }
    assert key not in others and len(others) == 3


def test_feature_key_validates_inputs() -> None:
    with pytest.raises(ValueError, match="pixels.dtype=float32"):
        feature_key(np.zeros((2, 2, 3), np.float32), "v1")
    with pytest.raises(ValueError, match="visual_version=''"):
        feature_key(_pixels(), "")

"""Near-duplicate frames: a perceptual hash finds the key frame a new frame may repeat, and
its pixels decide: a frame that differs from it by less than a threshold is asked about as
the key frame's image (the edge then reuses the visual tokens it computed for it).

    keys = KeyFrames(threshold=4.0)
    phash = perceptual_hash(pixels)      # once per frame
    match = keys.match(pixels, phash)    # a KeyFrame, or None: this frame is a new key frame
    keys.add(KeyFrame(pixels, png, phash))

The exact content hash (splitvlm.wire.feature_key) names an image; the perceptual hash (a
64-bit difference hash of the frame in gray) finds images that look alike, so a scene that
comes back after a cut also matches. A camera's sensor noise changes every frame's content
hash and hardly any bit of the perceptual one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PIL import Image

HASH_SIDE = 8  # an 8x8 grid of left-right differences: 64 bits
HASH_MARGIN = 2.0  # gray levels
MAX_HASH_DISTANCE = 10  # bits: key frames further than this are not compared pixel by pixel
KEY_FRAMES = 32  # scenes remembered per source


def perceptual_hash(pixels: np.ndarray) -> int:
    """The difference hash of (S, S, 3) uint8 pixels: gray, (8, 9) cells, each cell brighter
    than its right neighbour by more than HASH_MARGIN sets a bit (so that a flat background's
    noise sets none)."""
    gray = Image.fromarray(pixels).convert("F").resize((HASH_SIDE + 1, HASH_SIDE),
                                                       Image.Resampling.BOX)
    cells = np.asarray(gray, dtype=np.float32)
    bits = (cells[:, :-1] > cells[:, 1:] + HASH_MARGIN).flatten()
    return int(np.packbits(bits).view(">u8")[0])


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two frames' pixels (0..255)."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@dataclass
class KeyFrame:
    pixels: np.ndarray
    png: bytes  # what its near-duplicates are asked about as
    phash: int


class KeyFrames:
    def __init__(self, threshold: float, entries: int = KEY_FRAMES) -> None:
        self.threshold = threshold
        self._entries: OrderedDict[int, KeyFrame] = OrderedDict()
        self.entries = entries

    def match(self, pixels: np.ndarray, phash: int) -> KeyFrame | None:
        """The key frame `pixels` (of perceptual hash `phash`) is a near-duplicate of (closest
        hash first), or None."""
        if self.threshold <= 0 or not self._entries:
            return None
        near = sorted((bin(phash ^ h).count("1"), h) for h in self._entries)
        for distance, h in near:
            if distance > MAX_HASH_DISTANCE:
                break
            key = self._entries[h]
            if difference(pixels, key.pixels) < self.threshold:
                self._entries.move_to_end(h)
                return key
        return None

    def add(self, key: KeyFrame) -> None:
        self._entries[key.phash] = key
        self._entries.move_to_end(key.phash)
        while len(self._entries) > self.entries:
            self._entries.popitem(last=False)

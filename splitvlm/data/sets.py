"""Fixed, type-balanced shapes-vqa v1 sets and dense per-cell targets.

Training draws from `TRAIN_STREAM`, held-out sets from `TEST_STREAM`: two disjoint numpy seed
sequences, so no held-out scene can come from a training seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitvlm.data.questions import QA, QTYPES, sample_qa
from splitvlm.data.scenes import COLOR_NAMES, GRID, SHAPES, SIZE_NAMES, Scene, render

TRAIN_STREAM = 1
TEST_STREAM = 2
TEST_PER_TYPE = 200  # held-out questions per type (9 types)
CALIBRATION_STREAM = 9  # cascade calibration: neither training, validation nor held out


@dataclass(frozen=True)
class Sample:
    scene: Scene
    qa: QA

    def image(self, size: int = 64) -> np.ndarray:
        return render(self.scene, size)  # (size, size, 3) uint8


def rng_for(stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([stream, index])


def held_out_set(per_type: int = TEST_PER_TYPE, seed: int = 0) -> list[Sample]:
    """The fixed held-out set: `per_type` questions of each of the nine types, interleaved."""
    return _per_type_set(rng_for(TEST_STREAM, seed), per_type)


def calibration_set(per_type: int = TEST_PER_TYPE) -> list[Sample]:
    """The set cascade thresholds are calibrated on, laid out as the held-out set."""
    return _per_type_set(rng_for(CALIBRATION_STREAM, 0), per_type)


def _per_type_set(rng: np.random.Generator, per_type: int) -> list[Sample]:
    out = []
    for _ in range(per_type):
        for qtype in QTYPES:
            scene, qa = sample_qa(qtype, rng)
            out.append(Sample(scene, qa))
    return out


def train_samples(n: int, index: int) -> list[Sample]:
    """`n` training samples, types cycled evenly, from training batch number `index`."""
    rng = rng_for(TRAIN_STREAM, index)
    out = []
    for i in range(n):
        scene, qa = sample_qa(QTYPES[i % len(QTYPES)], rng)
        out.append(Sample(scene, qa))
    return out


# Dense targets for the visual side: per cell, occupied / shape / colour / size.
# Attribute targets are -1 (ignored) for empty cells.


def cell_targets(scene: Scene) -> np.ndarray:
    """(9, 4) int64: occupied, shape, colour and size index per cell (-1 where empty)."""
    out = np.full((GRID * GRID, 4), -1, dtype=np.int64)
    out[:, 0] = 0
    for obj in scene.objects:
        out[obj.cell] = (
            1,
            SHAPES.index(obj.shape),
            COLOR_NAMES.index(obj.color),
            SIZE_NAMES.index(obj.size),
        )
    return out

"""Shared, session-cached samples: generating them dominates the run time of tests/data."""

from __future__ import annotations

import pytest

from splitvlm.data import Sample, held_out_set, train_samples

HELD_OUT_PER_TYPE = 300  # its first 200 rounds are the default test set
TRAIN_BATCHES, TRAIN_BATCH = 20, 1000  # 20000 training samples


@pytest.fixture(scope="session")
def held_out() -> list[Sample]:
    return held_out_set(per_type=HELD_OUT_PER_TYPE)


@pytest.fixture(scope="session")
def training() -> list[Sample]:
    return [s for i in range(TRAIN_BATCHES) for s in train_samples(TRAIN_BATCH, i)]


@pytest.fixture(scope="session")
def samples(held_out: list[Sample], training: list[Sample]) -> dict[str, list[Sample]]:
    return {"test": held_out, "train": training}

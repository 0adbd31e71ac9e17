"""Fixed sets: deterministic, type-balanced, and disjoint from the training streams."""

from __future__ import annotations

from collections import Counter

from splitvlm.data import Sample, train_samples
from splitvlm.data import held_out_set as make_test_set

from . import spec


def test_test_set_is_deterministic(held_out: list[Sample]) -> None:
    first = make_test_set()
    assert first == make_test_set()
    assert first == held_out[: len(first)]  # a larger set extends the default one


def test_test_set_is_type_balanced_with_200_per_type() -> None:
    counts = Counter(s.qa.qtype for s in make_test_set())
    assert set(counts) == set(spec.QTYPES)
    assert set(counts.values()) == {200}


def test_test_set_size_follows_per_type() -> None:
    counts = Counter(s.qa.qtype for s in make_test_set(per_type=7, seed=3))
    assert counts == dict.fromkeys(spec.QTYPES, 7)


def test_test_seeds_give_different_sets() -> None:
    a = {s.scene for s in make_test_set(per_type=5, seed=0)}
    b = {s.scene for s in make_test_set(per_type=5, seed=1)}
    assert not a & b


def test_training_batches_cycle_types_evenly(training: list[Sample]) -> None:
    batch = training[:1000]
    counts = Counter(s.qa.qtype for s in batch)
    assert set(counts) == set(spec.QTYPES)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert train_samples(1000, 0) == batch  # deterministic per batch index


def test_training_batches_differ(training: list[Sample]) -> None:
    scenes = [s.scene for s in training]
    assert len(set(scenes)) == len(scenes)  # 20 batches, no scene twice


def test_held_out_scenes_never_occur_in_training(
    held_out: list[Sample], training: list[Sample]
) -> None:
    test_scenes = {s.scene for s in held_out[:2000]}  # background, objects and jitter
    assert len(test_scenes) == 2000
    train_scenes = {s.scene for s in training}
    assert len(train_scenes) == 20000
    assert not test_scenes & train_scenes

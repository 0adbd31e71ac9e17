"""The scene distribution of shapes-vqa v1: objects, cells, background, jitter, attributes."""

from __future__ import annotations

from collections import Counter

import numpy as np

from splitvlm.data import Sample, sample_scene

from . import spec


def _scenes(samples: dict[str, list[Sample]]) -> list:
    return [s.scene for group in samples.values() for s in group]


def test_objects_are_one_to_five_in_distinct_cells(samples: dict[str, list[Sample]]) -> None:
    counts = Counter()
    for scene in _scenes(samples):
        cells = [o.cell for o in scene.objects]
        assert 1 <= len(cells) <= 5
        assert len(set(cells)) == len(cells)
        assert all(0 <= c < 9 for c in cells)
        counts[len(cells)] += 1
    assert set(counts) == {1, 2, 3, 4, 5}


def test_background_is_a_gray_level_in_0_to_60(samples: dict[str, list[Sample]]) -> None:
    levels = Counter(scene.background for scene in _scenes(samples))
    assert all(isinstance(v, int) for v in levels)
    assert min(levels) == 0 and max(levels) == spec.MAX_BACKGROUND
    assert len(levels) == spec.MAX_BACKGROUND + 1  # every level occurs


def test_jitter_stays_within_40_percent_of_the_slack(samples: dict[str, list[Sample]]) -> None:
    reach = []  # |offset| / allowed offset, per axis
    for scene in _scenes(samples):
        for o in scene.objects:
            allowed = spec.JITTER * (0.5 - spec.SIZE_RADIUS[o.size])
            reach += [o.dx / allowed, o.dy / allowed]
    reach_arr = np.array(reach)
    assert np.abs(reach_arr).max() <= 1.0
    assert np.abs(reach_arr).max() > 0.99  # the whole range is used ...
    assert abs(reach_arr.mean()) < 0.02  # ... centred on the cell centre
    assert abs(np.mean(np.abs(reach_arr)) - 0.5) < 0.02  # ... uniformly


def test_attributes_cover_all_values(samples: dict[str, list[Sample]]) -> None:
    objects = [o for scene in _scenes(samples) for o in scene.objects]
    assert {o.shape for o in objects} == set(spec.SHAPES)
    assert {o.color for o in objects} == set(spec.COLORS)
    assert {o.size for o in objects} == set(spec.SIZE_RADIUS)
    assert {o.cell for o in objects} == set(range(9))


def test_unconditioned_scenes_use_every_object_count_evenly() -> None:
    rng = np.random.default_rng(123)
    counts = Counter(len(sample_scene(rng).objects) for _ in range(3000))
    assert set(counts) == {1, 2, 3, 4, 5}
    assert all(abs(n / 3000 - 0.2) < 0.04 for n in counts.values()), counts

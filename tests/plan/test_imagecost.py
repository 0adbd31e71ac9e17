"""Preprocess priced by image size: a robust line in megapixels, learnt online."""

from __future__ import annotations

import pytest

from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.imagecost import WINDOW, ImageCost
from splitvlm.plan.links import LinkSet
from splitvlm.plan.load import LoadTracker
from splitvlm.plan.plan import Tier
from splitvlm.plan.planner import Measurement, Planner
from splitvlm.plan.profiles import ComputeProfile
from splitvlm.plan.request import PlanRequest
from splitvlm.stages import StageGraph

CAMERA, PHOTO = 0.262, 12.0  # a 512x512 frame, a 4000x3000 photo


def test_the_line_through_two_measured_sizes_prices_a_third() -> None:
    cost = ImageCost([(CAMERA, 0.004), (2.36, 0.034)])
    assert cost.s_per_mpix == pytest.approx(0.030 / (2.36 - CAMERA))
    assert cost.seconds(PHOTO) == pytest.approx(0.004 + cost.s_per_mpix * (PHOTO - CAMERA))
    with pytest.raises(ValueError, match="Mpix"):
        cost.observe(0.0, 0.1)
    with pytest.raises(ValueError, match="at least one"):
        ImageCost([])


def test_one_slow_execution_moves_neither_coefficient() -> None:
    cost = ImageCost([(CAMERA, 0.004), (2.36, 0.034)])
    for _ in range(6):
        cost.observe(CAMERA, 0.004)
    before = (cost.base_s, cost.s_per_mpix)
    cost.observe(CAMERA, 0.300)  # a GC pause, a CPU-quota stall
    assert (cost.base_s, cost.s_per_mpix) == pytest.approx(before)


def test_one_size_alone_keeps_the_slope_and_moves_the_base() -> None:
    cost = ImageCost([(CAMERA, 0.004), (2.36, 0.034)])
    for _ in range(WINDOW):  # a slower device now: every frame takes 2 ms more
        cost.observe(CAMERA, 0.006)
    slope = cost.s_per_mpix  # fitted while the large image was still in the window
    assert slope > 0.01
    for _ in range(5):
        cost.observe(CAMERA, 0.006)
    assert cost.s_per_mpix == slope
    assert cost.seconds(CAMERA) == pytest.approx(0.006)


def _planner(graph: StageGraph) -> Planner:
    profile = ComputeProfile.from_dict(graph, {
        "stages": {"edge": {"fp32": {s.name: 1e-3 for s in graph.stages[:graph.prefill + 1]}}},
        "decode": {"edge": {"1": 1e-3}},
        "preprocess": {"edge": [[CAMERA, 0.004], [2.36, 0.034]]},
    })
    links = LinkSet.of((8e6, 0.01), (80e6, 0.02))
    return Planner(graph, profile, links, LoadTracker(), AccuracyTable.uniform({Tier.EDGE: 1}))


def test_large_photos_are_priced_and_do_not_misprice_the_frames_after_them(
        graph: StageGraph) -> None:
    planner = _planner(graph)
    q = "how many circles are there ?"

    def predicted(mpix: float) -> float:
        request = PlanRequest(q, 50_000, image_mpix=mpix, policy=frozenset({"offline"}))
        return planner.plan(request).prediction.latency_s

    frame_s, photo_s = predicted(CAMERA), predicted(PHOTO)
    assert photo_s - frame_s == pytest.approx(0.030 / (2.36 - CAMERA) * (PHOTO - CAMERA))
    plan = planner.plan(PlanRequest(q, 50_000, image_mpix=PHOTO,
                                    policy=frozenset({"offline"}))).plan
    for seconds in (0.167, 0.320, 0.250):  # three 4000x3000 JPEGs, slower than the line
        planner.record(plan, Measurement(seconds, {graph.preprocess: seconds},
                                         image_mpix=PHOTO))
    # Frames still cost a frame: the steeper line moves them by under 2 ms (one flat price
    # would have jumped to the photos' ~250 ms).
    assert predicted(CAMERA) == pytest.approx(frame_s, abs=2e-3)
    assert predicted(PHOTO) > photo_s  # and the photos were learnt from


def test_profiles_carry_their_image_cost_through_a_document(graph: StageGraph) -> None:
    profile = _planner(graph).cost.profile
    again = ComputeProfile.from_report(graph, profile.to_report())
    assert again.preprocess_s(Tier.EDGE, PHOTO) == pytest.approx(
        profile.preprocess_s(Tier.EDGE, PHOTO))
    assert again.preprocess_s(Tier.FOG, PHOTO) is None  # the fog never measured preprocess
    assert again.preprocess_s(Tier.EDGE, None) == 1e-3  # unknown size: the flat entry

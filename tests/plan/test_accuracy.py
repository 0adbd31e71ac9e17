from __future__ import annotations

import numpy as np
import pytest

from splitvlm.data.questions import QTYPES, sample_qa
from splitvlm.plan.accuracy import AccuracyTable, wilson
from splitvlm.plan.plan import Precision, Tier
from splitvlm.plan.qtype import ANSWER_TOKENS, UNKNOWN, classify


def test_classifier_labels_every_question_type_of_generated_questions() -> None:
    rng = np.random.default_rng(0)
    for qtype in QTYPES:
        for _ in range(25):
            _, qa = sample_qa(qtype, rng)
            assert classify(qa.question) == qtype, qa.question


def test_classifier_unknown_and_normalisation() -> None:
    assert classify("What  COLOR is the circle ?") == "color"
    assert classify("what is the answer ?") == UNKNOWN
    assert classify("") == UNKNOWN
    assert set(ANSWER_TOKENS) == {*QTYPES, UNKNOWN}
    assert ANSWER_TOKENS["caption"] > ANSWER_TOKENS["color"]


def test_table_lookups_and_fallbacks() -> None:
    table = AccuracyTable.from_dict({
        "cloud": {"fp32": {"color": 0.99, "relate": 0.9}, "int8": {"color": 0.95}},
        "edge": {"fp32": {"color": 0.8, "relate": 0.4}},
    }, resolution=0.0)  # the fallbacks alone; pooling has its own test
    assert table.expected(Tier.CLOUD, "color", Precision.INT8) == 0.95
    assert table.expected(Tier.EDGE, "relate", Precision.INT8) == 0.4  # no int8 row: fp32
    assert table.expected(Tier.CLOUD, UNKNOWN) == pytest.approx(0.945)  # the row's mean
    assert table.expected(Tier.CLOUD, "count") == pytest.approx(0.945)  # missing type: mean
    assert table.expected(Tier.CLOUD, "not a type") == pytest.approx(0.945)
    assert table.expected(Tier.FOG, "color") == 0.0  # unmeasured tier
    assert AccuracyTable.from_dict(table.to_dict()).to_dict() == table.to_dict()
    assert AccuracyTable.uniform({Tier.FOG: 0.7}).expected(Tier.FOG, "where") == 0.7
    with pytest.raises(ValueError, match=r"accuracy\[edge\]\[fp32\]\[color\]=1.5"):
        AccuracyTable.from_dict({"edge": {"fp32": {"color": 1.5}}})
    with pytest.raises(ValueError, match="malformed"):
        AccuracyTable.from_dict({"mars": {"fp32": {"color": 0.5}}})


def test_precisions_closer_than_the_resolution_read_their_mean() -> None:
    doc = {"edge": {"fp32": {"exist": 0.995, "color": 0.9}, "int8": {"exist": 0.99,
                                                                    "color": 0.8}}}
    table = AccuracyTable.from_dict(doc)  # one question of 200 apart on exist: noise
    assert table.expected(Tier.EDGE, "exist", Precision.FP32) == pytest.approx(0.9925)
    assert table.expected(Tier.EDGE, "exist", Precision.INT8) == pytest.approx(0.9925)
    assert table.expected(Tier.EDGE, "color", Precision.INT8) == 0.8  # 10 pt apart: kept
    exact = AccuracyTable.from_dict(doc, resolution=0.0)
    assert exact.expected(Tier.EDGE, "exist", Precision.FP32) == 0.995
    assert table.to_dict() == doc  # what was measured is kept as measured


def test_with_n_precisions_within_their_sampling_error_read_their_mean() -> None:
    doc = {"questions_per_type": 200, "tiers": {"edge": {
        "fp32": {"exist": 0.995, "color": 0.9, "relate": 1.0},
        "int8": {"exist": 0.97, "color": 0.8, "relate": 0.985}}}}
    table = AccuracyTable.from_dict(doc)
    # 0.995 vs 0.97 of 200 each: 2.5 pt apart, within 1.96 standard errors (2.56 pt)
    assert table.expected(Tier.EDGE, "exist", Precision.INT8) == pytest.approx(0.9825)
    assert table.expected(Tier.EDGE, "color", Precision.INT8) == 0.8  # 10 pt: 2.8 errors
    assert table.expected(Tier.EDGE, "relate", Precision.FP32) == pytest.approx(0.9925)
    assert table.to_dict() == doc  # the file keeps what was measured, and n
    with pytest.raises(ValueError, match="questions_per_type"):
        AccuracyTable.from_dict({**doc, "questions_per_type": 0})


def test_intervals_are_wilson_intervals_of_n_questions() -> None:
    table = AccuracyTable.from_dict({"questions_per_type": 200, "tiers": {
        "cloud": {"fp32": {"relate": 0.97, "color": 1.0}}}})
    low, high = table.interval(Tier.CLOUD, "relate")
    assert low == pytest.approx(0.9361, abs=1e-4) and high == pytest.approx(0.9862, abs=1e-4)
    low, high = table.interval(Tier.CLOUD, "color")
    assert high == 1.0 and low == pytest.approx(0.9812, abs=1e-4)  # 200 of 200 is not 100 %
    assert wilson(0.5, 10_000) == pytest.approx((0.4902, 0.5098), abs=1e-4)
    exact = AccuracyTable.from_dict({"cloud": {"fp32": {"relate": 0.97}}})
    assert exact.interval(Tier.CLOUD, "relate") == (0.97, 0.97)  # written by hand: no n

"""Every answer recomputed from the scene objects with tests/data/spec.py, not the generator."""

from __future__ import annotations

from collections import Counter

import pytest

from splitvlm.data import QTYPES, Sample

from . import spec

SOURCES = ("test", "train")


def of_type(samples: list[Sample], qtype: str) -> list[Sample]:
    return [s for s in samples if s.qa.qtype == qtype]


def test_question_types_are_the_spec_types() -> None:
    assert tuple(QTYPES) == spec.QTYPES


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("qtype", spec.QTYPES)
def test_answers_match_the_spec(
    samples: dict[str, list[Sample]], source: str, qtype: str
) -> None:
    picked = of_type(samples[source], qtype)
    assert len(picked) >= 300
    for s in picked:
        q = s.qa.question
        assert spec.asked_when(s.scene, qtype, q), f"{qtype} not askable: {q!r} on {s.scene}"
        assert s.qa.answer == spec.reference_answer(s.scene, qtype, q), (q, s.scene)


def test_exist_is_yes_about_half_the_time(training: list[Sample]) -> None:
    answers = Counter(s.qa.answer for s in of_type(training, "exist"))
    assert set(answers) == {"yes", "no"}
    assert 0.45 <= answers["yes"] / answers.total() <= 0.55, answers


def _occupied_relations(s: Sample) -> tuple[list[str], str]:
    q = spec.parse("relate", s.qa.question)
    (subject,) = spec.matching(s.scene.objects, q["color"], q["shape"])
    return [r for r in spec.RELATIONS if spec.neighbour(s.scene.objects, subject, r)], q[
        "relation"
    ]


def test_relate_points_at_an_occupied_neighbour_half_the_time(training: list[Sample]) -> None:
    hits = []
    for s in of_type(training, "relate"):
        occupied, relation = _occupied_relations(s)
        if occupied:
            hits.append(relation in occupied)
    assert len(hits) >= 800
    assert 0.44 <= sum(hits) / len(hits) <= 0.56, sum(hits) / len(hits)


def test_relate_without_neighbours_answers_nothing(training: list[Sample]) -> None:
    alone = [s for s in of_type(training, "relate") if not _occupied_relations(s)[0]]
    assert len(alone) >= 100
    assert {s.qa.answer for s in alone} == {"nothing"}
    assert {_occupied_relations(s)[1] for s in alone} == set(spec.RELATIONS)


def test_questions_cover_every_form_and_answer(training: list[Sample]) -> None:
    slots: dict[str, Counter[str]] = {t: Counter() for t in spec.QTYPES}
    answers: dict[str, set[str]] = {t: set() for t in spec.QTYPES}
    for s in training:
        slots[s.qa.qtype].update(spec.parse(s.qa.qtype, s.qa.question).keys())
        answers[s.qa.qtype].add(s.qa.answer)
    assert slots["count"]["shape"] > 0 and slots["count"]["color"] > 0
    assert slots["compare"]["shape_a"] > 0 and slots["compare"]["color_a"] > 0
    assert answers["color"] == set(spec.COLORS)
    assert answers["shape"] == set(spec.SHAPES)
    assert answers["where"] == set(spec.CELL_NAMES)
    assert answers["size"] == set(spec.SIZE_RADIUS)
    assert set(spec.NUMBERS[:5]) <= answers["count"] <= set(spec.NUMBERS)
    assert answers["exist"] == answers["compare"] == {"yes", "no"}
    assert "nothing" in answers["relate"] and len(answers["relate"]) > 10


def test_compare_yes_only_when_strictly_more(training: list[Sample]) -> None:
    ties = 0
    for s in of_type(training, "compare"):
        q = spec.parse("compare", s.qa.question)
        key = "shape" if "shape_a" in q else "color"
        na, nb = (len(spec.matching(s.scene.objects, **{key: q[f"{key}_{x}"]})) for x in "ab")
        ties += na == nb
        assert (s.qa.answer == "yes") == (na > nb)
    assert ties > 0  # equal counts occur and must answer "no"

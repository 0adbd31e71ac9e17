"""`splitvlm demo` end to end: three tiers in one process, every bundled question answered with
its plan, stage timings and the fixed-plan comparison."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from splitvlm.demo import COMPARED, EXAMPLES_DIR, run_demo


@pytest.mark.timeout(240)
def test_demo_answers_every_bundled_question(checkpoints: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads((EXAMPLES_DIR / "examples.json").read_text())
    questions = [qa["question"] for entry in manifest for qa in entry["questions"]]
    assert run_demo() == 0
    out = capsys.readouterr().out
    for question in questions:
        assert f"Q: {question}   [plan auto]" in out
    assert out.count("answer: ") == len(questions)
    assert out.count("(predicted ") == len(questions)  # the planner's prediction beside it
    assert re.search(rf"^\d+/{len(questions)} answers correct \(auto\)", out, re.M)
    for plan in COMPARED:
        assert re.search(rf"^   {re.escape(plan)} +[\d.]+ ms  edge-fog +\d+ B", out, re.M)

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


def _answers(out: str) -> list[str]:
    """Each question with its plan and answer, and each fixed plan's comparison answer."""
    lines = out.splitlines()
    asked = [f"{q} -> {a}" for q, a in zip(
        [line for line in lines if line.startswith("Q: ")],
        [line.strip() for line in lines if line.strip().startswith("answer: ")], strict=True)]
    compared = [re.sub(r" +[\d.]+ ms .*LM:", " LM:", line) for line in lines
                if any(line.startswith(f"   {plan} ") for plan in COMPARED)]
    return asked + compared


@pytest.mark.timeout(240)
def test_the_in_process_demo_answers_as_the_grpc_one(checkpoints: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    fixed = list(COMPARED)  # fixed plans, so that both runs place every stage alike
    assert run_demo(plans=fixed, transport="local") == 0
    local = capsys.readouterr().out
    assert run_demo(plans=fixed, transport="grpc") == 0
    over_grpc = capsys.readouterr().out
    assert "joined without gRPC" in local and "over loopback gRPC" in over_grpc
    assert _answers(local) == _answers(over_grpc)
    assert len(_answers(local)) == 12 + len(COMPARED)

"""`splitvlm hf eval`: the user's eval file scored against the model's own answers, written as
the accuracy table the edge's planner reads."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from splitvlm.cli import main
from splitvlm.data.camera import encode_image
from splitvlm.errors import BadRequest
from splitvlm.model.hf import load
from splitvlm.plan.accuracy import AccuracyTable
from splitvlm.plan.plan import Precision, Tier
from splitvlm.runtime.hf_eval import correct, read_eval_file
from splitvlm.runtime.hf_stages import HFText, HFVisual


def test_answers_are_scored_as_vqa_normalises_them() -> None:
    assert correct("Two.", "two") and correct("the red circle", "red circle")
    assert not correct("two circles", "two")
    assert correct("two circles", "two", "contains") and not correct("twofold", "two",
                                                                      "contains")


def test_the_table_counts_right_and_wrong_answers(tiny_dir: Callable[[str], Path],
                                                  tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_dir("idefics3"), model)
    family = load(model)
    text, s = HFText(family), family.image_size
    lines = []
    for i in range(4):  # right answers (the model's own, fp32) for 0 and 2, wrong for 1, 3
        pixels = np.random.default_rng(i).integers(0, 256, (s, s, 3), dtype=np.uint8)
        (tmp_path / f"{i}.png").write_bytes(encode_image(pixels, "PNG"))
        question = f"w{i} w{i + 1} ?"
        visual = HFVisual(family).run(pixels[None], 1, family.graph.prefill)
        own = text.text_of(family.generate(visual, text.prompt(question), 24))
        lines.append({"image": f"{i}.png", "question": question, "type": "count",
                      "answer": own if i % 2 == 0 else "certainly not this"})
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["hf", "eval", str(model), "--eval", str(eval_file)]) == 0
    table = json.loads((model / "accuracy.json").read_text())
    assert table["questions_per_type"] == 4
    assert table["tiers"]["cloud"]["fp32"] == {"count": 0.5}
    planner_view = AccuracyTable.from_dict(table)
    assert planner_view.expected(Tier.FOG, "count", Precision.FP32) == 0.5


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text('{"image": "x.png", "question": "q"}\n')
    with pytest.raises(BadRequest, match="eval.jsonl:1"):
        read_eval_file(eval_file)

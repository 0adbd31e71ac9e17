"""A Hugging Face VLM's accuracy table from the user's own eval file: what the planner reads.

    splitvlm hf eval DIR --eval questions.jsonl      # writes DIR/accuracy.json

The eval file has one JSON object per line: {"image": "a.jpg" (relative to the file),
"question": "...", "answer": "...", "type": "count" (optional)}. Each question is answered
greedily by the model with its visual tokens from fp32 torch vision and from the edge's INT8
ONNX prefix (the two precisions a plan may choose), and scored by normalised exact match (or
`contains`: the expected answer appears in the model's). Every tier serves the same model, so
every tier's row is the same model's; they differ by vision precision only.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from splitvlm.data.camera import preprocess
from splitvlm.errors import BadRequest
from splitvlm.model.hf.family import Family
from splitvlm.plan.plan import TIERS, Precision

OVERALL = "overall"  # the row's key for questions without a type


@dataclass(frozen=True)
class EvalItem:
    image: Path
    question: str
    answer: str
    qtype: str


def read_eval_file(path: Path) -> list[EvalItem]:
    """The eval file's items; BadRequest naming the line of a bad one."""
    items = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            item = EvalItem(path.parent / str(doc["image"]), str(doc["question"]),
                            str(doc["answer"]), str(doc.get("type", OVERALL)))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BadRequest(f"{path}:{number}: expected an object with image, question and "
                             f"answer (and optionally type): {exc}") from exc
        if not item.image.is_file():
            raise BadRequest(f"{path}:{number}: no image file {item.image}")
        items.append(item)
    if not items:
        raise BadRequest(f"{path} has no questions")
    return items


def vqa_form(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces: how VQA compares free-text
    answers (splitvlm.evaluate.normalise, for shapes-vqa's fixed answers, only folds spaces)."""
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    return " ".join(w for w in words if w not in ("a", "an", "the"))


def correct(answer: str, expected: str, match: str = "exact") -> bool:
    got, want = vqa_form(answer), vqa_form(expected)
    return got == want if match == "exact" else f" {want} " in f" {got} "


def evaluate(family: Family, items: list[EvalItem], onnx_dir: Path, match: str = "exact",
             max_new_tokens: int = 24) -> dict[str, Any]:
    """{precision: {qtype: accuracy}} and the per-item answers."""
    from splitvlm.runtime.hf_stages import HFText, HFVisual
    from splitvlm.runtime.ort import OrtVisual

    fp32, int8 = HFVisual(family), OrtVisual(onnx_dir, "int8")
    text = HFText(family)
    graph = family.graph
    precisions = (Precision.FP32, Precision.INT8)
    hits: dict[Precision, dict[str, list[bool]]] = {p: defaultdict(list) for p in precisions}
    answers = []
    for item in items:
        pixels = preprocess(item.image.read_bytes(), graph.image_size)[None]  # (1, S, S, 3)
        prompt = text.prompt(text.check(item.question))
        for precision in precisions:
            visual = (int8.run(pixels, graph.prefill) if precision is Precision.INT8
                      else fp32.run(pixels, graph.patch_embed, graph.prefill))
            said = text.text_of(family.generate(np.asarray(visual, np.float32), prompt,
                                                max_new_tokens))
            hits[precision][item.qtype].append(correct(said, item.answer, match))
            answers.append({"question": item.question, "precision": precision.value,
                            "answer": said, "expected": item.answer})
    rows = {p.value: {q: float(np.mean(v)) for q, v in by_type.items()}
            for p, by_type in hits.items()}
    n = min(len(v) for by_type in hits.values() for v in by_type.values())
    return {"rows": rows, "questions_per_type": n, "answers": answers}


def accuracy_table(result: dict[str, Any]) -> dict[str, Any]:
    """The planner's accuracy.json: the same model's rows on every tier."""
    return {"questions_per_type": result["questions_per_type"],
            "tiers": {tier.value: result["rows"] for tier in TIERS}}

"""`splitvlm eval`: a tier's LM on the held-out set, fed by torch fp32 or ONNX INT8 vision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from splitvlm.data.sets import held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluate import evaluate
from splitvlm.model import zoo
from splitvlm.runtime.visual import visual_tokens


def run_eval(lm_tier: str, vision: str, per_type: int, checkpoints: Path) -> dict[str, Any]:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    tok = Tokenizer()
    lm = zoo.load_lm(lm_tier, checkpoints)
    encode = visual_tokens(vision, checkpoints)

    def answer(pixels: np.ndarray, questions: list[str]) -> list[str]:
        visual = torch.from_numpy(encode(pixels)).float()
        prompts = [tok.encode(q) + [tok.ans_id] for q in questions]
        return [tok.decode(ids) for ids in lm.generate(visual, prompts, tok.pad_id, tok.eos_id)]

    with torch.no_grad():
        score = evaluate(answer, held_out_set(per_type))
    return {"lm": lm_tier, "vision": vision, **score.to_dict()}


def run_calibration(per_type: int, checkpoints: Path) -> dict[str, Any]:
    """The cascade calibration rows (splitvlm.plan.calibration): the edge LM's answers on INT8
    vision with their confidence, and whether each LM answered right; writes
    CHECKPOINTS/calibration.json and returns a summary of the curves."""
    import json

    from splitvlm.data.sets import calibration_set
    from splitvlm.evaluate import normalise
    from splitvlm.plan.calibration import UPSTREAM, Calibration, Row

    torch.set_num_threads(max(1, torch.get_num_threads()))
    tok = Tokenizer()
    encode = visual_tokens("int8", checkpoints)
    lms = {tier: zoo.load_lm(tier, checkpoints) for tier in zoo.LM_TIERS}
    samples = calibration_set(per_type)
    rows: list[Row] = []
    for start in range(0, len(samples), 256):
        chunk = samples[start:start + 256]
        visual = torch.from_numpy(encode(np.stack([s.image() for s in chunk]))).float()
        prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in chunk]
        with torch.no_grad():
            edge = lms["edge"].generate_scored(visual, prompts, tok.pad_id, tok.eos_id)
            up = {u: lms[u.value].generate(visual, prompts, tok.pad_id, tok.eos_id)
                  for u in UPSTREAM}

        def right(ids: list[int], sample: Any) -> bool:
            return normalise(tok.decode(ids)) == normalise(sample.qa.answer)

        rows += [Row(s.qa.qtype, conf, right(ids, s), {u: right(up[u][i], s) for u in UPSTREAM})
                 for i, (s, (ids, conf)) in enumerate(zip(chunk, edge, strict=True))]
    calibration = Calibration(rows)
    (checkpoints / "calibration.json").write_text(json.dumps(calibration.to_dict()) + "\n")
    return calibration_summary(calibration)


def calibration_summary(calibration: Any) -> dict[str, Any]:
    from splitvlm.plan.calibration import TOLERANCE, UPSTREAM

    out: dict[str, Any] = {}
    for u in UPSTREAM:
        thresholds = {p: calibration.threshold(p, u) for p in TOLERANCE}
        out[u.value] = {
            "upstream_accuracy": calibration.accuracy(u, "unknown", 1.0),
            "edge_accuracy": calibration.accuracy(u, "unknown", 0.0),
            "presets": {p: {"threshold": t, "escalation_rate": calibration.p_escalate(
                u, "unknown", t), "accuracy": calibration.accuracy(u, "unknown", t)}
                for p, t in thresholds.items() if t is not None},
        }
    return out


def write_table(per_type: int, checkpoints: Path) -> dict[str, Any]:
    """The planner's accuracy table: every LM tier x vision precision, per question type."""
    import json

    table: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    for tier in zoo.LM_TIERS:
        for vision in ("fp32", "int8"):
            result = run_eval(tier, vision, per_type, checkpoints)
            table.setdefault(tier, {})[vision] = result["by_type"]
            summary[f"{tier}/{vision}"] = {"overall": result["overall"], "n": result["n"]}
    doc = {"questions_per_type": per_type, "tiers": table}  # AccuracyTable.from_dict's format
    (checkpoints / "accuracy.json").write_text(json.dumps(doc, indent=2) + "\n")
    return {"overall": summary, "by_type": table}

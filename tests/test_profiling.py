"""`splitvlm profile` on the test checkpoints: every stage, FLOPs checked two ways, parameter
and boundary accounting, and the shape of the timing figures (runs=3 for speed)."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from splitvlm.model import zoo
from splitvlm.model.vlm import VisualSide
from splitvlm.profiling import profile_report, render_profile
from splitvlm.profiling.measure import WARMUP, interleaved_ms
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding, codec

RUNS = 3
Row = dict[str, Any]


@pytest.fixture(scope="module")
def visual(checkpoints: Path) -> VisualSide:
    return zoo.load_visual(checkpoints)


@pytest.fixture(scope="module")
def graph(visual: VisualSide) -> StageGraph:
    return StageGraph.from_visual_config(dataclasses.asdict(visual.cfg))


@pytest.fixture(scope="module")
def report(checkpoints: Path) -> dict[str, Any]:
    threads = torch.get_num_threads()
    doc = profile_report(checkpoints, runs=RUNS)
    assert torch.get_num_threads() == threads  # restored after the 1-thread measurements
    return doc


def _row(report: dict[str, Any], stage: str, tier: str | None = None) -> Row:
    (row,) = [r for r in report["stages"] if r["stage"] == stage and r["tier"] == tier]
    return row


def _flops(fn: Any, *args: Any) -> int:
    with FlopCounterMode(display=False) as counter:  # needs grad mode on
        fn(*args)
    return int(counter.get_total_flops())


def test_report_has_every_stage_once_per_lm_tier(report: dict[str, Any],
                                                 graph: StageGraph) -> None:
    visual_names = [s.name for s in graph.stages[:graph.prefill]]
    assert [r["stage"] for r in report["stages"] if r["tier"] is None] == visual_names
    lm_rows = [(r["stage"], r["tier"]) for r in report["stages"] if r["tier"] is not None]
    assert lm_rows == [(k, t) for t in zoo.LM_TIERS for k in ("prefill", "decode")]
    assert set(report["lm_decode"]) == set(zoo.LM_TIERS)
    json.dumps(report)  # the --json path


def test_flops_match_a_hand_computation(report: dict[str, Any], visual: VisualSide) -> None:
    v = visual.cfg.vision
    n, d, p, r = (v.image_size // v.patch_size) ** 2, v.dim, v.patch_size, v.mlp_ratio
    projections = 4 * (2 * n * d * d)  # q, k, v, out: each a d -> d linear on n tokens
    attention = 2 * (2 * n * n * d)  # q @ k^T, then softmax(.) @ v
    mlp = 2 * (2 * n * d * r * d)  # d -> r·d -> d
    for block in range(v.depth):
        assert _row(report, f"vision[{block}]")["flops"] == projections + attention + mlp
    assert _row(report, "patch_embed")["flops"] == 2 * n * (3 * p * p) * d
    assert _row(report, "preprocess")["flops"] is None


def test_flops_equal_torch_flop_counter(report: dict[str, Any], visual: VisualSide,
                                        checkpoints: Path) -> None:
    enc, proj = visual.encoder, visual.projector
    s = visual.cfg.vision.image_size
    pixels = torch.zeros(1, s, s, 3, dtype=torch.uint8)
    tokens = enc.patch_embed(pixels)  # (1, N, Dv)
    codes = proj.down(enc.norm(tokens))  # (1, N', r)
    assert _row(report, "patch_embed")["flops"] == _flops(enc.patch_embed, pixels)
    assert _row(report, "vision[0]")["flops"] == _flops(enc.blocks[0], tokens)
    assert _row(report, "project.down")["flops"] == _flops(
        lambda x: proj.down(enc.norm(x)), tokens)
    assert _row(report, "project.up")["flops"] == _flops(proj.project_up, codes)
    visual_tokens = proj.project_up(codes).detach()  # (1, N', Dl)
    for tier in zoo.LM_TIERS:
        lm = zoo.load_lm(tier, checkpoints)
        ids = torch.zeros(1, report["prompt_tokens"], dtype=torch.long)

        def prefill(lm: Any = lm, ids: torch.Tensor = ids) -> Any:
            h = torch.cat([lm.embed_visual(visual_tokens), lm.tok_emb(ids)], dim=1)
            return lm(h, torch.arange(h.shape[1])[None])[1]

        past = prefill()
        assert past[0].shape[3] == report["prefill_tokens"] == report["decode_kv_len"] - 1
        assert _row(report, "prefill", tier)["flops"] == _flops(prefill)
        step = (lm.tok_emb(ids[:, :1]), torch.full((1, 1), past[0].shape[3]), past)
        assert _row(report, "decode", tier)["flops"] == _flops(lm, *step)


def test_stage_params_sum_to_the_visual_side(report: dict[str, Any], visual: VisualSide,
                                              checkpoints: Path) -> None:
    stage_params = sum(r["params"] for r in report["stages"] if r["tier"] is None)
    total = zoo.n_params(visual)
    assert report["visual_params"] == total
    assert stage_params + report["cell_head_params"] == total  # the cell head runs nowhere
    assert report["cell_head_params"] == zoo.n_params(visual.cell_head)
    for tier in zoo.LM_TIERS:
        lm_params = zoo.n_params(zoo.load_lm(tier, checkpoints))
        assert _row(report, "prefill", tier)["params"] == lm_params
        assert report["lm_decode"][tier]["params"] == lm_params


def test_boundary_bytes_match_the_stage_graph(report: dict[str, Any],
                                              graph: StageGraph) -> None:
    for stage in graph.stages[:graph.prefill]:
        b = graph.boundary(stage.index + 1)
        doc = _row(report, stage.name)["boundary"]
        assert (doc["name"], tuple(doc["shape"])) == (b.name, b.shape)
        assert [doc[f"bytes_{p}"] for p in ("fp32", "fp16", "int8")] == [
            codec(Encoding(p)).nbytes(b.shape) for p in ("fp32", "fp16", "int8")]
    n, dv = graph.n_tokens, graph.vision_dim
    assert _row(report, "vision[0]")["boundary"]["bytes_fp32"] == 4 * n * dv
    assert all(r["boundary"] is None for r in report["stages"] if r["tier"] is not None)


def _positive(x: Any) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_latencies_are_positive_numbers(report: dict[str, Any]) -> None:
    assert (report["runs"], report["threads"], report["batch"]) == (RUNS, 1, 1)
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["platform"]
    visual_rows = [r for r in report["stages"] if r["tier"] is None]
    assert visual_rows[0]["torch_fp32_ms"] is None  # preprocess runs no torch
    for row in visual_rows[1:]:
        assert _positive(row["torch_fp32_ms"])
        assert all(math.isfinite(row[k]) for k in ("ort_fp32_ms", "ort_int8_ms"))  # differences
    for prefix in report["ort_prefixes"]:
        assert _positive(prefix["fp32_ms"]) and _positive(prefix["int8_ms"])
    last = report["ort_prefixes"][-1]  # per-stage ORT figures telescope to the full prefix
    assert sum(r["ort_int8_ms"] for r in visual_rows[1:]) == pytest.approx(last["int8_ms"])
    for key in ("vision_ms_torch_fp32", "vision_ms_ort_fp32", "vision_ms_ort_int8"):
        assert _positive(report[key])
    for tier, doc in report["lm_decode"].items():
        assert all(_positive(doc[k]) for k in doc if k != "params" and doc[k] is not None)
        assert (doc["ort_b1_ms_per_token"] is None) == (tier != "edge")
        assert _positive(_row(report, "prefill", tier)["torch_fp32_ms"])


def test_speedup_is_the_quotient_of_the_reported_figures(report: dict[str, Any]) -> None:
    assert report["speedup_int8_vs_torch"] == (
        report["vision_ms_torch_fp32"] / report["vision_ms_ort_int8"])


def test_render_mentions_every_stage(report: dict[str, Any], graph: StageGraph) -> None:
    text = render_profile(report)
    for stage in graph.stages:
        assert stage.name in text
    for tier in zoo.LM_TIERS:
        assert f"prefill ({tier})" in text and f"decode ({tier})" in text
    assert "differences of consecutive prefix" in text
    assert f"{report['speedup_int8_vs_torch']:.2f}x" in text


def test_runs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="runs=0"):
        profile_report(tmp_path, runs=0)


def test_interleaved_timing_is_round_robin() -> None:
    calls: list[str] = []
    ms = interleaved_ms({name: functools.partial(calls.append, name) for name in "abc"}, runs=2)
    assert calls == list("abc") * (WARMUP + 2)
    assert set(ms) == set("abc") and all(v >= 0 for v in ms.values())

"""`splitvlm bench cascade` end to end on one profile, one request per type: the result's shape
and its arithmetic, not its speed. Needs root for the testbed (skipped with the reason)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from splitvlm.bench import cascade
from splitvlm.evaluation_cli import run_calibration
from splitvlm.testbed import root_reason
from splitvlm.testbed.netns import existing_namespaces

REASON = root_reason()
PREFIX = "svbcs"  # not the bench's default, nor the other tests'


def test_summary_counts_types_alike_and_reads_what_left_the_edge() -> None:
    runs = [{"qtype": "color", "latency_s": 0.01, "correct": True, "bytes_up": 0,
             "escalated": False, "plan": "cascade-cloud"},
            {"qtype": "color", "latency_s": 0.03, "correct": False, "bytes_up": 2400,
             "escalated": True, "plan": "cascade-cloud"},
            {"qtype": "relate", "latency_s": 0.02, "correct": True, "bytes_up": 0,
             "escalated": False, "plan": "edge-only"},
            {"qtype": "relate", "error": "Overloaded: busy"}]
    s = cascade.summary(runs)
    assert s["accuracy"] == pytest.approx((0.5 + 1.0) / 2)  # the mean of the types
    assert s["edge_share"] == pytest.approx(2 / 3) and s["escalated_share"] == pytest.approx(1 / 3)
    assert s["median_ms"] == pytest.approx(20.0) and s["errors"] == 1
    assert s["bytes_up"] == pytest.approx(800.0)


@pytest.mark.root
@pytest.mark.timeout(300)
@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_bench_cascade_smoke(checkpoints: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    shutil.copytree(checkpoints, ckpt)
    run_calibration(4, ckpt)
    result = cascade.run(["--profiles", "lte", "--per-type", "1", "--gap-s", "0",
                          "--checkpoints", str(ckpt), "--prefix", PREFIX])
    json.dumps(result)
    assert not any(ns.startswith(PREFIX + "-") for ns in existing_namespaces())  # torn down
    policies = result["profiles"]["lte"]["policies"]
    assert list(policies) == ["edge-only", "cloud-lm", "auto", "cascade"]
    for s in policies.values():
        assert s["errors"] == 0 and 0 < s["median_ms"] <= s["p95_ms"]
        assert len(s["by_type"]) == 9
    assert policies["edge-only"]["edge_share"] == 1.0
    assert policies["cloud-lm"]["edge_share"] == 0.0 and policies["cloud-lm"]["bytes_up"] > 2000
    assert {t["figure"] for t in result["targets"]} == {
        "lte.accuracy_gap_pt", "lte.edge_share", "lte.median_ratio"}
    assert {c["upstream"] for c in result["calibration"]} == {"fog", "cloud"}
    assert "cascade" in cascade.render(result)
    cascade.plot(result, str(tmp_path / "cascade.png"))
    assert (tmp_path / "cascade.png").stat().st_size > 0

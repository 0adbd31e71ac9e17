"""`splitvlm bench split` end to end on one profile and one request: the result's shape and
its arithmetic, not its speed. Needs root for the testbed (skipped with the reason otherwise)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from splitvlm.bench import split
from splitvlm.bench.split_runner import Run
from splitvlm.bench.split_stats import oracle, oracle_by_type, plan_summary
from splitvlm.bench.split_workload import workload
from splitvlm.data.questions import QTYPES
from splitvlm.testbed import root_reason
from splitvlm.testbed.netns import existing_namespaces

REASON = root_reason()
PREFIX = "svbst"  # not the bench's default, nor the testbed tests'


def test_workload_is_type_balanced_camera_jpegs() -> None:
    requests = workload(36)
    assert [r.qtype for r in requests] == [QTYPES[i % 9] for i in range(36)]
    assert all(r.image.startswith(b"\xff\xd8") for r in requests)  # JPEG
    assert 20_000 < sum(len(r.image) for r in requests) / 36 < 80_000
    assert workload(3) == requests[:3]  # a fixed stream


def _run(label: str, request: int, latency_s: float, signature: str) -> Run:
    return Run(label, request, latency_s, True, {}, 0.0, None, signature, signature=signature)


def test_oracle_takes_the_fastest_plan_timed_by_the_median_of_its_runs() -> None:
    runs = [  # request 0: edge-only ran three times (under three labels), fog once
        _run("edge-only", 0, 0.010, "edge[0:10]int8"),
        _run("auto/fastest", 0, 0.030, "edge[0:10]int8"),
        _run("auto/balanced", 0, 0.020, "edge[0:10]int8"),
        _run("fog-all", 0, 0.018, "edge[0:0] -image-> fog[0:10]"),
        # request 1: only one plan
        _run("edge-only", 1, 0.050, "edge[0:10]int8"),
        _run("auto/fastest", 1, 0.070, "edge[0:10]int8"),
    ]
    labels = ["edge-only", "fog-all", "auto/fastest", "auto/balanced"]
    doc = oracle(runs, labels)
    # request 0: edge-only's median 20 ms loses to fog-all's 18 ms (not its lucky 10 ms run)
    assert doc["winners"] == {"edge[0:0] -image-> fog[0:10]": 1, "edge[0:10]int8": 1}
    assert doc["median_latency_s"] == pytest.approx((0.018 + 0.060) / 2)
    only_fixed = oracle(runs, ["edge-only"])  # labels restrict the runs that count
    assert only_fixed["median_latency_s"] == pytest.approx((0.010 + 0.050) / 2)


def test_a_label_is_timed_by_the_median_over_requests_of_its_per_request_medians() -> None:
    runs = [_run("edge-only", 0, 0.010, "e"), _run("edge-only", 0, 0.011, "e"),
            _run("edge-only", 0, 0.090, "e"),  # one stall on request 0
            _run("edge-only", 1, 0.020, "e"), _run("edge-only", 1, 0.021, "e"),
            _run("edge-only", 1, 0.022, "e")]
    doc = plan_summary(runs)
    assert doc["n"] == 6
    # per request 11 and 21 ms; the median of all six runs would be 20.5 ms
    assert doc["median_latency_s"] == pytest.approx((0.011 + 0.021) / 2)


def _median_ratio(num: float | None, den: float | None) -> float:
    assert num is not None and den is not None and den > 0
    return num / den


@pytest.mark.root
@pytest.mark.timeout(300)
@pytest.mark.skipif(REASON is not None, reason=REASON or "")
def test_bench_split_smoke(checkpoints: Path, tmp_path: Path) -> None:
    result = split.run(["--profiles", "wifi", "--requests", "1", "--repeats", "2", "--warmup", "0",
                        "--change", "--change-before", "2", "--change-after", "2",
                        "--checkpoints", str(checkpoints), "--prefix", PREFIX])
    json.dumps(result)  # what --json prints
    assert not any(ns.startswith(PREFIX + "-") for ns in existing_namespaces())  # torn down
    labels = result["plans"]
    assert labels[:5] == ["edge-only", "edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all",
                          "cloud-all"]
    assert {"auto/fastest", "auto/balanced", "auto/most-accurate", "auto/battery"} <= set(labels)
    prof: dict[str, Any] = result["profiles"]["wifi"]
    for label in labels:
        p = prof["plans"][label]
        assert p["n"] == 2 and p["failures"] == 0, p
        assert 0 < p["median_latency_s"] <= p["p95_latency_s"]
        assert 0.0 <= p["accuracy"] <= 1.0 and p["edge_cpu_s"] >= 0
    assert prof["plans"]["edge-only"]["bytes"].get("edge-fog", 0) == 0
    assert prof["plans"]["cloud-all"]["bytes"]["fog-cloud"] > 10_000  # the camera JPEG
    for label in labels[-4:]:
        assert prof["plans"][label]["median_predicted_s"] > 0
    plans, oracle = prof["plans"], prof["oracle"]["median_latency_s"]
    # the median of the runs of one plan, which may pool runs of several labels (and, with
    # repeats, fall below each label's own median); test_oracle_* checks the choice exactly
    assert 0 < oracle <= 2 * max(plans[label]["p95_latency_s"] for label in labels)
    assert prof["fastest_vs_oracle"] == pytest.approx(
        _median_ratio(plans["auto/fastest"]["median_latency_s"], oracle))
    assert prof["balanced_vs_oracle"] == pytest.approx(_median_ratio(
        plans["auto/balanced"]["median_latency_s"], prof["oracle_accurate"]["median_latency_s"]))
    assert prof["cloud_only_vs_balanced"] == pytest.approx(_median_ratio(
        plans["cloud-all"]["median_latency_s"], plans["auto/balanced"]["median_latency_s"]))
    top = prof["most_accurate_fixed"]
    assert prof["balanced_accuracy_gap_pt"] == pytest.approx(
        (top["accuracy"] - plans["auto/balanced"]["accuracy"]) * 100)
    assert result["mape_n"] == 8 and result["mape"] >= 0
    change = result["change"]
    assert len(change["choices_before"]) == 2 and len(change["choices_after"]) == 2
    assert change["bandwidth_after_bps"] == pytest.approx(change["bandwidth_before_bps"] / 10)
    assert {t["figure"] for t in result["targets"]} >= {
        "profiles.wifi.fastest_vs_oracle", "mape", "change.requests_to_switch"}
    text = split.render(result)
    assert "target" in text and "fastest_vs_oracle" in text
    split.plot(result, str(tmp_path / "split.png"))
    assert (tmp_path / "split.png").stat().st_size > 0


def test_oracle_by_type_names_the_lm_tier_each_type_s_winners_ran() -> None:
    cloud = "edge[0:8]int8 -fp16-> cloud[8:10]"
    runs = [  # request 0 is a color question, request 1 a relate question
        Run("edge-only", 0, 0.010, True, {}, 0.0, None, "", signature="edge[0:10]int8"),
        Run("edge-vision+cloud-lm", 0, 0.050, True, {}, 0.0, None, "", signature=cloud),
        Run("edge-only", 1, 0.010, False, {}, 0.0, None, "", signature="edge[0:10]int8"),
        Run("edge-vision+cloud-lm", 1, 0.050, True, {}, 0.0, None, "", signature=cloud),
        Run("auto/balanced", 1, 0.040, True, {}, 0.0, None, "",
            signature="edge[0:10]int8 => cloud"),  # a cascade that escalated
    ]
    labels = ["edge-only", "edge-vision+cloud-lm", "auto/balanced"]
    doc = oracle_by_type(runs, labels, {0: "color", 1: "relate"})
    assert doc["color"] == {"fastest": {"edge": 1}, "accurate": {"edge": 1}}
    assert doc["relate"] == {"fastest": {"edge": 1}, "accurate": {"cloud": 1}}

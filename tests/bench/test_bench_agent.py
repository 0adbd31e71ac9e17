"""`bench agent` smoke run: a short video through the agent and the tiers, the fog killed and
back; structure and the counts that do not depend on speed (no speed assertions)."""

from __future__ import annotations

from pathlib import Path

from splitvlm.bench import agent


def test_bench_agent_smoke(checkpoints: Path, tmp_path: Path) -> None:
    result = agent.run(["--seconds", "6", "--fps", "10", "--static-seconds", "1",
                        "--probes", "3", "--checkpoints", str(checkpoints)])
    assert result["frames_seen"] == 60 and result["unanswered"] == 0
    assert result["frames_accepted"] + result["frames_dropped"] == 60
    assert result["answers"] == result["frames_accepted"] and result["errors"] == 0
    assert result["phases"]["outage"]["degraded_share"] > 0.5  # the fog was dead
    assert result["static"]["seen"] == 10 and result["static"]["encoded_with_reuse"] == 1
    assert result["static"]["encoded_every_frame"] == 10
    assert result["outage_degraded"] > 0 and result["outage_latency_ratio"] > 0
    assert set(result["targets_met"]) == {"unanswered", "outage_latency_ratio", "recovery_s",
                                          "static", "p95_vs_single"}
    assert "degraded" in agent.render(result)
    agent.plot(result, str(tmp_path / "agent.png"))
    assert (tmp_path / "agent.png").stat().st_size > 0

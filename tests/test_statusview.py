"""`splitvlm status EDGE --once` against the three tiers served on loopback gRPC: one frame
names every tier, and the fog's vision runs and cache entries move with a request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from splitvlm.cli import main
from splitvlm.embedded import embedded_cluster
from splitvlm.executor.status import EngineLoad, LinkEstimate, TierStatus
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient
from splitvlm.statusview import NO_PLANS, Snapshot, render

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "scene-0.jpg"
STATUS_MAX_AGE_S = 1.0  # splitvlm.executor.transport: how stale the edge's view of the fog is


def _rows(frame: str) -> dict[str, list[str]]:
    """The tier rows of a frame, by tier: their columns."""
    rows = [line.split() for line in frame.splitlines()]
    return {r[0]: r for r in rows if r and r[0] in ("edge", "fog", "cloud")}


async def _frame(target: str, capsys: pytest.CaptureFixture[str]) -> str:
    code = await asyncio.to_thread(main, ["status", target, "--insecure", "--once"])
    assert code == 0
    return capsys.readouterr().out


async def test_status_once_shows_the_tiers_and_moves_with_a_request(
        checkpoints: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with embedded_cluster(checkpoints, transport="grpc") as cluster:
        before = await _frame(cluster.edge_target, capsys)
        async with AsyncClient(cluster.edge_target) as client:
            await client.ask(EXAMPLE, "describe the image", plan="fog-all")
        await asyncio.sleep(STATUS_MAX_AGE_S + 0.2)
        after = await _frame(cluster.edge_target, capsys)
    rows_before, rows_after = _rows(before), _rows(after)
    assert sorted(rows_before) == sorted(rows_after) == ["cloud", "edge", "fog"]
    assert rows_before["edge"][1] == "SERVING" and rows_after["fog"][1] == "up"
    vision = 6  # tier health active queued running batch VISION hits misses ENTRIES
    assert int(rows_after["fog"][vision]) == int(rows_before["fog"][vision]) + 1
    assert int(rows_after["fog"][vision + 3]) == int(rows_before["fog"][vision + 3]) + 1
    assert "link edge->fog" in after and "link fog->cloud" in after and NO_PLANS in after


def test_a_failed_status_says_so_and_leaves_the_rest_unknown() -> None:
    frame = render(Snapshot("10.0.0.1:50051", "UNAVAILABLE", None, "UNAVAILABLE: no", 0.0))
    rows = _rows(frame)
    assert rows["edge"][1] == "UNAVAILABLE" and rows["fog"][1] == rows["cloud"][1] == "unknown"
    assert "the edge's Status failed: UNAVAILABLE: no" in frame


def test_a_fog_the_edge_cannot_reach_is_unreachable() -> None:
    edge = TierStatus(Tier.EDGE, active=2, engine=EngineLoad(1, 3, 2.5),
                      next_link=LinkEstimate(20e6, 0.004))
    rows = _rows(render(Snapshot("e:1", "SERVING", edge)))
    assert rows["edge"][2:6] == ["2", "1", "3", "2.50"]
    assert rows["fog"][1] == "unreachable" and rows["cloud"][1] == "unknown"
    assert "20.0 Mbit/s" in render(Snapshot("e:1", "SERVING", edge))


def test_recent_plans_come_from_the_edges_metrics() -> None:
    from collections import Counter

    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client import Counter as PromCounter

    from splitvlm.statusview import fetch_plans

    registry = CollectorRegistry()
    plans = PromCounter("splitvlm_plans", "", ["tier", "plan", "lm"], registry=registry)
    degraded = PromCounter("splitvlm_degraded_answers", "", ["tier"], registry=registry)
    server, thread = start_http_server(0, "127.0.0.1", registry=registry)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        plans.labels("edge", "edge-only", "edge").inc(3)
        plans.labels("edge", "fog-all", "fog").inc(2)
        first, _, why = fetch_plans(url)
        assert why == "" and first == Counter({("edge-only", "edge"): 3, ("fog-all", "fog"): 2})
        plans.labels("edge", "fog-all", "fog").inc(4)
        degraded.labels("edge").inc(1)
        second, dead, _ = fetch_plans(url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert second is not None and dead == 1
    frame = render(Snapshot("e:1", "SERVING", None, "down", 0.0, second, dead, first))
    assert "plans since the last frame: 4; degraded answers so far: 1" in frame
    assert "fog-all  (LM: fog)" in frame and "edge-only" not in frame
    assert fetch_plans("http://127.0.0.1:9")[0] is None  # nothing listens: said, not raised

"""Metrics scraped from live tiers move with a request; one request's spans from the three
tiers make one trace (the context carried in gRPC metadata)."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from splitvlm.embedded import embedded_cluster
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import AsyncClient, Client
from splitvlm.service.telemetry import memory_spans

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
PLAN = "edge-vision+cloud-lm"  # every tier works: edge vision, fog relay, cloud LM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on the tier's /metrics: (name, sorted labels) -> value."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def tiers(checkpoints: Path) -> Iterator[dict[str, tuple[TierProcess, int]]]:
    running: dict[str, tuple[TierProcess, int]] = {}
    try:
        for tier, after in (("cloud", ""), ("fog", "cloud"), ("edge", "fog")):
            port = free_port()
            process = start_tier(tier, running[after][0].target if after else "",
                                 env={"SPLITVLM_METRICS_PORT": str(port)})
            running[tier] = (process, port)
        yield running
    finally:
        for process, _ in running.values():
            process.kill()


def test_the_counters_move_with_a_request(tiers: dict[str, tuple[TierProcess, int]]) -> None:
    ports = {tier: port for tier, (_, port) in tiers.items()}
    before = {tier: scrape(port) for tier, port in ports.items()}
    with Client(tiers["edge"][0].target) as client:
        answer = client.ask(EXAMPLE.read_bytes(), "describe the image", plan=PLAN,
                            no_cache=True)
    after = {tier: scrape(port) for tier, port in ports.items()}

    def moved(where: str, name: str, **labels: str) -> float:
        return value(after[where], name, **labels) - value(before[where], name, **labels)

    assert moved("edge", "splitvlm_requests_total", tier="edge", method="Ask", code="OK") == 1
    assert moved("fog", "splitvlm_requests_total", tier="fog", method="Execute", code="OK") == 1
    assert moved("cloud", "splitvlm_requests_total", tier="cloud", method="Execute",
                 code="OK") == 1
    assert moved("edge", "splitvlm_stage_seconds_count", tier="edge",
                 stage="patch_embed..project.up") == 1
    assert moved("cloud", "splitvlm_stage_seconds_count", tier="cloud",
                 stage="prefill..decode") == 1
    sent = {li.link.value: li.bytes for li in answer.links}
    assert moved("edge", "splitvlm_link_sent_bytes_total", tier="edge",
                 link="edge-fog") == sent["edge-fog"]
    assert moved("fog", "splitvlm_link_sent_bytes_total", tier="fog",
                 link="fog-cloud") == sent["fog-cloud"]
    assert moved("edge", "splitvlm_plans_total", tier="edge", plan=PLAN, lm="cloud") == 1
    assert ("splitvlm_cache_hits_total", (("tier", "fog"),)) in after["fog"]
    assert ("splitvlm_engine_queue_depth", (("tier", "cloud"),)) in after["cloud"]
    # sub-millisecond buckets: a stage of 0.1 ms is told apart from one of 0.9 ms
    assert ("splitvlm_stage_seconds_bucket",
            (("le", "0.0001"), ("stage", "prefill..decode"), ("tier", "cloud"))) in after["cloud"]


async def test_one_request_is_one_trace_across_the_three_tiers(checkpoints: Path) -> None:
    spans = memory_spans()
    spans.clear()
    async with embedded_cluster(checkpoints, transport="grpc", otlp_endpoint="memory") as c, \
            AsyncClient(c.edge_target) as client:
        answer = await client.ask(EXAMPLE.read_bytes(), "describe the image", plan=PLAN)
    mine = [s for s in spans.get_finished_spans()
            if s.attributes is not None and s.attributes.get("request_id") == answer.request_id]
    by_service = {s.resource.attributes["service.name"]: s for s in mine}
    assert sorted(by_service) == ["splitvlm-cloud", "splitvlm-edge", "splitvlm-fog"]
    edge, fog, cloud = (by_service[f"splitvlm-{t}"] for t in ("edge", "fog", "cloud"))
    assert edge.context is not None and fog.context is not None and cloud.context is not None
    assert len({s.context.trace_id for s in mine}) == 1  # one trace
    assert edge.parent is None  # the root: the SDK sent no context
    assert fog.parent is not None and fog.parent.span_id == edge.context.span_id
    assert cloud.parent is not None and cloud.parent.span_id == fog.context.span_id
    assert all(s.attributes is not None and s.attributes["splitvlm.outcome"] == "OK"
               for s in mine)

"""Failover between fogs: with none known the hop is an unreachable fog; with two advertising,
the one in use killed (SIGKILL) costs no request, and the other serves from then on.

Which fog served a request is read from the fogs' own Status: a plan that runs the vision at
the fog (fog-all, without the cache) counts one vision run there."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from splitvlm.executor import Payload, Request
from splitvlm.executor.builders import visual_meta
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Tier
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import Client, TierUnavailable
from splitvlm.service.failover import Failover, failover_hop
from splitvlm.v1 import tier_pb2, tier_pb2_grpc
from splitvlm.wire.codecs import Encoding

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
QUESTION = "what is left of the red square ?"
LOOPBACK = {"SPLITVLM_MDNS_INTERFACES": "127.0.0.1"}
WAIT_S = 60.0
SEEN_S = 3.0  # both fogs are on mDNS and probed by the edge this long after it starts
NO_WAIT_S = 3.0  # the request that meets the dead fog is answered by the other this soon
AFTER_KILL = 8  # requests asked after the kill


async def test_with_no_fog_known_the_hop_is_an_unreachable_fog(checkpoints: Path) -> None:
    pool = Failover(Tier.FOG, grpc.aio.insecure_channel)
    hop = failover_hop(pool)
    graph, _ = visual_meta(checkpoints)
    request = Request(named_plan("fog-all", graph), "what is it ?", Payload(0, Encoding.IMAGE,
                                                                            image=b"x"), 4)
    assert await hop.downstream.status() is None and await hop.downstream.link() is None
    with pytest.raises(TierUnavailable, match="no fog tier is known") as caught:
        async for _ in hop.forwarder.execute(request).events:
            pass
    assert caught.value.tier == "fog"
    await pool.close()


@pytest.fixture
def cluster(checkpoints: Path) -> Iterator[dict[str, TierProcess]]:
    running: dict[str, TierProcess] = {}
    try:
        for name in ("fog-a", "fog-b"):
            running[name] = start_tier("fog", env={**LOOPBACK, "SPLITVLM_ADVERTISE": "true"})
        running["edge"] = start_tier("edge", env={**LOOPBACK, "SPLITVLM_DISCOVER": "true"})
        yield running
    finally:
        for tier in running.values():
            tier.kill()


def vision_runs(fog: TierProcess) -> int:
    with grpc.insecure_channel(fog.target) as channel:
        status = tier_pb2_grpc.TierServiceStub(channel).Status(tier_pb2.StatusRequest(),
                                                               timeout=WAIT_S)
    return int(status.vision_runs)


def ask_fog(client: Client, image: bytes) -> float:
    """Seconds to an answer of a plan pinned to the fog (no fallback); raises if it fails."""
    t0 = time.perf_counter()
    answer = client.ask(image, QUESTION, plan="fog-all", no_cache=True, deadline_s=WAIT_S)
    assert answer.plan.lm_tier is Tier.FOG and not answer.fallback
    return time.perf_counter() - t0


def test_killing_the_fog_in_use_fails_no_request(cluster: dict[str, TierProcess]) -> None:
    image = EXAMPLE.read_bytes()
    fogs = {name: cluster[name] for name in ("fog-a", "fog-b")}
    with Client(cluster["edge"].target) as client:
        deadline = time.monotonic() + WAIT_S
        while True:  # the edge's planner sees a fog (it refreshes every 2 s)
            try:
                ask_fog(client, image)
                break
            except TierUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        time.sleep(SEEN_S)  # both fogs found and probed
        before = {name: vision_runs(fog) for name, fog in fogs.items()}
        for _ in range(3):
            ask_fog(client, image)
        served = {name: vision_runs(fog) - before[name] for name, fog in fogs.items()}
        in_use = max(served, key=lambda name: served[name])
        other = next(name for name in fogs if name != in_use)
        assert served == {in_use: 3, other: 0}  # one fog serves while it lives

        fogs[in_use].proc.send_signal(signal.SIGKILL)
        fogs[in_use].proc.wait()
        before_other = vision_runs(fogs[other])
        seconds = [ask_fog(client, image) for _ in range(AFTER_KILL)]  # none raises
        assert vision_runs(fogs[other]) - before_other == AFTER_KILL  # the other served all
        assert seconds[0] < NO_WAIT_S, f"the failover took {seconds[0]:.2f} s"

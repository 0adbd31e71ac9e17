"""Fogs on mDNS: the TXT record read and checked, adverts on loopback browsed (a fog of another
visual model ignored), and an edge that finds a fog started after it within DISCOVERY_S.

mDNS runs on loopback only with interfaces=["127.0.0.1"] (IPv4): every test sets that."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from zeroconf.asyncio import AsyncZeroconf

from splitvlm.plan.plan import Tier
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import Answer, Client, TierUnavailable
from splitvlm.service.discovery import (
    PROTO,
    Advert,
    AdvertError,
    Advertiser,
    Browser,
    mismatch,
    parse_advert,
)
from splitvlm.service.failover import Failover

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
QUESTION = "what is left of the red square ?"
VISUAL = "1ef89ad544855f7b"
LOOPBACK = {"SPLITVLM_MDNS_INTERFACES": "127.0.0.1"}
DISCOVERY_S = 5.0  # a fog that starts is used by an edge already running within this
WAIT_S = 60.0  # how long the tests wait at most for what should take DISCOVERY_S


def txt(**changes: str) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"tier": "fog", "proto": PROTO, "visual": VISUAL,
                                     "lms": "fog", "load": "2"}
    return {**fields, **changes}


def test_an_advert_is_read_from_its_txt_record() -> None:
    advert = parse_advert("fog-a._splitvlm._tcp.local.", txt(), ["10.0.0.7"], 50052)
    assert advert.target == "10.0.0.7:50052" and advert.lms == ("fog",) and advert.load == 2
    assert parse_advert(advert.name, dict(advert.properties()), ["10.0.0.7"], 50052) == advert
    assert mismatch(advert, Tier.FOG, VISUAL) is None
    both = parse_advert(advert.name, txt(), ["127.0.0.1", "10.0.0.7"], 50052)
    assert both.target == "10.0.0.7:50052"  # a browser on another host cannot use loopback


@pytest.mark.parametrize(("properties", "error"), [
    (txt(visual=""), "lacks visual"),
    ({k: v for k, v in txt().items() if k != "proto"}, "lacks proto"),
    (txt(load="many"), "load='many'"),
])
def test_a_malformed_advert_names_what_is_wrong(properties: dict[str, str | None],
                                                error: str) -> None:
    with pytest.raises(AdvertError, match=error):
        parse_advert("fog-a._splitvlm._tcp.local.", properties, ["10.0.0.7"], 50052)


@pytest.mark.parametrize(("properties", "why"), [
    (txt(visual="0000000000000000"), "visual model is 0000000000000000"),
    (txt(proto="v2"), "protocol v2"),
    (txt(tier="cloud"), "a cloud tier"),
])
def test_a_fog_an_edge_cannot_use_is_ignored(properties: dict[str, str | None],
                                             why: str) -> None:
    advert = parse_advert("fog-b._splitvlm._tcp.local.", properties, ["10.0.0.7"], 50052)
    assert why in (mismatch(advert, Tier.FOG, VISUAL) or "")


async def test_a_browser_keeps_the_fogs_of_its_visual_model_only() -> None:
    """Two fogs advertise on loopback mDNS, one of another visual model: the browser offers
    the pool only the one of its own."""
    port = 40000 + os.getpid() % 20000  # instance names unique to this run
    adverts = [Advert(f"fog-{kind}-{port}._splitvlm._tcp.local.", "fog", PROTO, visual, ("fog",),
                      0, ("127.0.0.1",), port)
               for kind, visual in (("same", VISUAL), ("other", "0000000000000000"))]
    pool = Failover(Tier.FOG, grpc.aio.insecure_channel)
    browser = Browser(AsyncZeroconf(interfaces=["127.0.0.1"]), pool, Tier.FOG, VISUAL)
    advertisers = [await Advertiser.start(AsyncZeroconf(interfaces=["127.0.0.1"]), a, lambda: 0)
                   for a in adverts]
    try:
        await browser.begin()
        deadline = time.monotonic() + WAIT_S
        while adverts[0].name not in pool.peers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        while adverts[1].name not in browser._ignored and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the other's advert is seen, and judged
        assert "visual model is 0000000000000000" in browser._ignored[adverts[1].name]
        assert list(pool.peers) == [adverts[0].name]
        assert pool.peers[adverts[0].name].target == f"127.0.0.1:{port}"
        await advertisers[0].close()  # a goodbye: it leaves the pool
        deadline = time.monotonic() + WAIT_S
        while pool.peers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not pool.peers
    finally:
        await browser.close()
        await pool.close()
        for advertiser in advertisers[1:]:
            await advertiser.close()


@pytest.fixture
def edge(checkpoints: Path) -> Iterator[TierProcess]:
    tier = start_tier("edge", env={**LOOPBACK, "SPLITVLM_DISCOVER": "true"})
    yield tier
    tier.kill()


def served_by_fog(client: Client, image: bytes, until: float) -> Answer:
    """The first answer of a plan that needs the fog, asked again until `until`."""
    while True:
        try:
            return client.ask(image, QUESTION, plan="fog-all", deadline_s=WAIT_S)
        except TierUnavailable:
            if time.monotonic() > until:
                raise
            time.sleep(0.1)


def test_an_edge_answers_alone_then_uses_a_fog_that_starts(edge: TierProcess) -> None:
    image = EXAMPLE.read_bytes()
    with Client(edge.target) as client:
        alone = client.ask(image, QUESTION, plan="auto", deadline_s=WAIT_S)
        assert alone.plan.lm_tier is Tier.EDGE or alone.fallback  # no fog: the edge's LM
        with pytest.raises(TierUnavailable, match="fog"):
            client.ask(image, QUESTION, plan="fog-all", deadline_s=WAIT_S)
        fog = start_tier("fog", env={**LOOPBACK, "SPLITVLM_ADVERTISE": "true"})
        try:
            started = time.monotonic()  # it listens; it advertises from now on
            answer = served_by_fog(client, image, started + WAIT_S)
            took_s = time.monotonic() - started
            assert answer.plan.lm_tier is Tier.FOG and not answer.fallback
            assert {t.tier for t in answer.timings} >= {Tier.EDGE, Tier.FOG}
            assert took_s < DISCOVERY_S, f"the edge used the fog {took_s:.1f} s after it started"
        finally:
            fog.kill()


def test_an_edge_serving_a_hugging_face_model_finds_a_fog_serving_it(
        tiny_dir: Callable[[str], Path]) -> None:
    """Discovery matches the visual model the tier serves, known once it is built (a hash of
    a Hugging Face model's weights), not the shipped checkpoints'."""
    model = {**LOOPBACK, "SPLITVLM_MODEL_DIR": str(tiny_dir("idefics3"))}
    fog = start_tier("fog", env={**model, "SPLITVLM_ADVERTISE": "true"})
    edge = start_tier("edge", env={**model, "SPLITVLM_DISCOVER": "true"})
    try:
        with Client(edge.target) as client:
            deadline = time.monotonic() + WAIT_S
            while True:
                try:
                    answer = client.ask(EXAMPLE.read_bytes(), "what is here?", plan="fog-all",
                                        deadline_s=WAIT_S)
                    break
                except TierUnavailable:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert answer.plan.lm_tier is Tier.FOG and not answer.fallback
    finally:
        edge.kill()
        fog.kill()

"""The next tier as a pool of peers (fogs found on mDNS, a configured next_hop): one is chosen
by RTT and load, and a forward that fails before its first event goes to the next at once.

    pool = Failover(Tier.FOG, connect)         # connect(target) -> grpc.aio.Channel
    pool.offer(name, "10.0.0.7:50052", load)   # from the mDNS browser (or a static next_hop)
    hop = failover_hop(pool)                   # a NextHop: the executor and planner see one
    pool.remove(name, "it left mDNS")          # its channel closes once its calls are done

Each peer is a `GrpcForwarder` and a `GrpcDownstream` over its own channel. Its RTT is the
downstream's link probe; its score is RTT + LOAD_COST_S per request it advertises executing.
The chosen peer is kept while it answers and no other scores SWITCH_MARGIN_S better (its fog
holds the feature cache (L2) entries the edge refers to). A peer that fails a call, a status or
a probe is out of preference until a probe answers again (every RECHECK_S) or mDNS announces
it anew. With no usable peer the hop is an unreachable next tier: status() and link() are None
and forwards raise TierUnavailable, so the tier before plans around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from splitvlm.errors import TierUnavailable
from splitvlm.executor.messages import Event, Request
from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.executor.transport import (
    PROBE_MAX_AGE_S,
    STATUS_MAX_AGE_S,
    Forwarded,
    NextHop,
)
from splitvlm.plan.plan import Tier
from splitvlm.service.forwarding import GrpcDownstream, GrpcForwarder, execute_chunks
from splitvlm.v1 import tier_pb2

LOAD_COST_S = 0.05  # what one request executing at a peer costs the next, in its score
SWITCH_MARGIN_S = 0.05  # a live chosen peer is left only for one this much better
UNMEASURED_RTT_S = 1.0  # a peer not probed yet scores as this far away
RECHECK_S = 2.0  # peers out of preference are probed this often
LEAVE_GRACE_S = 10.0  # a peer that left keeps its channel this long for calls in flight
log = logging.getLogger("splitvlm.failover")
T = TypeVar("T")


@dataclass(eq=False)
class Peer:
    """One candidate next tier: where it is, how to call it, what it advertised."""

    name: str
    target: str  # HOST:PORT
    channel: grpc.aio.Channel
    forwarder: GrpcForwarder
    downstream: GrpcDownstream
    load: int = 0  # requests executing there, as it advertised
    rtt_s: float | None = None  # the last probe's; None: not probed yet
    down: str = ""  # why it is out of preference; "" while it is in

    def score_s(self) -> float:
        rtt_s = UNMEASURED_RTT_S if self.rtt_s is None else self.rtt_s
        return rtt_s + LOAD_COST_S * self.load

    def describe(self) -> str:
        rtt = "not probed yet" if self.rtt_s is None else f"rtt {self.rtt_s * 1e3:.1f} ms"
        return f"{self.name} at {self.target} ({rtt}, load {self.load})"


class Failover:
    """The peers of the next tier and the one chosen among them."""

    def __init__(self, tier: Tier, connect: Callable[[str], grpc.aio.Channel]) -> None:
        self.tier, self.connect = tier, connect
        self.peers: dict[str, Peer] = {}
        self.chosen: Peer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._leaving: set[grpc.aio.Channel] = set()
        self._chosen = asyncio.Event()  # set while a peer is chosen

    def start(self) -> None:
        """Probe the peers out of preference every RECHECK_S (the half-open check)."""
        self._spawn(self._rechecking())

    async def settle(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for a peer to be chosen (at start-up, so that the first
        plans already see it); whether one is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._chosen.wait(), timeout_s)
        return self.chosen is not None

    def offer(self, name: str, target: str, load: int) -> None:
        """A peer seen (again) at `target`: added, or its advert refreshed and re-probed."""
        peer = self.peers.get(name)
        if peer is not None and peer.target != target:
            self.remove(name, f"it moved to {target}")
            peer = None
        if peer is None:
            channel = self.connect(target)
            downstream = GrpcDownstream(channel)
            peer = Peer(name, target, channel,
                        GrpcForwarder(channel, self.tier, downstream.connect_budget_s),
                        downstream)
            self.peers[name] = peer
            log.info("%s tier found: %s at %s", self.tier, name, target)
        peer.load = load
        if peer.down or peer.rtt_s is None:
            self._spawn(self._probe(peer))  # chosen from once it answers
        else:
            self._choose(f"{name} advertised load {load}")

    def remove(self, name: str, why: str) -> None:
        """A peer gone (left mDNS, or no longer matches): forgotten, its channel closed."""
        peer = self.peers.pop(name, None)
        if peer is None:
            return
        log.info("%s tier %s at %s left: %s", self.tier, name, peer.target, why)
        self._leaving.add(peer.channel)
        self._spawn(self._close_later(peer.channel))
        if self.chosen is peer:
            self._choose(f"{name} left")

    def failed(self, peer: Peer, why: str) -> None:
        """`peer` did not answer: out of preference until a probe or mDNS sees it again."""
        if peer.down or self.peers.get(peer.name) is not peer:
            return
        peer.down = why
        self._choose(f"{peer.name} failed")
        then = ("no other is usable" if self.chosen is None
                else f"failing over to {self.chosen.describe()}")
        log.warning("%s tier %s at %s failed (%s); %s", self.tier, peer.name, peer.target, why,
                    then)

    def pick(self, tried: Collection[str] = ()) -> Peer | None:
        """The chosen peer, or (it was tried) the best usable one not tried yet."""
        if self.chosen is not None and self.chosen.name not in tried:
            return self.chosen
        rest = [p for p in self.peers.values() if not p.down and p.name not in tried]
        return min(rest, key=Peer.score_s, default=None)

    def unreachable(self) -> str:
        """Why no peer can take a call, for TierUnavailable."""
        if not self.peers:
            return f"no {self.tier} tier is known (none found on mDNS, none configured)"
        downs = "; ".join(f"{p.name}: {p.down}" for p in self.peers.values() if p.down)
        return f"no {self.tier} tier answers ({downs or 'none usable'})"

    def _choose(self, why: str) -> None:
        usable = [p for p in self.peers.values() if not p.down]
        best = min(usable, key=Peer.score_s, default=None)
        kept = self.chosen
        if kept is not None and kept in usable and (
                best is None or kept.score_s() <= best.score_s() + SWITCH_MARGIN_S):
            return
        self.chosen = best
        if best is None:
            self._chosen.clear()
        else:
            self._chosen.set()
        if best is not None and best is not kept:
            log.info("%s tier picked: %s; lowest RTT + load of %d usable (%d known) after %s",
                     self.tier, best.describe(), len(usable), len(self.peers), why)
        elif best is None and kept is not None:
            log.warning("no %s tier is usable (%d known) after %s", self.tier, len(self.peers),
                        why)

    async def _probe(self, peer: Peer) -> None:
        """Measure `peer`'s link (the downstream's probe); it is usable iff that answers."""
        link = await peer.downstream.link(0.0 if peer.down or peer.rtt_s is None
                                          else PROBE_MAX_AGE_S)
        if self.peers.get(peer.name) is not peer:
            return
        if link is None:
            self.failed(peer, "its link probe went unanswered")
            return
        peer.rtt_s = link.rtt_s
        if peer.down:
            log.info("%s tier %s answers again", self.tier, peer.describe())
            peer.down = ""
        self._choose(f"{peer.name} answered a probe")

    async def _rechecking(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_S)
            await asyncio.gather(*(self._probe(p) for p in list(self.peers.values())))

    async def _close_later(self, channel: grpc.aio.Channel) -> None:
        await channel.close(LEAVE_GRACE_S)
        self._leaving.discard(channel)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for channel in [*self._leaving, *(p.channel for p in self.peers.values())]:
            await channel.close()
        self.peers.clear()
        self.chosen = None


class FailoverForwarder:
    """Forwards to the chosen peer; one that fails before its first event is marked failed and
    the call goes to the next, with the same serialized chunks."""

    def __init__(self, pool: Failover) -> None:
        self.pool = pool

    def execute(self, request: Request) -> Forwarded:
        chunks = execute_chunks(request)
        return Forwarded(sum(c.ByteSize() for c in chunks), self._events(request, chunks))

    async def _events(self, request: Request, chunks: list[tier_pb2.ExecuteChunk]
                      ) -> AsyncIterator[Event]:
        tried: list[str] = []
        while (peer := self.pool.pick(tried)) is not None:
            tried.append(peer.name)
            started = False
            try:
                async for event in peer.forwarder.events(request, chunks):
                    started = True
                    yield event
                return
            except TierUnavailable as exc:
                if started or exc.tier != self.pool.tier.value:
                    raise
                self.pool.failed(peer, str(exc))
        raise TierUnavailable(self.pool.tier.value, self.pool.unreachable())


class FailoverDownstream:
    """The chosen peer's status and link; one that does not answer is failed over."""

    def __init__(self, pool: Failover) -> None:
        self.pool = pool

    async def status(self, max_age_s: float = STATUS_MAX_AGE_S) -> TierStatus | None:
        answered = await self._first(lambda d: d.status(max_age_s), "status")
        return None if answered is None else answered[1]

    async def link(self, max_age_s: float = PROBE_MAX_AGE_S) -> LinkEstimate | None:
        answered = await self._first(lambda d: d.link(max_age_s), "link probe")
        if answered is None:
            return None
        peer, link = answered
        peer.rtt_s = link.rtt_s
        return link

    async def _first(self, ask: Callable[[GrpcDownstream], Awaitable[T | None]], what: str
                     ) -> tuple[Peer, T] | None:
        """The chosen peer's answer to `ask`; a peer that gives none is failed over."""
        tried: list[str] = []
        while (peer := self.pool.pick(tried)) is not None:
            tried.append(peer.name)
            answer = await ask(peer.downstream)
            if answer is not None:
                return peer, answer
            self.pool.failed(peer, f"its {what} went unanswered")
        return None


def failover_hop(pool: Failover) -> NextHop:
    """The pool as the executor's and the planner's next hop."""
    return NextHop(FailoverForwarder(pool), FailoverDownstream(pool))

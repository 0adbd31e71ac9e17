"""The gRPC transport to the next tier: `GrpcForwarder` (Execute) and `GrpcDownstream`
(Status and link probes), over one channel.

    hop = grpc_hop(channel)      # a NextHop, as splitvlm.executor.local.local_hop is

The forwarder serializes a request once: the chunks it sends are the bytes it reports. A
tier answers every Execute call with its initial metadata at once; a next tier that does not
within the connect budget (`connect_budget_s`: a floor plus a few RTTs of the link) is taken for
dead (a frozen process accepts connections and says nothing), as is one that refuses or resets
the call before its first event: either is a TierUnavailable naming it, which the edge plans
around.

A request that may fall back (a planned one: the edge's own LM can answer, or the edge plans
again) does not wait for a connection that dropped (the channel is not READY: a killed tier's
socket closed), and waits less for one that is silent: the fallback budget, FALLBACK_ACCEPTS times
the recent time this tier took to accept a call (at least FALLBACK_FLOOR_S, at most the connect
budget). A live tier accepts in about a round trip, so the fallback costs a frozen one a few
milliseconds, not a quarter second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable

import grpc

from splitvlm.errors import BadRequest, NotAvailable, TierUnavailable
from splitvlm.executor.messages import Event, Request
from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.executor.transport import (
    PROBE_MAX_AGE_S,
    STATUS_MAX_AGE_S,
    Forwarded,
    NextHop,
)
from splitvlm.plan.ewma import Ewma
from splitvlm.plan.plan import Tier
from splitvlm.service.convert import event_from_pb, header_to_pb, payload_to_pb, status_from_pb
from splitvlm.service.errors import error_from_rpc
from splitvlm.v1 import tier_pb2, tier_pb2_grpc
from splitvlm.wire import split

PROBE_SMALL_BYTES = 16 << 10
PROBE_LARGE_BYTES = 256 << 10
PROBE_LARGE_MAX_S = 0.15  # the large probe only where it occupies the link at most this long
PROBE_TIMEOUT_S = 5.0
CONNECT_BUDGET_S = 0.25  # the least a next tier gets to start answering ...
CONNECT_RTTS = 4  # ... plus this many round trips of the link to it
TIER_METADATA = "splitvlm-tier"  # initial metadata: the answering tier's name
FALLBACK_ACCEPTS = 3  # a request that may fall back waits this many recent accept times ...
FALLBACK_FLOOR_S = 0.002  # ... and at least this long


def execute_chunks(request: Request) -> list[tier_pb2.ExecuteChunk]:
    """The Execute call's messages: the header with the first chunk, then the rest."""
    payload = payload_to_pb(request.payload).SerializeToString()
    chunks = [tier_pb2.ExecuteChunk(chunk=c) for c in split(payload)]
    chunks[0].header.CopyFrom(header_to_pb(request, len(payload)))
    return chunks


class GrpcForwarder:
    def __init__(self, channel: grpc.aio.Channel, tier: Tier,
                 connect_budget_s: Callable[[], float] = lambda: CONNECT_BUDGET_S) -> None:
        """`tier`: the tier the channel reaches; `connect_budget_s`: how long it may take to
        start answering a call."""
        self.stub = tier_pb2_grpc.TierServiceStub(channel)
        self.channel, self.tier, self.connect_budget_s = channel, tier, connect_budget_s
        self._accept = Ewma(0.0, 0.2, factor=math.inf)  # seconds to initial metadata

    def budget_s(self, request: Request) -> float:
        """How long the next tier may take to accept `request`'s call."""
        connect = self.connect_budget_s()
        if not request.fallback or self._accept.value <= 0:
            return connect
        return min(max(FALLBACK_FLOOR_S, FALLBACK_ACCEPTS * self._accept.value), connect)

    def execute(self, request: Request) -> Forwarded:
        chunks = execute_chunks(request)
        return Forwarded(sum(c.ByteSize() for c in chunks), self.events(request, chunks))

    async def events(self, request: Request, chunks: list[tier_pb2.ExecuteChunk]
                     ) -> AsyncIterator[Event]:
        """Send `request` as `chunks` (execute_chunks: a failover sends them to each tier it
        tries without serializing again); its events as they arrive."""
        timeout = None if request.deadline is None else max(request.deadline - time.monotonic(),
                                                            0.001)
        if request.fallback and self._accept.value > 0:
            state = self.channel.get_state(try_to_connect=True)  # (and reconnect if it can)
            if state is not grpc.ChannelConnectivity.READY:  # it was; the connection dropped
                raise TierUnavailable(self.tier.value, f"the connection to the {self.tier} "
                                      f"tier is down ({state.name.lower()})")
        budget = self.budget_s(request)
        t0 = time.perf_counter()
        call = self.stub.Execute(iter(chunks), timeout=timeout, metadata=request.trace or None)
        started = False
        try:
            if timeout is None or budget < timeout:
                try:
                    await asyncio.wait_for(call.initial_metadata(), budget)
                except TimeoutError:
                    call.cancel()
                    raise TierUnavailable(self.tier.value, f"the {self.tier} tier did not "
                                          f"answer within {budget * 1e3:.0f} ms",
                                          suspected=budget < self.connect_budget_s()) from None
                self._accept.update(time.perf_counter() - t0)
            async for msg in call:
                started = True
                yield event_from_pb(msg)
        except grpc.RpcError as exc:
            error = error_from_rpc(exc)
            if not started and type(error) is NotAvailable:  # refused or reset: this tier
                raise TierUnavailable(self.tier.value, f"the {self.tier} tier is unreachable: "
                                      f"{error}") from exc
            raise error from exc
        finally:
            call.cancel()  # a no-op once the call ended; else (the caller stopped early) ends it


class GrpcDownstream:
    """The next tier's status and the link to it, each cached for a while."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = tier_pb2_grpc.TierServiceStub(channel)
        self._status: tuple[float, TierStatus | None] = (-math.inf, None)
        self._link: tuple[float, LinkEstimate | None] = (-math.inf, None)

    async def status(self, max_age_s: float = STATUS_MAX_AGE_S) -> TierStatus | None:
        when, last = self._status
        if time.monotonic() - when > max_age_s:
            try:
                last = status_from_pb(await self.stub.Status(tier_pb2.StatusRequest(),
                                                             timeout=PROBE_TIMEOUT_S))
            except (grpc.RpcError, BadRequest):  # down, or a status this tier cannot read
                last = None
            self._status = (time.monotonic(), last)
        return last

    async def link(self, max_age_s: float = PROBE_MAX_AGE_S) -> LinkEstimate | None:
        when, last = self._link
        if time.monotonic() - when > max_age_s:
            last = await self.probe()
            self._link = (time.monotonic(), last)
        return last

    def connect_budget_s(self) -> float:
        """How long the next tier may take to start answering a call: CONNECT_BUDGET_S and
        CONNECT_RTTS round trips of the last probe."""
        _, link = self._link
        return CONNECT_BUDGET_S + CONNECT_RTTS * (0.0 if link is None else link.rtt_s)

    async def probe(self) -> LinkEstimate | None:
        """A tiny echo for the RTT, a small upload, then one sized to occupy the link for up to
        PROBE_LARGE_MAX_S (at the rate the small one proves at least), for the bandwidth."""
        try:
            rtt = await self._echo(0)
            size = PROBE_SMALL_BYTES
            seconds = await self._echo(size)
            # On a fast or far link the small upload's serialisation drowns in the RTT's jitter
            # (16 KB on a 20 Mbit/s link with 10 ms RTT read as 364 Mbit/s). Its whole time is a
            # lower bound on the rate, which sizes an upload long enough to measure: at most
            # PROBE_LARGE_MAX_S of link time (an RTT echo that queued behind a request would
            # make `seconds - rtt` tiny, so the whole time, not that), never seconds on a slow
            # link (4.5 s at 0.5 Mbit/s, delaying every request behind it).
            large = min(PROBE_LARGE_BYTES, int(size / seconds * PROBE_LARGE_MAX_S))
            if large > size:
                size, seconds = large, await self._echo(large)
        except grpc.RpcError:
            return None
        return LinkEstimate(8.0 * size / max(seconds - rtt, 1e-6), rtt)

    async def _echo(self, payload_bytes: int) -> float:
        t0 = time.perf_counter()
        await self.stub.Probe(tier_pb2.ProbeRequest(payload=bytes(payload_bytes)),
                              timeout=PROBE_TIMEOUT_S)
        return time.perf_counter() - t0


def grpc_hop(channel: grpc.aio.Channel, tier: Tier) -> NextHop:
    """The next tier, `tier`, over `channel`."""
    downstream = GrpcDownstream(channel)
    return NextHop(GrpcForwarder(channel, tier, downstream.connect_budget_s), downstream)

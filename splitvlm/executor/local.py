"""The in-process transport: the next tier's Executor runs in this process.

    cloud = Executor(Tier.CLOUD, ...)
    fog = Executor(Tier.FOG, ..., next_hop=local_hop(cloud))
    edge = Executor(Tier.EDGE, ..., next_hop=local_hop(fog))

The Request object itself crosses (nothing is serialized); errors propagate as they were
raised; the request's deadline bounds every event, as gRPC's would. `sent_bytes` is what the
request would put on a link: its payload and question, as the cost model counts them (gRPC adds
a few hundred bytes of framing and plan). The link is nominal (`IN_PROCESS_LINK`): there is no
network to measure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from splitvlm.errors import DeadlineExceeded
from splitvlm.executor.executor import Executor
from splitvlm.executor.messages import Event, Request
from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.executor.transport import (
    PROBE_MAX_AGE_S,
    STATUS_MAX_AGE_S,
    Forwarded,
    NextHop,
)

IN_PROCESS_LINK = LinkEstimate(bandwidth_bps=10e9, rtt_s=50e-6)  # no network: memory speed


class LocalForwarder:
    def __init__(self, receiver: Executor) -> None:
        self.receiver = receiver

    def execute(self, request: Request) -> Forwarded:
        sent = request.payload.nbytes + len(request.question.encode())
        return Forwarded(sent, self._events(request))

    async def _events(self, request: Request) -> AsyncIterator[Event]:
        events = self.receiver.execute(request)
        try:
            while True:
                remaining = (None if request.deadline is None
                             else max(request.deadline - time.monotonic(), 0.0))
                try:
                    event = await asyncio.wait_for(anext(events), remaining)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise DeadlineExceeded(f"the {self.receiver.tier} tier did not answer "
                                           "within the request's deadline") from exc
                yield event
        finally:
            await events.aclose()


class LocalDownstream:
    def __init__(self, receiver: Executor) -> None:
        self.receiver = receiver

    async def status(self, max_age_s: float = STATUS_MAX_AGE_S) -> TierStatus | None:
        return await self.receiver.report()

    async def link(self, max_age_s: float = PROBE_MAX_AGE_S) -> LinkEstimate | None:
        return IN_PROCESS_LINK


def local_hop(receiver: Executor) -> NextHop:
    """The next tier, in this process."""
    return NextHop(LocalForwarder(receiver), LocalDownstream(receiver))

"""How a tier reaches the next one: a `Forwarder` for requests, a `Downstream` for the next
tier's status and the link to it.

    call = hop.forwarder.execute(request)     # serialized once; call.sent_bytes is known now
    async for event in call.events: ...       # the next tier's tokens, then its result
    await hop.downstream.status()             # its TierStatus (cached), None while unreachable
    await hop.downstream.link()               # bandwidth and RTT to it (cached)

One interface, two transports (as vLLM v1's engine core never knows whether its client is in
the same process): `splitvlm.executor.local` runs the next tier's Executor in this process,
`splitvlm.service.forwarding` calls it over gRPC. The executor never knows which; tests script
their own (tests/executor).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from splitvlm.executor.messages import Event, Request
from splitvlm.executor.status import LinkEstimate, TierStatus

STATUS_MAX_AGE_S = 1.0  # how stale a relayed downstream status may be
PROBE_MAX_AGE_S = 10.0  # active link probes at most this often (passive measurement between)


@dataclass
class Forwarded:
    """One request on its way: what it put on the link, and the events that come back."""

    sent_bytes: int  # headers, plan, question and payload, as serialized once
    events: AsyncIterator[Event]


class Forwarder(Protocol):
    def execute(self, request: Request) -> Forwarded:
        """Serialize `request` (once) and start it; the events stream as they arrive."""
        ...


class Downstream(Protocol):
    async def status(self, max_age_s: float = STATUS_MAX_AGE_S) -> TierStatus | None:
        """The next tier's full status (profile, its own downstream); None if unreachable."""
        ...

    async def link(self, max_age_s: float = PROBE_MAX_AGE_S) -> LinkEstimate | None:
        """Bandwidth and RTT of the link to the next tier; None if unreachable."""
        ...


@dataclass(frozen=True)
class NextHop:
    """The tier after this one, reached by one transport."""

    forwarder: Forwarder
    downstream: Downstream

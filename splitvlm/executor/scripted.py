"""A next tier scripted by a function: the executor's transport for tests, as httpx's
MockTransport is the client's.

    async def fog(request: Request) -> AsyncIterator[Event]:
        yield TokenEvent(7, "red")
        yield ResultEvent(tokens=2)

    hop = ScriptedHop(fog)
    edge = Executor(Tier.EDGE, compute, next_hop=hop.next_hop)
    ...; hop.received                  # every request the edge forwarded

A handler may sleep, raise a splitvlm error or hang: whatever the next tier would do. The bytes
it reports sent are the request's payload and question (as splitvlm.executor.local does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from splitvlm.executor.messages import Event, Request
from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.executor.transport import Forwarded, NextHop

Handler = Callable[[Request], AsyncIterator[Event]]


class ScriptedHop:
    def __init__(self, handler: Handler, status: TierStatus | None = None,
                 link: LinkEstimate | None = None) -> None:
        self.handler, self._status, self._link = handler, status, link
        self.received: list[Request] = []

    @property
    def next_hop(self) -> NextHop:
        return NextHop(self, self)

    def execute(self, request: Request) -> Forwarded:
        self.received.append(request)
        return Forwarded(request.payload.nbytes + len(request.question.encode()),
                         self.handler(request))

    async def status(self, max_age_s: float = 0.0) -> TierStatus | None:
        return self._status

    async def link(self, max_age_s: float = 0.0) -> LinkEstimate | None:
        return self._link

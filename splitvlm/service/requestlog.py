"""One structured log line per request and tier, in logfmt, under the edge's request id:

    request_id=3f9a0c1b2d4e5f60 tier=edge plan=edge-vision+fog-lm lm=fog tokens=3
        predicted_ms=19.8 latency_ms=21.4 outcome=OK
    request_id=3f9a0c1b2d4e5f60 tier=fog plan=edge-vision+fog-lm stages=prefill..decode
        latency_ms=9.1 outcome=OK

`splitvlm serve TIER --log-level info` prints them (debug: more; warning: failures only, which
are logged at warning whatever their outcome).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from splitvlm.service.errors import abort, status_for
from splitvlm.service.telemetry import Telemetry


@dataclass
class RequestLog:
    """Fields gathered while a request runs; `emit` writes them as one line."""

    request_id: str
    tier: str
    started: float = field(default_factory=time.perf_counter)
    fields: dict[str, object] = field(default_factory=dict)
    outcome: str = "CANCELLED"  # unless the handler says otherwise: the caller went away
    onward: tuple[tuple[str, str], ...] = ()  # the trace context to send to the next tier

    def note(self, **fields: object) -> None:
        self.fields.update(fields)

    def emit(self, log: logging.Logger) -> None:
        elapsed_ms = (time.perf_counter() - self.started) * 1e3
        line = {"request_id": self.request_id, "tier": self.tier, **self.fields,
                "latency_ms": f"{elapsed_ms:.1f}", "outcome": self.outcome}
        text = " ".join(f"{k}={_value(v)}" for k, v in line.items())
        log.log(logging.INFO if self.outcome == "OK" else logging.WARNING, text)


@asynccontextmanager
async def served(context: grpc.aio.ServicerContext, trace: RequestLog, log: logging.Logger,
                 telemetry: Telemetry, method: str) -> AsyncIterator[RequestLog]:
    """One streaming call's frame: a failure ends the call with its status (bugs INTERNAL) and
    is noted; the line is written, the call counted and its span ended however the call ends.
    The handler sets `trace.outcome = "OK"` once the caller has what it asked for, and sends
    `trace.onward` (the trace context) with its request to the next tier."""
    span, trace.onward = telemetry.tracer.begin(method, context.invocation_metadata(),
                                                request_id=trace.request_id)
    try:
        yield trace
    except Exception as exc:  # noqa: BLE001 - every failure gets its status
        trace.outcome = status_for(exc).name
        trace.note(error=str(exc)[:200])
        await abort(context, exc, trace.request_id, log)
    finally:
        trace.emit(log)
        telemetry.metrics.request(method, trace.outcome, time.perf_counter() - trace.started)
        telemetry.tracer.end(span, trace.outcome, request_id=trace.request_id, **trace.fields)


def _value(value: object) -> str:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return f'"{text}"' if (" " in text or "=" in text or not text) else text

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
from dataclasses import dataclass, field


@dataclass
class RequestLog:
    """Fields gathered while a request runs; `emit` writes them as one line."""

    request_id: str
    tier: str
    started: float = field(default_factory=time.perf_counter)
    fields: dict[str, object] = field(default_factory=dict)

    def note(self, **fields: object) -> None:
        self.fields.update(fields)

    def emit(self, log: logging.Logger, outcome: str) -> None:
        elapsed_ms = (time.perf_counter() - self.started) * 1e3
        line = {"request_id": self.request_id, "tier": self.tier, **self.fields,
                "latency_ms": f"{elapsed_ms:.1f}", "outcome": outcome}
        text = " ".join(f"{k}={_value(v)}" for k, v in line.items())
        log.log(logging.INFO if outcome == "OK" else logging.WARNING, text)


def _value(value: object) -> str:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return f'"{text}"' if (" " in text or "=" in text or not text) else text

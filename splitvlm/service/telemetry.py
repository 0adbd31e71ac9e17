"""A tier's telemetry: its Prometheus metrics and its tracer, started from its config.

    telemetry = Telemetry.start(config, executor)   # metrics_port, otlp_endpoint
    telemetry.close()

`otlp_endpoint = "memory"` keeps the spans in this process (`memory_spans()`): tests, and a
look at one process's traces without a collector.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.plan.plan import Tier
from splitvlm.service.metrics import TierMetrics
from splitvlm.service.tracing import TierTracer, otlp_exporter

IN_MEMORY = "memory"


@cache
def memory_spans() -> InMemorySpanExporter:
    """The spans of every tier in this process whose otlp_endpoint is "memory"."""
    return InMemorySpanExporter()


@dataclass
class Telemetry:
    metrics: TierMetrics
    tracer: TierTracer

    @classmethod
    def off(cls, tier: Tier, executor: Executor) -> Telemetry:
        """Metrics counted but not served, no spans (a servicer built outside a server)."""
        return cls(TierMetrics(tier, executor), TierTracer(tier, None))

    @classmethod
    def start(cls, config: ServiceConfig, executor: Executor) -> Telemetry:
        metrics = TierMetrics(config.tier, executor)
        if config.metrics_port:
            metrics.serve(config.host, config.metrics_port)
        endpoint = config.otlp_endpoint
        if endpoint == IN_MEMORY:
            tracer = TierTracer(config.tier, memory_spans(), batch=False)
        else:
            tracer = TierTracer(config.tier, otlp_exporter(endpoint) if endpoint else None)
        return cls(metrics, tracer)

    def close(self) -> None:
        self.metrics.close()
        self.tracer.close()

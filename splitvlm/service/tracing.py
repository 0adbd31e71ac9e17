"""Traces of a request across the tiers (OpenTelemetry): a span per tier and call, the W3C trace
context carried to the next tier in gRPC metadata (`traceparent`, `tracestate`), exported by
OTLP/gRPC when the config sets `otlp_endpoint` (off by default).

    tracer = TierTracer(Tier.FOG, exporter)              # exporter None: no spans of its own
    span, onward = tracer.begin("Execute", metadata, request_id="3f9a...")
    request = replace(request, trace=onward)             # the forwarder sends it as metadata
    tracer.end(span, "OK", plan="edge-vision+fog-lm")

A tier with tracing off still passes the caller's context on, so the tiers that trace still
join one trace. Spans are not made current (no context variables across the handlers' yields):
the parent travels explicitly, in `Request.trace`.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from splitvlm.plan.plan import Tier

CONTEXT_KEYS = ("traceparent", "tracestate")
Carrier = tuple[tuple[str, str], ...]
PROPAGATOR = TraceContextTextMapPropagator()


def otlp_exporter(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, insecure=True)


class TierTracer:
    def __init__(self, tier: Tier, exporter: SpanExporter | None, batch: bool = True) -> None:
        """`exporter` None: this tier makes no spans (it passes contexts on); `batch`: export
        in the background (OTLP), else as each span ends (tests)."""
        self.tier = tier
        self.provider: TracerProvider | None = None
        if exporter is not None:
            self.provider = TracerProvider(resource=Resource.create(
                {"service.name": f"splitvlm-{tier.value}"}))
            self.provider.add_span_processor(BatchSpanProcessor(exporter) if batch
                                             else SimpleSpanProcessor(exporter))
            self.tracer = self.provider.get_tracer("splitvlm")

    def begin(self, method: str, metadata: Iterable[tuple[str, str | bytes]] | None,
              **attributes: str | int | float | bool) -> tuple[Span | None, Carrier]:
        """A span for a call whose metadata may carry the caller's context; the context to
        send on (this span's, or with tracing off the caller's as it came)."""
        incoming = {k: v for k, v in metadata or () if k in CONTEXT_KEYS and isinstance(v, str)}
        if self.provider is None:
            return None, tuple(incoming.items())
        span = self.tracer.start_span(f"splitvlm.{self.tier.value}/{method}",
                                      context=PROPAGATOR.extract(incoming),
                                      kind=SpanKind.SERVER, attributes=attributes)
        onward: dict[str, str] = {}
        PROPAGATOR.inject(onward, context=trace.set_span_in_context(span))
        return span, tuple(onward.items())

    def end(self, span: Span | None, outcome: str, **attributes: object) -> None:
        if span is None:
            return
        for key, value in attributes.items():
            span.set_attribute(key, str(value) if not isinstance(value, int | float | bool)
                               else value)
        span.set_attribute("splitvlm.outcome", outcome)
        if outcome != "OK":
            span.set_status(StatusCode.ERROR, outcome)
        span.end()

    def close(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()

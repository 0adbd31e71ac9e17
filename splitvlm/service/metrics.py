"""Prometheus metrics of one tier, on its own registry (so one process may hold three tiers),
served over HTTP at `metrics_port` (/metrics) when the config gives one.

    metrics = TierMetrics(Tier.FOG, executor)
    metrics.serve("0.0.0.0", 9464)                  # curl HOST:9464/metrics
    metrics.request("Execute", "OK", 0.012)        # every call, by outcome
    metrics.result(result_event)                    # this tier's stage times, bytes it sent
    metrics.close()

| metric | type | labels |
|---|---|---|
| splitvlm_requests_total | counter | tier, method, code (the gRPC status name) |
| splitvlm_request_seconds | histogram | tier, method |
| splitvlm_stage_seconds | histogram (from 50 us) | tier, stage (a stage range: "prefill..decode") |
| splitvlm_link_sent_bytes_total | counter | tier, link (the link this tier sends on) |
| splitvlm_plans_total | counter | tier, plan, lm (edge: the plans it ran) |
| splitvlm_prediction_error_ratio | histogram | tier (edge: abs(measured - predicted) / measured) |
| splitvlm_degraded_answers_total | counter | tier (edge: its LM answered for want of a fog) |
| splitvlm_cache_{hits,misses,evictions}_total | counter | tier (read from the feature cache) |
| splitvlm_cache_bytes, splitvlm_cache_entries | gauge | tier |
| splitvlm_engine_queue_depth, splitvlm_engine_batch_size | gauge | tier (the LM engine) |
| splitvlm_active_requests | gauge | tier |
"""

from __future__ import annotations

from collections.abc import Iterator
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from splitvlm.executor import Executor
from splitvlm.executor.messages import ResultEvent
from splitvlm.plan.plan import TIERS, Plan, Tier, outgoing

STAGE_BUCKETS = (5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25,
                 0.5, 1.0, 2.5)  # seconds: a visual block takes ~0.1 ms on the edge
REQUEST_BUCKETS = (1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ERROR_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)


class TierMetrics:
    def __init__(self, tier: Tier, executor: Executor) -> None:
        self.tier, self.executor = tier, executor
        self.registry = CollectorRegistry(auto_describe=True)
        r, t = self.registry, tier.value
        self._requests = Counter("splitvlm_requests", "Calls served, by outcome (gRPC code)",
                                 ["tier", "method", "code"], registry=r)
        self._request_s = Histogram("splitvlm_request_seconds", "Time to serve a call",
                                    ["tier", "method"], buckets=REQUEST_BUCKETS, registry=r)
        self._stage_s = Histogram("splitvlm_stage_seconds", "Time of a stage range on this tier",
                                  ["tier", "stage"], buckets=STAGE_BUCKETS, registry=r)
        self._sent = Counter("splitvlm_link_sent_bytes", "Bytes this tier sent to the next",
                             ["tier", "link"], registry=r)
        self._plans = Counter("splitvlm_plans", "Requests by the plan that ran them",
                              ["tier", "plan", "lm"], registry=r)
        self._error = Histogram("splitvlm_prediction_error_ratio",
                                "abs(measured - predicted) / measured latency of a planned request",
                                ["tier"], buckets=ERROR_BUCKETS, registry=r)
        self._degraded = Counter("splitvlm_degraded_answers",
                                 "Answers of the edge's LM for want of a reachable fog",
                                 ["tier"], registry=r)
        self._degraded.labels(t)
        r.register(_LoadCollector(tier, executor))
        self._http: tuple[WSGIServer, Thread] | None = None

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on host:port (port 0: a free one); the port."""
        self._http = start_http_server(port, host, registry=self.registry)
        return int(self._http[0].server_port)

    def close(self) -> None:
        if self._http is not None:
            server, thread = self._http
            server.shutdown()
            server.server_close()
            thread.join(5)
            self._http = None

    def request(self, method: str, code: str, seconds: float) -> None:
        self._requests.labels(self.tier.value, method, code).inc()
        self._request_s.labels(self.tier.value, method).observe(seconds)

    def result(self, result: ResultEvent) -> None:
        """This tier's stage times and the bytes it sent on, from a finished request's result."""
        describe = self.executor.graph.describe
        for timing in result.timings:
            if timing.tier is self.tier:
                self._stage_s.labels(self.tier.value, describe(timing.start, timing.stop)
                                     ).observe(timing.seconds)
        if self.tier is not TIERS[-1]:
            mine = outgoing(self.tier)
            for transfer in result.links:
                if transfer.link is mine:
                    self._sent.labels(self.tier.value, mine.value).inc(transfer.bytes)

    def plan(self, plan: Plan, lm: Tier, predicted_s: float | None, measured_s: float,
             degraded: bool) -> None:
        """Edge: a request's plan, its prediction error, whether it was degraded."""
        self._plans.labels(self.tier.value, plan.name, lm.value).inc()
        if predicted_s is not None and measured_s > 0:
            self._error.labels(self.tier.value).observe(abs(measured_s - predicted_s)
                                                        / measured_s)
        if degraded:
            self._degraded.labels(self.tier.value).inc()


class _LoadCollector(Collector):
    """The feature cache's counters and the LM engine's load, read when scraped."""

    def __init__(self, tier: Tier, executor: Executor) -> None:
        self.tier, self.executor = tier, executor

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        t = self.tier.value
        status = self.executor.status()
        yield _gauge("splitvlm_active_requests", "Requests executing on this tier", t,
                     status.active)
        yield _gauge("splitvlm_engine_queue_depth", "Requests waiting for the LM engine", t,
                     status.engine.queued)
        yield _gauge("splitvlm_engine_batch_size", "Requests the LM engine decodes together", t,
                     status.engine.running)
        cache = status.cache
        if cache is None:
            return
        for name, value, what in (("hits", cache.hits, "Feature cache hits"),
                                  ("misses", cache.misses, "Feature cache misses"),
                                  ("evictions", cache.evictions,
                                   "Entries evicted for the byte budget")):
            family = CounterMetricFamily(f"splitvlm_cache_{name}", what, labels=["tier"])
            family.add_metric([t], value)
            yield family
        yield _gauge("splitvlm_cache_bytes", "Bytes the feature cache holds", t, cache.bytes)
        yield _gauge("splitvlm_cache_entries", "Entries the feature cache holds", t,
                     cache.entries)


def _gauge(name: str, help_text: str, tier: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=["tier"])
    family.add_metric([tier], value)
    return family

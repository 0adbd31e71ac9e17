"""What the agent delivers: per-source counters, and each answer as an `AgentResult` to every
`Subscribe` stream and to the results file (a JSON line each).

    results = Results("/var/lib/splitvlm-agent/results.jsonl")
    subscriber = Subscriber(frozenset({"door"})); results.subscribers.add(subscriber)
    results.deliver(result)                       # stamps answered_unix_s and latency_s
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from google.protobuf.json_format import MessageToDict

from splitvlm.sdk.answer import Answer
from splitvlm.stages import StageGraph
from splitvlm.v1 import agent_pb2

SUBSCRIBER_QUEUE = 1024  # results a slow subscriber may be behind; older ones are dropped


@dataclass
class Counters:
    """One source's counts (AgentService.Status, the periodic log line)."""

    seen: int = 0
    skipped: int = 0
    dropped: int = 0
    refused: int = 0
    accepted: int = 0
    reused: int = 0
    encoded: int = 0
    answered: int = 0
    degraded: int = 0
    confirmed: int = 0
    errors: int = 0


class Subscriber:
    def __init__(self, sources: frozenset[str]) -> None:
        self.sources = sources
        self.queue: asyncio.Queue[agent_pb2.AgentResult] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self.dropped = 0

    def offer(self, result: agent_pb2.AgentResult) -> None:
        if self.sources and result.source not in self.sources:
            return
        if self.queue.full():  # a slow reader loses its oldest results, not the agent
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(result)


def fill(result: agent_pb2.AgentResult, answer: Answer, graph: StageGraph) -> None:
    """The answer's text, plan and request id into `result`; `encoded`: a vision stage ran."""
    result.text, result.degraded = answer.text, answer.degraded
    result.encoded = any(t.start < graph.prefill and t.stop > graph.patch_embed
                         for t in answer.timings)
    result.plan, result.request_id = answer.plan.name, answer.request_id


class Results:
    def __init__(self, results_file: str) -> None:
        self.subscribers: set[Subscriber] = set()
        self._sink = open(results_file, "a") if results_file else None  # noqa: SIM115

    def deliver(self, result: agent_pb2.AgentResult) -> None:
        result.answered_unix_s = time.time()
        result.latency_s = result.answered_unix_s - result.captured_unix_s
        for subscriber in list(self.subscribers):
            subscriber.offer(result)
        if self._sink is not None:
            doc = MessageToDict(result, preserving_proto_field_name=True,
                                always_print_fields_with_no_presence=True)
            self._sink.write(json.dumps(doc, sort_keys=True) + "\n")
            self._sink.flush()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()

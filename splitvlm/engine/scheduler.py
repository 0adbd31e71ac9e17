"""Admission control: the waiting queue, the running set and the KV reservation. No torch.

Each running request reserves the longest KV cache it can reach, so the sum of the real
lengths never exceeds `kv_budget_tokens`. Admission is first come, first served: when the head
of the queue does not fit, nothing behind it is admitted (no starvation of long prompts).
"""

from __future__ import annotations

from collections import deque

from splitvlm.engine.config import EngineConfig
from splitvlm.engine.errors import QueueFull
from splitvlm.engine.request import FinishReason, Request


class Scheduler:
    """Not thread-safe: the engine calls it under its lock."""

    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.kv_reserved = 0  # sum of kv_reserved over running, tokens

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def add(self, request: Request) -> None:
        if len(self.waiting) >= self.cfg.max_waiting:
            raise QueueFull(
                f"engine queue full: {len(self.waiting)} waiting (max_waiting="
                f"{self.cfg.max_waiting}), {len(self.running)} running; retry later"
            )
        self.waiting.append(request)

    def retire(self, now: float) -> list[tuple[Request, FinishReason]]:
        """Remove cancelled and expired requests, waiting or running; returns them."""
        out = [(r, reason) for r in self.waiting if (reason := _stop_reason(r, now))]
        out += [(r, reason) for r in self.running if (reason := _stop_reason(r, now))]
        gone = {id(r) for r, _ in out}
        self.waiting = deque(r for r in self.waiting if id(r) not in gone)
        for request in [r for r in self.running if id(r) in gone]:
            self.release(request)
        return out

    def admit(self) -> list[Request]:
        """Move requests from the queue to the running set while batch and KV budget allow."""
        admitted: list[Request] = []
        while self.waiting and len(self.running) < self.cfg.max_batch:
            head = self.waiting[0]
            if self.kv_reserved + head.kv_reserved > self.cfg.kv_budget_tokens:
                break
            self.waiting.popleft()
            self.running.append(head)
            self.kv_reserved += head.kv_reserved
            admitted.append(head)
        return admitted

    def release(self, request: Request) -> None:
        """A running request ended: free its slot and its reservation."""
        self.running.remove(request)
        self.kv_reserved -= request.kv_reserved

    def drain(self) -> list[Request]:
        """Remove every request, running then waiting."""
        out = self.running + list(self.waiting)
        self.running, self.waiting, self.kv_reserved = [], deque(), 0
        return out


def _stop_reason(request: Request, now: float) -> FinishReason | None:
    if request.handle.cancel_requested:
        return FinishReason.CANCELLED
    if request.expired(now):
        return FinishReason.DEADLINE
    return None

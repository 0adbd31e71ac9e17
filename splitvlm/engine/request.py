"""One request in the engine: the caller's handle (a token stream) and the engine's record.

Tokens reach the handle from the engine thread; any number of consumers read them, each
through its own queue: `tokens()` blocks a thread, `atokens()` awaits on the caller's event loop
(the engine hands items over with `loop.call_soon_threadsafe`). Each consumer sees every token
from the first, then the stream ends and `finish_reason` says why.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import torch


class FinishReason(StrEnum):
    EOS = "eos"  # the model produced the end-of-sequence token (included in the stream)
    LENGTH = "length"  # max_new_tokens reached, or the LM's positions ran out
    CANCELLED = "cancelled"  # RequestHandle.cancel()
    DEADLINE = "deadline"  # the request's deadline passed before it finished
    ABORTED = "aborted"  # the engine stopped or failed first


class _Sink(Protocol):
    def put(self, item: int | None) -> None: ...  # None ends the stream


class _LoopSink:
    """Feeds an asyncio.Queue that belongs to another thread's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, q: asyncio.Queue[int | None]) -> None:
        self.loop, self.queue = loop, q

    def put(self, item: int | None) -> None:
        if not self.loop.is_closed():  # a consumer whose loop is gone reads nothing more
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


class RequestHandle:
    """The caller's side of a request: its tokens as produced, how it ended, and cancel()."""

    def __init__(self, request_id: int, on_cancel: Callable[[], None]) -> None:
        self.request_id = request_id
        self._on_cancel = on_cancel  # wakes the engine so the slot is freed at the next step
        self._lock = threading.Lock()
        self._tokens: list[int] = []
        self._reason: FinishReason | None = None
        self._sinks: list[_Sink] = []
        self._done = threading.Event()
        self._cancelled = False

    @property
    def finish_reason(self) -> FinishReason | None:
        """Why the request ended; None while it runs."""
        return self._reason

    @property
    def cancel_requested(self) -> bool:
        return self._cancelled

    def output(self) -> list[int]:
        """The tokens produced so far."""
        with self._lock:
            return list(self._tokens)

    def cancel(self) -> None:
        """Ask the engine to drop the request; its slot and KV are freed at the next step."""
        self._cancelled = True
        self._on_cancel()

    def wait(self, timeout: float | None = None) -> FinishReason:
        """Block until the request ends; TimeoutError if it has not after `timeout` s."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"request {self.request_id} still running after {timeout} s")
        assert self._reason is not None
        return self._reason

    def tokens(self) -> Iterator[int]:
        """Blocking iterator over the answer ids, from the first, until the request ends."""
        sink: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._attach(sink)
        try:
            while (item := sink.get()) is not None:
                yield item
        finally:
            self._detach(sink)

    async def atokens(self) -> AsyncIterator[int]:
        """Async iterator over the answer ids, for the running event loop."""
        q: asyncio.Queue[int | None] = asyncio.Queue()
        sink = _LoopSink(asyncio.get_running_loop(), q)
        self._attach(sink)
        try:
            while (item := await q.get()) is not None:
                yield item
        finally:
            self._detach(sink)

    def emit(self, token: int) -> None:
        """Engine side: one more token."""
        with self._lock:
            self._tokens.append(token)
            for sink in self._sinks:
                sink.put(token)

    def finish(self, reason: FinishReason) -> None:
        """Engine side: the request ended; later calls are ignored."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            for sink in self._sinks:
                sink.put(None)
            self._sinks.clear()
        self._done.set()

    def _attach(self, sink: _Sink) -> None:
        with self._lock:  # replay, then follow: no token is lost or repeated
            for token in self._tokens:
                sink.put(token)
            if self._reason is None:
                self._sinks.append(sink)
            else:
                sink.put(None)

    def _detach(self, sink: _Sink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)


@dataclass(eq=False)
class Request:
    """The engine's record of one request; the engine thread alone changes it."""

    handle: RequestHandle
    visual: torch.Tensor  # (Nv, Dl) float32
    prompt: list[int]  # question ids + <ans>
    max_new_tokens: int  # already capped by the LM's positions
    deadline: float | None  # time.monotonic() seconds
    prompt_width: int  # len(prompt) padded up to the prefill bucket
    kv_reserved: int  # the longest its KV cache can grow, in tokens
    kv_len: int = 0  # KV-cache length now, in tokens (0 while waiting)
    last_pos: int = -1  # position id of the last fed token
    last_token: int = -1  # the last produced token: the next decode input
    n_generated: int = 0

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

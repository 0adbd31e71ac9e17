"""Continuous batching for one LM. Every step is schedule -> execute -> update:

    schedule  retire cancelled and expired requests; admit waiting ones while the running batch
              and the KV budget allow (splitvlm.engine.scheduler)
    execute   one forward: the admitted prompts (a segment per padded prompt length) beside
              the running batch's next tokens; norms, projections and MLPs run over all
              their tokens at once, attention per segment (splitvlm.engine.runner)
    update    stream every new token to its handle; retire requests that hit EOS or their length

The greedy tokens of a request are those of LM.generate on it alone, whoever shares its steps.
No transport here: a server submits, reads the RequestHandle, and maps the errors of
splitvlm.engine.errors to status codes. `start()` runs the steps on a background thread that
sleeps while nothing waits or runs; tests may call `step()` themselves instead.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

from splitvlm.engine import runner
from splitvlm.engine.batch import RunningBatch, select_rows
from splitvlm.engine.config import EngineConfig
from splitvlm.engine.errors import BadRequest, EngineClosed
from splitvlm.engine.request import FinishReason, Request, RequestHandle
from splitvlm.engine.scheduler import Scheduler
from splitvlm.model.lm import KV, LM

BATCH_HISTORY = 256  # decode batch sizes kept for stats()


@dataclass(frozen=True)
class EngineStats:
    running: int
    waiting: int
    steps: int
    tokens_generated: int
    batch_mean: float  # mean decode batch over the steps that decoded
    batch_history: tuple[int, ...]  # decode batch of the latest steps, oldest first
    kv_tokens: int  # KV-cache length summed over running requests, tokens
    kv_reserved: int  # the most those requests can grow to, tokens
    kv_budget_tokens: int


class Engine:
    """Serves greedy answers of `lm` to concurrent requests, batched step by step."""

    def __init__(self, lm: LM, cfg: EngineConfig, pad_id: int, eos_id: int) -> None:
        self.lm, self.cfg, self.pad_id, self.eos_id = lm.eval(), cfg, pad_id, eos_id
        self._scheduler = Scheduler(cfg)
        self._batch = RunningBatch()  # engine thread only
        self._cond = threading.Condition()  # guards the scheduler and _closed
        self._step_lock = threading.Lock()  # one step at a time
        self._closed = False
        self._thread: threading.Thread | None = None
        self._ids = itertools.count()
        self._steps = self._tokens = self._decode_steps = self._decoded_rows = 0
        self._history: deque[int] = deque(maxlen=BATCH_HISTORY)

    def submit(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int | None = None,
        deadline: float | None = None,
    ) -> RequestHandle:
        """Queue a request: visual (N', Dl) float32, prompt = question ids + <ans>; deadline in
        time.monotonic() seconds. Raises QueueFull, EngineClosed, or BadRequest (a ValueError).
        max_new_tokens defaults to the config's; it is cut to what the LM's positions hold."""
        request = self._new_request(visual, prompt, max_new_tokens, deadline)
        with self._cond:
            if self._closed:
                raise EngineClosed("the engine is stopped and takes no more requests")
            self._scheduler.add(request)
            self._cond.notify_all()
        return request.handle

    def step(self) -> None:
        """One scheduler iteration: schedule, execute, update."""
        with self._step_lock, torch.no_grad():
            with self._cond:
                retired = self._scheduler.retire(time.monotonic())
                admitted = self._scheduler.admit()
            self._batch.remove([request for request, _ in retired])
            for request, reason in retired:
                request.handle.finish(reason)
            self._execute(admitted)
            self._steps += 1

    def start(self) -> None:
        """Run steps on a background thread until stop()."""
        with self._cond:
            if self._closed:
                raise EngineClosed("a stopped engine cannot start again")
            if self._thread is not None:
                raise RuntimeError("the engine is already running")
            self._thread = threading.Thread(
                target=self.run_forever, name="splitvlm-engine", daemon=True
            )
        self._thread.start()

    def run_forever(self) -> None:
        """Run steps until stop(), sleeping while no request waits or runs."""
        try:
            while self._wait_for_work():
                self.step()
        finally:
            self._shutdown()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the loop (joining its thread up to `timeout` s); requests left end ABORTED."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._shutdown()

    def stats(self) -> EngineStats:
        with self._cond:
            running, waiting = list(self._scheduler.running), len(self._scheduler.waiting)
            reserved = self._scheduler.kv_reserved
        return EngineStats(
            running=len(running), waiting=waiting, steps=self._steps,
            tokens_generated=self._tokens,
            batch_mean=self._decoded_rows / self._decode_steps if self._decode_steps else 0.0,
            batch_history=tuple(self._history), kv_tokens=sum(r.kv_len for r in running),
            kv_reserved=reserved, kv_budget_tokens=self.cfg.kv_budget_tokens,
        )

    def _new_request(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int | None,
        deadline: float | None,
    ) -> Request:
        lm, nv = self.lm.cfg, self.lm.cfg.n_visual
        _check_visual(visual, (nv, lm.visual_dim))
        _check_prompt(prompt, lm.vocab_size)
        max_new = self.cfg.max_new_tokens if max_new_tokens is None else max_new_tokens
        if not 1 <= max_new <= self.cfg.max_new_tokens:
            raise BadRequest(f"max_new_tokens={max_new} outside 1..{self.cfg.max_new_tokens}")
        room = lm.max_len - nv - len(prompt) + 1  # answer tokens the positions hold
        if room < 1:
            raise BadRequest(f"prompt of {len(prompt)} tokens too long: {nv} visual tokens + "
                             f"prompt must fit the LM's max_len={lm.max_len}")
        max_new = min(max_new, room)
        width = -(-len(prompt) // self.cfg.prefill_bucket) * self.cfg.prefill_bucket
        kv_reserved = nv + width + max_new - 1  # the last answer token is never fed
        if kv_reserved > self.cfg.kv_budget_tokens:
            raise BadRequest(f"request needs {kv_reserved} KV tokens, more than "
                             f"kv_budget_tokens={self.cfg.kv_budget_tokens}")
        handle = RequestHandle(next(self._ids), self._wake)
        return Request(handle, torch.from_numpy(visual.copy()), list(prompt), max_new, deadline,
                       width, kv_reserved)

    def _execute(self, admitted: list[Request]) -> None:
        """One forward: the admitted prompts (a segment per padded width) beside the running
        batch's next tokens; then their tokens are recorded and the prefilled rows join."""
        groups: dict[int, list[Request]] = {}
        for request in admitted:
            groups.setdefault(request.prompt_width, []).append(request)
        prefills = [runner.prefill(self.lm, group, width, self.pad_id)
                    for width, group in sorted(groups.items())]
        segments = [p.segment for p in prefills]
        rows = self._batch.rows
        if rows:
            assert self._batch.past is not None
            tokens = torch.tensor([r.last_token for r in rows])  # (B,)
            positions = torch.tensor([r.last_pos + 1 for r in rows])  # (B,)
            segments.append(runner.decode(self.lm, tokens, positions, self._batch.past,
                                          self._batch.key_valid))
        if not segments:
            return
        outputs = self.lm.forward_segments(segments)
        if rows:
            logits, past = outputs[-1]
            self._decoded(rows, logits[:, -1], past, segments[-1].key_valid)
        for prefill, (logits, past) in zip(prefills, outputs, strict=False):
            self._prefilled(prefill, logits[:, -1], past)

    def _prefilled(self, prefill: runner.Prefill, logits: torch.Tensor, past: KV) -> None:
        key_valid = prefill.segment.key_valid
        assert key_valid is not None
        keep = []
        for row, (request, token) in enumerate(zip(prefill.group, logits.argmax(-1).tolist(),
                                                   strict=True)):
            request.kv_len, request.last_pos = key_valid.shape[1], int(prefill.last_pos[row])
            if not self._record(request, token):
                keep.append(row)
        if keep:
            self._batch.add([prefill.group[i] for i in keep], *select_rows(past, key_valid, keep))

    def _decoded(self, rows: list[Request], logits: torch.Tensor, past: KV,
                 key_valid: torch.Tensor | None) -> None:
        assert key_valid is not None
        self._batch.update(past, key_valid)
        self._history.append(len(rows))
        self._decode_steps += 1
        self._decoded_rows += len(rows)
        finished = []
        for request, token in zip(rows, logits.argmax(-1).tolist(), strict=True):
            request.last_pos, request.kv_len = request.last_pos + 1, request.kv_len + 1
            assert request.kv_len <= request.kv_reserved
            if self._record(request, token):
                finished.append(request)
        self._batch.remove(finished)

    def _record(self, request: Request, token: int) -> bool:
        """Stream a new token; ends the request (True) on EOS or at its length."""
        request.last_token, request.n_generated = token, request.n_generated + 1
        self._tokens += 1
        request.handle.emit(token)
        if token == self.eos_id:
            reason = FinishReason.EOS
        elif request.n_generated >= request.max_new_tokens:
            reason = FinishReason.LENGTH
        else:
            return False
        with self._cond:
            self._scheduler.release(request)
        request.handle.finish(reason)
        return True

    def _wait_for_work(self) -> bool:
        with self._cond:
            while not self._closed and not self._scheduler.has_work():
                self._cond.wait()
            return not self._closed

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _shutdown(self) -> None:
        with self._step_lock:
            with self._cond:
                self._closed = True
                left = self._scheduler.drain()
            self._batch.clear()
        for request in left:
            request.handle.finish(FinishReason.ABORTED)


def _check_visual(visual: np.ndarray, shape: tuple[int, int]) -> None:
    if not isinstance(visual, np.ndarray) or visual.shape != shape:
        got = getattr(visual, "shape", type(visual).__name__)
        raise BadRequest(f"visual tokens of shape {got}, expected (N', Dl) = {shape}")
    if visual.dtype != np.float32:
        raise BadRequest(f"visual tokens of dtype {visual.dtype}, expected float32")


def _check_prompt(prompt: list[int], vocab_size: int) -> None:
    if not prompt:
        raise BadRequest("empty prompt: expected question ids + <ans>")
    bad = [t for t in prompt if not 0 <= t < vocab_size]
    if bad:
        raise BadRequest(f"prompt ids {bad[:5]} outside the vocabulary 0..{vocab_size - 1}")

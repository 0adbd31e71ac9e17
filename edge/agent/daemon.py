"""The agent's pipeline: per source a reader, a ring, workers that ask the standing questions
through the edge; results to subscribers and the results file; a journal so that nothing
accepted is lost; a confirmer that re-asks degraded answers upstream when a fog is back.

    agent = Agent(config, client, journal, graph)
    await agent.start()          # asks again what the journal holds, starts the sources
    agent.reload(new_config)     # SIGHUP: sources added, removed, changed; work in flight kept
    await agent.drain(grace_s)   # SIGTERM: no new frames; accepted ones answered or kept

A frame a worker takes from the ring is *accepted*: its questions are journaled before they
are asked and leave the journal when answered (or, degraded with confirm_upstream, when
confirmed). An ask that fails for a reason that passes (the edge restarting, a deadline) is
tried again; one that cannot succeed (a question the edge refuses) gives a result with `error`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from edge.agent.config import EVERY_SCENE, AgentConfig, SourceConfig
from edge.agent.frames import Frame, Ring
from edge.agent.journal import Job, Journal, JournalFull
from edge.agent.nearby import KeyFrame, KeyFrames
from edge.agent.results import Counters, Results, fill
from edge.agent.sources import source_for
from splitvlm.data.camera import encode_image
from splitvlm.errors import (
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    NotAvailable,
    Overloaded,
    ServerError,
    SplitVLMError,
)
from splitvlm.sdk import AsyncClient
from splitvlm.sdk.answer import Answer
from splitvlm.stages import StageGraph
from splitvlm.v1 import agent_pb2

log = logging.getLogger("splitvlm.agent")
RETRYABLE = (NotAvailable, Overloaded, DeadlineExceeded, FailedPrecondition, DataLoss)
RETRY_FIRST_S, RETRY_MAX_S = 0.1, 2.0  # backoff between tries of a failing ask
CONFIRM_EVERY_S = 1.0  # how often the confirmer tries the oldest degraded answer
CONFIRM_PRESET = "most-accurate"  # a confirmation wants an upstream LM
STATS_EVERY_S = 10.0  # one logfmt line per source this often (when it moved)


@dataclass
class Accepted:
    """A frame with its journaled questions, on its way to the edge."""

    frame: Frame
    png: bytes  # what is sent: the frame, or (reused) its key frame
    reused: bool
    jobs: list[tuple[int, str]]  # (job id, question)


@dataclass
class SourceRunner:
    config: SourceConfig
    ring: Ring[Frame | Accepted]  # camera frames, or (SubmitFrame) frames journaled already
    keys: KeyFrames
    counters: Counters = field(default_factory=Counters)
    seq: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None
    workers: list[asyncio.Task[None]] = field(default_factory=list)


class Agent:
    def __init__(self, config: AgentConfig, client: AsyncClient, journal: Journal,
                 graph: StageGraph) -> None:
        self.config, self.client, self.journal, self.graph = config, client, journal, graph
        self.sources: dict[str, SourceRunner] = {}
        self.results = Results(config.results_file)
        self.stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._upstream_back = asyncio.Event()

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        recovered = self.journal.pending("ask")
        if recovered:
            log.info("asking again %d question(s) accepted before the last stop",
                     len(recovered))
            self._spawn(self._recover(recovered))
        for source in self.config.sources:
            self._start_source(source)
        self._spawn(self._confirmer())
        self._spawn(self._log_stats())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _start_source(self, config: SourceConfig) -> None:
        runner = SourceRunner(config, Ring[Frame | Accepted](config.ring),
                              KeyFrames(config.near_duplicate))
        self.sources[config.name] = runner
        self._start_reader(runner)
        runner.workers = [self._spawn(self._work(runner)) for _ in range(config.workers)]
        log.info("source %s: %s %s, %d question(s), every %s", config.name, config.kind,
                 config.path or "(SubmitFrame)", len(config.questions), config.every)

    def _start_reader(self, runner: SourceRunner) -> None:
        runner.stop = asyncio.Event()
        source = source_for(runner.config, self.graph.image_size)

        def emit(pixels: np.ndarray, captured: float) -> None:
            self._emit(runner, pixels, captured)

        runner.reader = self._spawn(self._read(runner, source.run(emit, runner.stop)))

    async def _read(self, runner: SourceRunner, reading: Coroutine[Any, Any, None]) -> None:
        try:
            await reading
            if not runner.stop.is_set():
                log.info("source %s ended", runner.config.name)
        except Exception:  # a source that fails stops alone, loudly
            log.exception("source %s failed", runner.config.name)

    def reload(self, config: AgentConfig) -> None:
        """Apply a new config's sources: new ones start, removed ones stop (their accepted
        frames are still answered), changed ones take the new settings for the next frame."""
        for name in set(self.sources) - {s.name for s in config.sources}:
            removed = self.sources.pop(name)
            removed.stop.set()
            removed.ring.close()
            log.info("source %s removed", name)
        for source in config.sources:
            runner = self.sources.get(source.name)
            if runner is None:
                self._start_source(source)
                continue
            old, runner.config = runner.config, source
            runner.ring.capacity = source.ring
            runner.keys.threshold = source.near_duplicate
            if (old.kind, old.path, old.realtime, old.loop) != (source.kind, source.path,
                                                                 source.realtime, source.loop):
                runner.stop.set()
                self._start_reader(runner)
            while len(runner.workers) < source.workers:
                runner.workers.append(self._spawn(self._work(runner)))
            if old != source:
                log.info("source %s reloaded", source.name)
        kept = ("edge", "host", "port", "state_dir", "results_file", "insecure", "tls_ca",
                "token_file", "tls_cert", "tls_key")
        changed = [f.name for f in fields(AgentConfig)
                   if f.name in kept and getattr(config, f.name) != getattr(self.config, f.name)]
        if changed:
            log.warning("reload: %s change only at the next start", ", ".join(changed))
        self.config = config

    async def drain(self, grace_s: float) -> None:
        """Stop reading; answer what was accepted within `grace_s`; the rest stays on disk."""
        self.stopping = True
        for runner in self.sources.values():
            runner.stop.set()
            runner.ring.close()
        workers = [w for r in self.sources.values() for w in r.workers]
        done, left = await asyncio.wait(workers, timeout=grace_s) if workers else (set(), set())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        pending = len(self.journal)
        if left or pending:
            log.warning("stopped with %d question(s) on disk: they are answered after the "
                        "next start", pending)
        self.results.close()

    # --- frames in ----------------------------------------------------------------------------

    def _emit(self, runner: SourceRunner, pixels: np.ndarray, captured: float) -> None:
        """A camera source's frame: selected or skipped, then into the ring (drop-oldest)."""
        frame = self._select(runner, pixels, captured)
        if frame is not None and runner.ring.put(frame) is not None:
            runner.counters.dropped += 1

    def _select(self, runner: SourceRunner, pixels: np.ndarray, captured: float
                ) -> Frame | None:
        counters, config = runner.counters, runner.config
        frame = Frame(config.name, runner.seq, pixels, captured)
        runner.seq += 1
        counters.seen += 1
        every = config.every_n
        if (every == EVERY_SCENE and runner.keys.match(pixels, frame.phash) is not None) or (
                every > 1 and frame.seq % every):
            counters.skipped += 1
            return None
        return frame

    def submit(self, name: str, pixels: np.ndarray, captured: float) -> int | None:
        """A SubmitFrame frame for source `name`: its sequence number (None: skipped by the
        source's `every`). LookupError for an unknown source; Overloaded when its queue or the
        journal is full (nothing was accepted)."""
        runner = self.sources.get(name)
        if runner is None or runner.config.kind != "grpc":
            grpc_sources = sorted(n for n, r in self.sources.items() if r.config.kind == "grpc")
            raise LookupError(f"no source {name!r} of kind 'grpc' in the agent's config; "
                              f"those are {grpc_sources}")
        if self.stopping:
            raise NotAvailable("the agent is stopping; submit again after it restarts")
        if len(runner.ring) >= runner.ring.capacity:
            runner.counters.refused += 1
            raise Overloaded(f"source {name!r} holds {len(runner.ring)} frames (ring = "
                             f"{runner.ring.capacity}); send more slowly",
                             retry_after_s=self.retry_after_s(runner))
        frame = self._select(runner, pixels, captured)
        if frame is None:
            return None
        accepted = self._accept(runner, frame)
        if accepted is None:
            raise Overloaded(f"the agent holds {len(self.journal)} unanswered questions "
                             f"(max_pending = {self.config.max_pending})",
                             retry_after_s=self.retry_after_s(runner))
        runner.ring.put(accepted)
        return frame.seq

    def retry_after_s(self, runner: SourceRunner) -> float:
        return max(0.05, 0.05 * len(runner.ring) * len(runner.config.questions))

    def _accept(self, runner: SourceRunner, frame: Frame) -> Accepted | None:
        """Near-duplicate or key frame, then journaled: None when the journal is full."""
        config = runner.config
        key = runner.keys.match(frame.pixels, frame.phash)
        reused = key is not None
        if key is None:
            key = KeyFrame(frame.pixels, encode_image(frame.pixels, "PNG"), frame.phash)
            runner.keys.add(key)
        try:
            ids = self.journal.accept(config.name, frame.seq, key.png, frame.captured_unix_s,
                                      config.questions, reused)
        except JournalFull as exc:
            runner.counters.refused += 1
            log.warning("source %s: frame %d not accepted: %s", config.name, frame.seq, exc)
            return None
        runner.counters.accepted += 1
        runner.counters.reused += reused
        return Accepted(frame, key.png, reused, list(zip(ids, config.questions, strict=True)))

    # --- asking -------------------------------------------------------------------------------

    async def _work(self, runner: SourceRunner) -> None:
        while (item := await runner.ring.get()) is not None:
            try:
                accepted = item if isinstance(item, Accepted) else self._accept(runner, item)
                if accepted is not None:
                    await self._answer_frame(runner, accepted)
            except Exception:  # a bug must not stop the source: what was journaled stays
                log.exception("source %s: a frame failed; the next one is taken",
                              runner.config.name)

    async def _answer_frame(self, runner: SourceRunner, accepted: Accepted) -> None:
        encoded = False
        for job_id, question in accepted.jobs:
            answer = await self._answer(runner.config, job_id, question, accepted.png,
                                        accepted.frame, accepted.reused)
            encoded = encoded or answer
        runner.counters.encoded += encoded

    async def _answer(self, config: SourceConfig, job_id: int, question: str, png: bytes,
                      frame: Frame, reused: bool) -> bool:
        """Ask until answered (or stopping): publish, journal; whether vision ran."""
        result = agent_pb2.AgentResult(source=frame.source, frame=frame.seq, question=question,
                                       reused=reused, captured_unix_s=frame.captured_unix_s)
        counters = self._counters(frame.source)
        try:
            answer = await self._ask(png, question, config.plan, config.preset,
                                     config.policies, config.deadline_s)
        except asyncio.CancelledError:
            raise  # stopping: the job stays in the journal
        except SplitVLMError as exc:  # it cannot be answered: say so, do not ask forever
            result.error = f"{type(exc).__name__}: {exc}"
            counters.errors += 1
            self.results.deliver(result)
            self.journal.answered(job_id)
            return False
        fill(result, answer, self.graph)
        counters.answered += 1
        counters.degraded += answer.degraded
        if answer.degraded and config.confirm_upstream:
            self.journal.to_confirm(job_id)
        else:
            self.journal.answered(job_id)
        if not answer.degraded:
            self._upstream_back.set()
        self.results.deliver(result)
        return result.encoded

    async def _ask(self, png: bytes, question: str, plan: str, preset: str,
                   policies: tuple[str, ...], deadline_s: float) -> Answer:
        """One question, tried again while the failure is one that passes."""
        wait = RETRY_FIRST_S
        while True:
            try:
                return await self.client.ask(png, question, plan=plan, preset=preset or None,
                                             policy=set(policies), deadline_s=deadline_s)
            except RETRYABLE as exc:
                log.warning("asking again in %.1f s: %s: %s", wait, type(exc).__name__, exc)
            except ServerError as exc:  # a bug at the edge, or it went away mid-stream
                log.warning("asking again in %.1f s: %s", wait, exc)
            await asyncio.sleep(wait)
            wait = min(2 * wait, RETRY_MAX_S)

    def _counters(self, source: str) -> Counters:
        runner = self.sources.get(source)
        return runner.counters if runner is not None else Counters()

    async def _recover(self, jobs: list[Job]) -> None:
        """Questions accepted before the last stop, asked in the order they came."""
        for job in jobs:
            runner = self.sources.get(job.source)
            frame = Frame(job.source, job.seq, np.empty((0, 0, 3), np.uint8),
                          job.captured_unix_s)
            if runner is not None:
                config = runner.config
            else:
                log.warning("source %s is no longer configured: asking its accepted frame "
                            "%d with the planner's defaults", job.source, job.seq)
                config = SourceConfig(job.source, "grpc", ("describe the image",))
            await self._answer(config, job.id, job.question, job.png, frame, job.reused)

    async def _confirmer(self) -> None:
        """Degraded answers of confirm_upstream sources, asked again once a fog answers."""
        while True:
            try:
                await self._confirm_some()
            except Exception:  # a bug must not end confirmation: the jobs stay on disk
                log.exception("confirming degraded answers failed; trying again")
                await asyncio.sleep(CONFIRM_EVERY_S)

    async def _confirm_some(self) -> None:
        while True:
            if self.journal.count("confirm") == 0:
                self._upstream_back.clear()
                await asyncio.sleep(CONFIRM_EVERY_S)
                continue
            try:
                await asyncio.wait_for(self._upstream_back.wait(), CONFIRM_EVERY_S)
            except TimeoutError:
                pass  # try the oldest anyway: the fog may be back with nothing else asked
            for job in self.journal.pending("confirm", limit=16):
                if not await self._confirm(job):
                    self._upstream_back.clear()
                    break

    async def _confirm(self, job: Job) -> bool:
        try:
            answer = await self.client.ask(job.png, job.question, plan="auto",
                                           preset=CONFIRM_PRESET, deadline_s=10.0)
        except SplitVLMError as exc:
            log.info("confirmation of %s frame %d waits: %s", job.source, job.seq, exc)
            return False
        if answer.degraded:
            return False
        result = agent_pb2.AgentResult(source=job.source, frame=job.seq, question=job.question,
                                       confirmed=True, reused=job.reused,
                                       captured_unix_s=job.captured_unix_s)
        fill(result, answer, self.graph)
        self.journal.answered(job.id)
        self._counters(job.source).confirmed += 1
        self.results.deliver(result)
        return True

    async def _log_stats(self) -> None:
        """Every STATS_EVERY_S, a logfmt line per source whose counters moved."""
        last: dict[str, Counters] = {}
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            for name, runner in self.sources.items():
                now = Counters(**vars(runner.counters))
                if last.get(name) != now:
                    log.info("source=%s %s pending=%d awaiting_confirmation=%d", name,
                             " ".join(f"{k}={v}" for k, v in vars(now).items()),
                             len(self.journal) - self.journal.count("confirm"),
                             self.journal.count("confirm"))
                last[name] = now

    def status(self) -> agent_pb2.AgentStatus:
        return agent_pb2.AgentStatus(
            sources=[agent_pb2.SourceStatus(name=name, kind=r.config.kind,
                                            **vars(r.counters))
                     for name, r in self.sources.items()],
            pending=self.journal.count("ask"),
            awaiting_confirmation=self.journal.count("confirm"))


def state_path(config: AgentConfig) -> Path:
    return Path(config.state_dir) / "journal.sqlite"

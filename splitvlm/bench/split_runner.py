"""Running the `bench split` workload against the three tiers inside one testbed profile.

    with TierBed(profile, options) as bed:            # namespaces, shaping, relays, services
        runs = bed.measure(requests, labels, warmup)  # request-major, plans interleaved
        change = bed.change_experiment(requests, ...) # optional: the edge-fog link drops 10x

The host process talks to the edge over its unix socket (no link in between); each call is
timed client-side. Edge CPU seconds come from the edge cgroup: `cpuacct.usage` where cpuacct
is mounted with cpu, else the run time of the group's threads (/proc/PID/task/TID/schedstat,
nanoseconds), else the sum of the edge's own timings in the answer.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import grpc
from tqdm import tqdm

from splitvlm.bench.split_workload import BenchRequest
from splitvlm.errors import SplitVLMError
from splitvlm.evaluate import normalise
from splitvlm.executor.builders import visual_meta
from splitvlm.plan.plan import Forecast, Plan, Tier
from splitvlm.plan.qtype import ANSWER_TOKENS, classify
from splitvlm.sdk import Answer, Client
from splitvlm.testbed import Testbed
from splitvlm.testbed.cgroup import pids as cgroup_pids
from splitvlm.testbed.profiles import Profile
from splitvlm.testbed.state import state_dir
from splitvlm.testbed.tiers import edge_target, tier_services

AUTO = "auto/"  # label prefix of planner runs: "auto/fastest"
READY_TIMEOUT_S = 300.0  # start-up measurement at a quarter core, on a loaded machine
CHANGE_LINK = "edge_fog"
CHANGE_PRESET = "battery"  # its plan depends on the bandwidth: airtime costs energy
CHANGE_QTYPE = "caption"  # battery sends these to the fog LM: long decodes, 2 pt from the edge
T = TypeVar("T")


@dataclass(frozen=True)
class BedOptions:
    checkpoints: Path
    threads: int = 1  # compute threads per tier
    prefix: str = "svbench"
    ports: dict[str, int] = field(
        default_factory=lambda: {"edge": 43051, "fog": 43052, "cloud": 43053})
    deadline_s: float = 60.0  # per request; generous, so that it never shapes a plan
    gap_s: float = 0.0  # idle time before each request (0.1 = one CFS period: a full quota)


@dataclass(frozen=True)
class Run:
    """One execution of one plan (or preset) on one request."""

    label: str  # a fixed plan name, or "auto/PRESET"
    request: int
    latency_s: float | None  # client-side, None when the call failed
    correct: bool
    link_bytes: dict[str, int]  # link -> bytes the answer reports
    edge_cpu_s: float
    predicted_s: float | None  # auto only: the planner's predicted latency
    chosen: str  # the plan the edge ran (the planner's candidate name for auto)
    error: str = ""
    edge_wall_s: float = 0.0  # the edge's stage timings summed (wall time, stalls included)
    predicted_edge_s: float | None = None  # auto only: the planner's edge compute seconds
    words: int = 0  # answer tokens (one word each, end-of-answer not counted)
    predicted_adjusted_s: float | None = None  # auto only: see `length_adjusted`
    placement: str = ""  # where the stages ran and what crossed each link, precision aside
    signature: str = ""  # the plan that ran: placement with the edge's vision precision
    served_s: float | None = None  # the edge's own latency: call received -> answer sent


def run_labels(plan_names: Sequence[str], presets: Sequence[str]) -> list[str]:
    return [*plan_names, *(AUTO + p for p in presets)]


class EdgeCpu:
    """CPU seconds used by the edge cgroup's processes so far (monotonic while they live)."""

    def __init__(self, cgroup_path: Path) -> None:
        self.path = cgroup_path
        self.source = "cpuacct" if (cgroup_path / "cpuacct.usage").exists() else "schedstat"
        if self.source == "schedstat" and self.read() is None:
            self.source = "timings"

    def read(self) -> float | None:
        if self.source == "cpuacct":
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        total_ns, seen = 0, False
        for pid in cgroup_pids(self.path):
            for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
                try:
                    total_ns += int(stat.read_text().split()[0])
                    seen = True
                except (OSError, ValueError, IndexError):
                    continue  # a thread that just exited
        return total_ns / 1e9 if seen else None


class TierBed:
    """A testbed running the three tiers, and a client of its edge."""

    def __init__(self, profile: Profile, options: BedOptions) -> None:
        self.profile, self.options = profile, options
        self.graph = visual_meta(options.checkpoints)[0]
        directory = state_dir(options.prefix)
        services = tier_services(options.ports, options.prefix, directory,
                                 checkpoint_dir=str(options.checkpoints), threads=options.threads)
        self.bed = Testbed(profile, services, options.ports, prefix=options.prefix,
                           ready_timeout_s=READY_TIMEOUT_S)
        self.target = edge_target(directory)
        self.client: Client | None = None
        self.cpu: EdgeCpu | None = None

    def __enter__(self) -> TierBed:
        self.bed.up()
        try:
            self.client = Client(self.target)
            grpc.channel_ready_future(self.client.channel).result(timeout=READY_TIMEOUT_S)
            self.cpu = EdgeCpu(self.bed.cgroup_path)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.client is not None:
                self.client.close()
        finally:
            self.bed.down()

    # --- one call ----------------------------------------------------------------------------

    def ask(self, request: BenchRequest, label: str) -> Run:
        assert self.client is not None and self.cpu is not None, "use TierBed as a context"
        plan, preset = ("auto", label.removeprefix(AUTO)) if label.startswith(AUTO) else (
            label, "")
        if self.options.gap_s > 0:
            time.sleep(self.options.gap_s)
        cpu0 = self.cpu.read()
        t0 = time.perf_counter()
        try:
            answer = self.client.ask(request.image, request.question, plan=plan, preset=preset,
                                     no_cache=True, deadline_s=self.options.deadline_s)
        except SplitVLMError as exc:
            return Run(label, request.index, None, False, {}, 0.0, None, "",
                       f"{type(exc).__name__}: {exc}")
        latency_s = time.perf_counter() - t0
        cpu1 = self.cpu.read()
        edge_s = (cpu1 - cpu0 if cpu0 is not None and cpu1 is not None
                  else _edge_timings_s(answer))
        predicted = answer.plan.predicted if plan == "auto" else None
        return Run(label, request.index, latency_s,
                   normalise(answer.text) == normalise(request.answer), answer.bytes_per_link,
                   edge_s, None if predicted is None else predicted.latency_s, answer.plan.name,
                   edge_wall_s=_edge_timings_s(answer),
                   predicted_edge_s=None if predicted is None else predicted.edge_compute_s,
                   words=len(answer.text.split()),
                   predicted_adjusted_s=length_adjusted(predicted, self.graph.decode,
                                                        request.question,
                                                        len(answer.text.split())),
                   placement=placement(answer.plan),
                   signature=placement(answer.plan, precision=True) + escalated_to(answer),
                   served_s=answer.latency_s or None)

    # --- the measured passes -----------------------------------------------------------------

    def measure(self, requests: Sequence[BenchRequest], labels: Sequence[str],
                warmup: Sequence[BenchRequest], repeats: int = 1) -> list[Run]:
        """A discarded warm-up pass, then every label on every request `repeats` times,
        request-major, each round in a fresh random order (seeded by profile, request and
        round): what ran just before a plan (the edge's CPU quota left in the period, the fog's
        engine state) is then alike for every plan in expectation."""
        for request in _progress(warmup, f"{self.profile.name} warm-up"):
            for label in labels:
                self.ask(request, label)
        runs = []
        for request in _progress(requests, self.profile.name):
            for round_ in range(repeats):
                order = list(labels)
                random.Random(f"{self.profile.name}/{request.index}/{round_}").shuffle(order)
                runs += [self.ask(request, label) for label in order]
        return runs

    def change_experiment(self, requests: Sequence[BenchRequest], before: int, after: int,
                          factor: float, preset: str = CHANGE_PRESET) -> dict[str, object]:
        """auto/`preset` requests one after another; after `before` of them the edge-fog
        bandwidth drops by `factor`. How many requests until the chosen placement changes?
        (`vacuous`: the plan chosen before the drop sends nothing over that link, so it need not
        change.)"""
        label = AUTO + preset
        link = getattr(self.profile, CHANGE_LINK)
        runs_before = [self.ask(requests[k % len(requests)], label)
                       for k in _progress(range(before), "change: before")]
        self.bed.set_bandwidth(CHANGE_LINK, link.bandwidth_bps / factor)
        dropped = time.perf_counter()
        runs_after: list[Run] = []
        switch: int | None = None  # requests after the drop until the placement changed
        switched_s: float | None = None
        last = runs_before[-1] if runs_before else None
        for k in _progress(range(after), "change: after"):
            run = self.ask(requests[(before + k) % len(requests)], label)
            runs_after.append(run)
            if (switch is None and last is not None and run.placement
                    and run.placement != last.placement):
                switch, switched_s = k + 1, time.perf_counter() - dropped
        return {
            "profile": self.profile.name, "preset": preset, "link": CHANGE_LINK,
            "bandwidth_before_bps": link.bandwidth_bps,
            "bandwidth_after_bps": link.bandwidth_bps / factor,
            "requests_before": before, "requests_after": after,
            "from": last.placement if last else None,
            "to": None if switch is None else runs_after[switch - 1].placement,
            "requests_to_switch": switch, "seconds_to_switch": switched_s,
            "vacuous": last is None or not last.link_bytes.get("edge-fog"),
            "choices_before": [r.placement for r in runs_before],
            "choices_after": [r.placement for r in runs_after],
            "median_latency_before_s": _median([r.latency_s for r in runs_before]),
            "median_latency_after_s": _median([r.latency_s for r in runs_after]),
            "predicted_before_s": [r.predicted_s for r in runs_before],
            "predicted_after_s": [r.predicted_s for r in runs_after],
        }


def placement(plan: Plan, precision: bool = False) -> str:
    """The plan without its precisions, e.g. 'edge[0:8] -int8_lz4-> fog[8:12]': an int8/fp32
    flip of the edge's vision is not a change of where the work runs or what is sent.
    `precision`: with it, for steps that run something ('edge[0:8]int8 -int8_lz4-> ...'), which
    names the plan that ran whichever label (fixed plan or preset) chose it."""
    parts = []
    for i, step in enumerate(plan.steps):
        tag = step.precision.value if precision and step.stop > step.start else ""
        parts.append(f"{step.tier.value}[{step.start}:{step.stop}]{tag}")
        if i < len(plan.encodings):
            parts.append(f"-{plan.encodings[i].value}->")
    return " ".join(parts)


def escalated_to(answer: Answer) -> str:
    """' => TIER' when a cascade sent the request up (what ran was then the edge's vision and
    that tier's LM); '' otherwise."""
    up = answer.plan.escalation
    return f" => {up.tier.value}" if answer.escalated and up is not None else ""


def length_adjusted(predicted: Forecast | None, decode_stage: int, question: str, words: int
                    ) -> float | None:
    """The predicted latency re-priced for the answer length the LM actually produced: the
    cost model decodes the question type's typical length (ANSWER_TOKENS, end included) at its
    per-token price; the answer had `words` tokens + the end (or ran to the limit). Separates a
    wrong length (random weights never stop early) from the rest of the model."""
    if predicted is None:
        return None
    latency_s = predicted.latency_s
    decode_s = predicted.stage_s(decode_stage)
    expected = ANSWER_TOKENS[classify(question)]
    if not decode_s or expected <= 0:
        return latency_s
    return latency_s + decode_s / expected * (words + 1 - expected)


def _edge_timings_s(answer: Answer) -> float:
    return sum(t.seconds for t in answer.timings if t.tier is Tier.EDGE)


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _progress(items: Iterable[T], desc: str) -> Iterable[T]:
    """`items` with a tqdm bar on a terminal (none when stderr is not a TTY)."""
    return tqdm(items, desc=desc, disable=not sys.stderr.isatty(), leave=False)

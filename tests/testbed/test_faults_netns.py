"""Faults inside the testbed (network namespaces, shaped veths, real processes): the fog frozen,
the cloud slowed by a CPU quota, the fog-cloud link cut, the fog killed while a request
streams, then the edge drained by SIGTERM. Each: every request ends within its deadline with an
answer or a clear error (only one already streaming when the fault hits may fail), no hung
call, and the edge's threads and file descriptors are what they were.

Needs root, iproute2 and cgroup v1 `cpu`; skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from splitvlm import testbed as tb
from splitvlm.bench.split_runner import BedOptions, TierBed
from splitvlm.errors import ServerError, SplitVLMError
from splitvlm.executor.messages import TokenEvent
from splitvlm.sdk import Client
from splitvlm.testbed import cgroup

REASON = tb.root_reason()
pytestmark = [
    pytest.mark.root,
    pytest.mark.timeout(300),
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]

PREFIX = "svfault"
PORTS = {"edge": 44051, "fog": 44052, "cloud": 44053}
PROFILE = tb.Profile("faults", edge_fog=tb.LinkSpec(bandwidth_bps=50e6, delay_s=0.002),
                     fog_cloud=tb.LinkSpec(bandwidth_bps=50e6, delay_s=0.010),
                     edge_cpu_quota=1.0)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
QUESTION = "describe the image"
UPSTREAM: dict[str, Any] = {"plan": "auto", "preset": "most-accurate", "no_cache": True}
DEADLINE_S = 5.0
SLACK_S = 0.5  # the client's own overhead beyond the deadline it sent


@pytest.fixture(scope="module")
def bed(checkpoints: Path) -> Iterator[TierBed]:
    with TierBed(PROFILE, BedOptions(checkpoints, prefix=PREFIX, ports=PORTS)) as running:
        yield running


def pid_of(bed: TierBed, tier: str) -> int:
    return next(int(p["pid"]) for p in bed.bed.status()["processes"]
                if p["role"] == "service" and p["tier"] == tier)


def resources(pid: int) -> tuple[int, int]:
    """(threads, open file descriptors) of a process."""
    return (len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd")))


def ask(client: Client, **options: Any) -> tuple[float, str]:
    """(seconds, the answer's text or the error's class): never longer than the deadline."""
    t0 = time.perf_counter()
    try:
        answer = client.ask(EXAMPLE.read_bytes(), QUESTION, deadline_s=DEADLINE_S,
                            **{**UPSTREAM, **options})
        outcome = answer.text
    except SplitVLMError as exc:
        assert not isinstance(exc, ServerError), f"not a clear error: {exc}"
        outcome = type(exc).__name__
    seconds = time.perf_counter() - t0
    assert seconds < DEADLINE_S + SLACK_S, f"a call took {seconds:.1f} s: {outcome}"
    return seconds, outcome


def answers(client: Client, n: int = 4) -> list[str]:
    return [ask(client)[1] for _ in range(n)]


def test_warm_and_count(bed: TierBed) -> None:
    assert bed.client is not None
    for _ in range(3):
        assert ask(bed.client)[1].startswith("a ")
    test_warm_and_count.before = resources(pid_of(bed, "edge"))  # type: ignore[attr-defined]


def test_a_frozen_fog_costs_no_answer(bed: TierBed) -> None:
    assert bed.client is not None
    fog = pid_of(bed, "fog")
    os.kill(fog, signal.SIGSTOP)
    try:
        assert all(a.startswith("a ") for a in answers(bed.client))  # the edge's LM
    finally:
        os.kill(fog, signal.SIGCONT)


def test_a_slow_cloud_ends_within_the_deadline(bed: TierBed) -> None:
    assert bed.client is not None
    group = cgroup.group_path(f"{PREFIX}-cloud-slow")
    cgroup.create(group, 0.02)  # 2 % of a core
    cloud = pid_of(bed, "cloud")
    root = cgroup.CPU_ROOT
    try:
        for task in os.listdir(f"/proc/{cloud}/task"):
            (group / "tasks").write_text(task)
        pinned = [ask(bed.client, plan="edge-vision+cloud-lm")[1] for _ in range(2)]
        # an answer, late or not; its deadline; or, once the cloud is too slow to accept a call
        # within the connect budget, UNAVAILABLE naming it (a pinned plan fails fast)
        assert all(o.startswith("a ") or o in ("DeadlineExceeded", "TierUnavailable")
                   for o in pinned), pinned
        planned = answers(bed.client, 2)  # placed by the planner: answered
        assert all(o.startswith("a ") for o in planned), planned
    finally:
        for task in (group / "tasks").read_text().split():
            (root / "tasks").write_text(task)
        group.rmdir()


def test_a_cut_fog_cloud_link_ends_every_request(bed: TierBed) -> None:
    assert bed.client is not None
    link = next(k for k in bed.bed.topology.links if k.name == "fog_cloud")
    fog_ns = bed.bed.topology.ns(link.a_tier)
    subprocess.run(["ip", "-n", fog_ns, "link", "set", link.a_dev, "down"], check=True)
    try:
        pinned = ask(bed.client, plan="edge-vision+cloud-lm")[1]
        assert pinned in ("TierUnavailable", "NotAvailable", "DeadlineExceeded") or (
            pinned.startswith("a ")), pinned
        assert all(a.startswith("a ") for a in answers(bed.client))  # fog or edge LMs
    finally:
        subprocess.run(["ip", "-n", fog_ns, "link", "set", link.a_dev, "up"], check=True)


def test_killing_the_fog_mid_stream_fails_only_that_request(bed: TierBed) -> None:
    assert bed.client is not None
    fog = pid_of(bed, "fog")
    words, error = [], None
    try:
        for event in bed.client.stream(EXAMPLE.read_bytes(), QUESTION, plan="fog-all",
                                       deadline_s=DEADLINE_S, no_cache=True):
            if isinstance(event, TokenEvent):
                words.append(event.text)
                if len(words) == 1:
                    os.kill(fog, signal.SIGKILL)
    except SplitVLMError as exc:
        error = exc
    assert words  # it was streaming when the fault hit
    assert error is None or not isinstance(error, ServerError), error  # done, or a clear error
    assert all(a.startswith("a ") for a in answers(bed.client))  # the edge's LM from now on


def test_no_thread_or_descriptor_leaked(bed: TierBed) -> None:
    time.sleep(3.0)  # channels settle, calls are reaped
    threads, fds = resources(pid_of(bed, "edge"))
    before = test_warm_and_count.before  # type: ignore[attr-defined]
    assert threads <= before[0] and fds <= before[1] + 2, (before, (threads, fds))


def test_sigterm_drains_the_accepted_requests(bed: TierBed) -> None:
    assert bed.client is not None
    edge = pid_of(bed, "edge")
    results: list[str] = []

    def one() -> None:
        try:
            results.append(ask(bed.client, plan="edge-only")[1])  # type: ignore[arg-type]
        except AssertionError as exc:  # a call that outlived its deadline
            results.append(f"hung: {exc}")

    callers = [threading.Thread(target=one) for _ in range(6)]
    for caller in callers:
        caller.start()
    time.sleep(0.05)  # accepted and running
    os.kill(edge, signal.SIGTERM)
    for caller in callers:
        caller.join(DEADLINE_S + 5)
    accepted = [r for r in results if r != "NotAvailable"]  # refused after the drain began
    assert accepted and all(r.startswith("a ") for r in accepted), results
    deadline = time.monotonic() + 10
    while Path(f"/proc/{edge}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{edge}").exists() or "zombie" in Path(
        f"/proc/{edge}/status").read_text().lower(), "the edge did not exit after its drain"

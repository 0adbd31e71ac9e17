"""`splitvlm status EDGE`: the cluster as the edge sees it, as plain text, refreshed.

    splitvlm status 127.0.0.1:50051 --site certs/            # a frame every 2 s until Ctrl-C
    splitvlm status 127.0.0.1:50051 --insecure --once        # one frame (exit 1: edge down)

One `TierService.Status` call to the edge answers for the three tiers: the edge's status nests
the fog's as the edge last saw it (at most 1 s old), which nests the cloud's, with each tier's
estimate of its link to the next. The edge's health is its `grpc.health.v1` answer; a fog or
cloud is "up" when the tier before it got its status, "unreachable" when it did not. `batch` is
the LM engine's mean decode batch since it started (its start-up profile included). Recent
plans are not in `TierStatus`; with `--metrics URL` (the edge's Prometheus endpoint, its
`metrics_port`) the frame adds the plans the edge ran since the previous frame (the first
frame: since it started) and its degraded answers, from `splitvlm_plans_total`.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TextIO

import grpc

from splitvlm.executor.status import LinkEstimate, TierStatus
from splitvlm.plan.plan import TIERS, Tier
from splitvlm.sdk import Client, Credentials
from splitvlm.sdk.health import check
from splitvlm.service.convert import status_from_pb
from splitvlm.v1 import tier_pb2, tier_pb2_grpc

CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen (ANSI), before each frame on a TTY
NO_PLANS = ("recent plans: give --metrics http://EDGE:METRICS_PORT (the edge's metrics_port); "
            "each answer also carries its plan and every tier logs it per request")
PlanCounts = Counter[tuple[str, str]]  # (plan, lm) -> requests


@dataclass(frozen=True)
class Snapshot:
    """What one refresh saw."""

    target: str
    health: str  # the edge's health (SERVING, NOT_SERVING, ...) or why it did not answer
    status: TierStatus | None  # None: the edge's Status failed (`error` says why)
    error: str = ""
    at: float = 0.0  # time.time() of the refresh
    plans: PlanCounts | None = None  # the edge's plans so far (None: no --metrics)
    degraded: float = 0.0  # the edge's degraded answers so far
    since: PlanCounts = field(default_factory=Counter)  # the plans at the previous frame
    plans_error: str = ""  # why --metrics gave no plans


def fetch_plans(url: str, timeout_s: float = 2.0) -> tuple[PlanCounts | None, float, str]:
    """(plans by (plan, lm), degraded answers, "" or why not) from the edge's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=timeout_s) as reply:
            text = reply.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, 0.0, f"{url}: {exc}"
    plans: PlanCounts = Counter()
    degraded = 0.0
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            if s.name == "splitvlm_plans_total":
                plans[(s.labels["plan"], s.labels["lm"])] += int(s.value)
            elif s.name == "splitvlm_degraded_answers_total":
                degraded += s.value
    return plans, degraded, ""


def fetch(channel: grpc.Channel, target: str, timeout_s: float = 2.0) -> Snapshot:
    """The health and Status of the edge at `target`, over `channel`."""
    at = time.time()
    health = check(channel, timeout_s).split(":")[0]  # the column: SERVING, UNAVAILABLE, ...
    try:
        msg = tier_pb2_grpc.TierServiceStub(channel).Status(
            tier_pb2.StatusRequest(), timeout=timeout_s)
    except grpc.RpcError as exc:
        detail = f"{exc.code().name}: {exc.details()}" if isinstance(exc, grpc.Call) else str(exc)
        return Snapshot(target, health, None, detail, at)
    return Snapshot(target, health, status_from_pb(msg), "", at)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _rate(bps: float) -> str:
    return f"{bps / 1e9:.2f} Gbit/s" if bps >= 1e9 else f"{bps / 1e6:.1f} Mbit/s"


def _chain(status: TierStatus) -> dict[Tier, TierStatus]:
    """Edge, fog, cloud as each tier's status nests the next one's."""
    chain: dict[Tier, TierStatus] = {}
    node: TierStatus | None = status
    while node is not None:
        chain[node.tier] = node
        node = node.downstream
    return chain


HEADER = (f"{'tier':<6} {'health':<12} {'active':>6} {'queued':>6} {'running':>7} "
          f"{'batch':>6} {'vision':>7} {'hits':>6} {'misses':>6} {'entries':>7} "
          f"{'cache bytes':>21}")


def _tier_row(tier: Tier, status: TierStatus | None, health: str) -> str:
    if status is None:
        return f"{tier.value:<6} {health:<12}"
    c = status.cache
    cache = (f"{c.hits:>6} {c.misses:>6} {c.entries:>7} "
             f"{_size(c.bytes) + ' / ' + _size(c.byte_budget):>21}") if c else (
        f"{'-':>6} {'-':>6} {'-':>7} {'-':>21}")
    e = status.engine
    return (f"{tier.value:<6} {health:<12} {status.active:>6} {e.queued:>6} {e.running:>7} "
            f"{e.batch_mean:>6.2f} {status.vision_runs:>7} {cache}")


def _link_row(src: Tier, dst: Tier, link: LinkEstimate | None) -> str:
    name = f"{src.value}->{dst.value}"
    if link is None:
        return f"  link {name:<11} not measured yet"
    return f"  link {name:<11} {_rate(link.bandwidth_bps):>14}  rtt {link.rtt_s * 1e3:7.2f} ms"


def render(snapshot: Snapshot) -> str:
    """One frame: a row per tier (health, load, cache, vision runs), then the links."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snapshot.at))
    lines = [f"splitvlm status {snapshot.target}  {stamp}", HEADER]
    if snapshot.status is None:
        lines.append(_tier_row(Tier.EDGE, None, snapshot.health))
        lines.append(f"  the edge's Status failed: {snapshot.error}")
        lines += [_tier_row(t, None, "unknown") for t in TIERS[1:]]
        return "\n".join([*lines, *_plan_rows(snapshot)]) + "\n"
    chain = _chain(snapshot.status)
    links = []
    for tier in TIERS:
        if tier is Tier.EDGE:
            health = snapshot.health
        else:
            before = TIERS[tier.order - 1]
            health = "up" if tier in chain else (
                "unreachable" if before in chain else "unknown")
        lines.append(_tier_row(tier, chain.get(tier), health))
        if tier in chain and tier is not Tier.CLOUD:
            links.append(_link_row(tier, TIERS[tier.order + 1], chain[tier].next_link))
    return "\n".join([*lines, *links, *_plan_rows(snapshot)]) + "\n"


def _plan_rows(snapshot: Snapshot) -> list[str]:
    if snapshot.plans is None:
        return [f"recent plans: {snapshot.plans_error}" if snapshot.plans_error else NO_PLANS]
    recent = snapshot.plans - snapshot.since  # Counter subtraction keeps the positive counts
    when = "since the last frame" if snapshot.since else "since the edge started"
    rows = [f"plans {when}: {sum(recent.values())}; degraded answers so far: "
            f"{snapshot.degraded:.0f}"]
    rows += [f"  {n:6d}  {plan}  (LM: {lm})" for (plan, lm), n in recent.most_common(6)]
    return rows


def watch(target: str, credentials: Credentials | None, interval_s: float = 2.0,
          once: bool = False, out: TextIO | None = None,
          sleep: Callable[[float], None] = time.sleep, metrics: str = "") -> int:
    """Render a frame every `interval_s` (clearing a TTY first) until interrupted; with
    `once`, one frame, and exit status 1 if the edge's Status failed. `out`: stdout;
    `metrics`: the edge's Prometheus endpoint, for its recent plans."""
    out = sys.stdout if out is None else out
    clear = CLEAR if out.isatty() and not once else ""
    since: PlanCounts = Counter()
    with Client(target, credentials) as client:  # the SDK's channel: TLS and token as `ask`
        try:
            while True:
                snapshot = fetch(client.channel, target)
                if metrics:
                    plans, degraded, why = fetch_plans(metrics)
                    snapshot = replace(snapshot, plans=plans, degraded=degraded, since=since,
                                       plans_error=why)
                    since = plans or since
                out.write(clear + render(snapshot))
                out.flush()
                if once:
                    return 0 if snapshot.status is not None else 1
                sleep(interval_s)
        except KeyboardInterrupt:
            return 0

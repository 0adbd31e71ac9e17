"""`splitvlm bench batch`: the cloud's continuous batching vs the same requests one at a time.

    splitvlm bench --json batch -- --requests 64 --clients 16 --checkpoints /tmp/randck

Edge, fog and cloud run as three `splitvlm serve` processes (`--embedded`: in this process,
sharing one event loop, which on 2 cores makes the token relay compete with the LM). Every
request takes the plan
edge-vision+cloud-lm: ONNX vision on the edge, fp16 visual tokens relayed by the fog, the
cloud's large LM under continuous batching. The requests are held-out questions of every type,
half of them captions (long answers, so decoding dominates), each with its 64x64 image as PNG.

    baseline     one streaming client sends the requests one after another
    concurrent   `--clients` streaming clients, each with its own channel, work through them

The two phases alternate `--rounds` times (concurrent first); every figure is over all rounds,
so a shared machine whose speed drifts during the run weighs on both alike
(`speedup_per_round` shows the spread).

tokens/s = answer tokens / wall seconds of the phase; TTFT = from sending a request to its
first token event (to its answer when it has no token). `speedup` = concurrent tokens/s over
baseline tokens/s. The concurrent phase runs first, after warm-up requests that ask for one
token: the engine's prefill produces that token, so they add no decode step, and the cloud's
cumulative `batch_mean` (its Status RPC) covers the concurrent phase alone. `stages` breaks
each request's time down by the tier timings and link times of its answer: mean seconds, and
`busy`, seconds summed over the phase per wall second (how many requests were in that stage
on average; for a compute stage above 1, its runs overlapped). `cores_used` is CPU seconds
per wall second of this process and the three tier processes (this process alone with
`--embedded`): on a shared machine, a phase that gets fewer cores than it could use is
CPU-bound, and the speedup tends to the ratio of `cpu_ms_per_token`.
`cpu_ms_per_request` splits that CPU by process (client, edge, fog, cloud): the part that
batching cannot shrink (decoding images, relaying every token over three hops) bounds the
speedup on a machine with few cores. `engine_alone` runs the same requests through the cloud's
engine in this process after the tiers stop (splitvlm.bench.batch_engine): what batching
itself gives, without the transport.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from tqdm import tqdm

from splitvlm.bench.split_workload import BenchRequest
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set
from splitvlm.embedded import embedded_cluster
from splitvlm.plan.plan import Tier
from splitvlm.processes import start_cluster
from splitvlm.sdk import AnswerEvent, AsyncClient, TokenEvent
from splitvlm.v1 import tier_pb2, tier_pb2_grpc

PLAN = "edge-vision+cloud-lm"
DEADLINE_S = 300.0  # per request: generous, the phases queue requests on purpose
WARMUP = 4  # one-token requests before the measured phases


@dataclass(frozen=True)
class Outcome:
    tokens: tuple[int, ...]  # answer ids, as streamed (no EOS)
    ttft_s: float
    latency_s: float
    stages: dict[str, float]  # "tier:stage" or "link:name" -> seconds, from the answer


@dataclass(frozen=True)
class PhaseRun:
    outcomes: list[Outcome]  # in request order
    wall_s: float
    cpu_by: dict[str, float]  # CPU seconds: "client" (this process) and each tier process

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_by.values())

    @property
    def tokens_per_s(self) -> float:
        return sum(len(o.tokens) for o in self.outcomes) / self.wall_s


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench batch")
    p.add_argument("--requests", type=int, default=64, help="requests in each phase")
    p.add_argument("--clients", type=int, default=16, help="concurrent streaming clients")
    p.add_argument("--caption-share", type=float, default=0.5,
                   help="fraction of the requests that are caption questions")
    p.add_argument("--threads", type=int, default=1, help="compute threads per tier")
    p.add_argument("--rounds", type=int, default=3,
                   help="concurrent and one-at-a-time phases alternate this many times; "
                        "figures are over all rounds (a drifting shared machine hits both)")
    p.add_argument("--embedded", action="store_true",
                   help="run the tiers in this process instead of three processes")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR,
                   help="weights and ONNX graphs (default: the shipped ones)")
    args = p.parse_args(extra)
    if args.requests < 1 or args.clients < 1 or args.rounds < 1:
        p.error(f"--requests={args.requests}, --clients={args.clients} and "
                f"--rounds={args.rounds} must be positive")
    if not 0.0 <= args.caption_share <= 1.0:
        p.error(f"--caption-share={args.caption_share} must be in 0..1")
    return args


def bench_requests(n: int, caption_share: float) -> list[BenchRequest]:
    """`n` held-out requests: round(n * caption_share) captions, the rest of the other types
    in turn, interleaved so that captions are spread over the list."""
    n_caption = round(n * caption_share)
    pool = held_out_set(max(n_caption, n - n_caption) + 1)
    captions = [s for s in pool if s.qa.qtype == "caption"][:n_caption]
    others = [s for s in pool if s.qa.qtype != "caption"][:n - n_caption]
    order = sorted([(i / len(captions), 0, s) for i, s in enumerate(captions)]
                   + [(i / len(others), 1, s) for i, s in enumerate(others)],
                   key=lambda t: t[:2])
    return [BenchRequest(i, s.qa.qtype, s.qa.question, s.qa.answer,
                         encode_image(s.image(), "PNG")) for i, (_, _, s) in enumerate(order)]


async def ask_one(client: AsyncClient, request: BenchRequest, max_new_tokens: int = 0
                  ) -> Outcome:
    """Stream one answer, timing its first token from the moment the call is made."""
    tokens: list[int] = []
    ttft_s = -1.0
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    async for event in client.stream(request.image, request.question, plan=PLAN,
                                     deadline_s=DEADLINE_S, max_new_tokens=max_new_tokens):
        if isinstance(event, TokenEvent):
            if not tokens:
                ttft_s = time.perf_counter() - t0
            tokens.append(event.id)
        elif isinstance(event, AnswerEvent):
            for t in event.answer.timings:
                key = f"{t.tier}:{t.name}"
                stages[key] = stages.get(key, 0.0) + t.seconds
            for link in event.answer.links:
                key = f"link:{link.link}"
                stages[key] = stages.get(key, 0.0) + link.seconds
    latency_s = time.perf_counter() - t0
    return Outcome(tuple(tokens), ttft_s if tokens else latency_s, latency_s, stages)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time so far of this process ("client") and of the named other processes (the
    tiers), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"client": time.process_time()}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[name] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


async def run_phase(target: str, requests: list[BenchRequest], clients: int, desc: str,
                    max_new_tokens: int = 0, pids: dict[str, int] | None = None) -> PhaseRun:
    """`clients` streaming clients work through `requests`; clients=1 is the one-at-a-time
    baseline."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    todo = iter(range(len(requests)))
    bar = tqdm(total=len(requests), desc=desc, disable=not sys.stderr.isatty(), leave=False)

    async def worker() -> None:
        async with AsyncClient(target) as client:
            for i in todo:  # a shared iterator: each index is taken once
                outcomes[i] = await ask_one(client, requests[i], max_new_tokens)
                bar.update()

    t0, cpu0 = time.perf_counter(), cpu_seconds(pids or {})
    try:
        await asyncio.gather(*(worker() for _ in range(min(clients, len(requests)))))
    finally:
        bar.close()
    wall_s, cpu1 = time.perf_counter() - t0, cpu_seconds(pids or {})
    assert all(o is not None for o in outcomes)
    return PhaseRun([o for o in outcomes if o is not None], wall_s,
                    {name: cpu1[name] - cpu0[name] for name in cpu1})


def summary(phase: PhaseRun) -> dict[str, Any]:
    outcomes, wall_s = phase.outcomes, phase.wall_s
    ttft = np.array([o.ttft_s for o in outcomes])
    tokens = sum(len(o.tokens) for o in outcomes)
    names = sorted({k for o in outcomes for k in o.stages})
    totals = {k: sum(o.stages.get(k, 0.0) for o in outcomes) for k in names}
    return {
        "tokens_per_s": tokens / wall_s, "wall_s": wall_s, "tokens": tokens,
        "ttft_p50_s": float(np.percentile(ttft, 50)),
        "ttft_p95_s": float(np.percentile(ttft, 95)),
        "latency_mean_s": float(np.mean([o.latency_s for o in outcomes])),
        "cpu_ms_per_token": 1e3 * phase.cpu_s / max(tokens, 1),
        "cpu_ms_per_request": {name: 1e3 * seconds / len(outcomes)
                               for name, seconds in phase.cpu_by.items()},
        "cores_used": phase.cpu_s / wall_s,
        "ttft_s": [round(float(t), 5) for t in ttft],
        "stages": {k: {"mean_s": totals[k] / len(outcomes), "busy": totals[k] / wall_s}
                   for k in names},
    }


async def cloud_batch_mean(cloud_target: str) -> float:
    """The cloud engine's mean decode batch since it started, from its Tier Status RPC."""
    async with grpc.aio.insecure_channel(cloud_target) as channel:
        status = await tier_pb2_grpc.TierServiceStub(channel).Status(tier_pb2.StatusRequest())
    return float(status.batch_mean)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    requests = bench_requests(args.requests, args.caption_share)
    clients = min(args.clients, len(requests))
    if args.embedded:
        async with embedded_cluster(args.checkpoints, args.threads, "grpc",
                                    max_batch=max(16, clients),
                                    max_concurrent_rpcs=max(64, 2 * clients),
                                    max_inflight=max(32, 2 * clients)) as cluster:
            ours, base, batch_mean = await phases(
                cluster.edge_target, cluster.target(Tier.CLOUD), requests, clients,
                args.rounds)
    else:
        env = {"SPLITVLM_CHECKPOINT_DIR": str(args.checkpoints),
               "SPLITVLM_THREADS": str(args.threads), "SPLITVLM_MAX_BATCH": str(max(16, clients)),
               "SPLITVLM_MAX_CONCURRENT_RPCS": str(max(64, 2 * clients)),
               "SPLITVLM_MAX_INFLIGHT": str(max(32, 2 * clients))}
        procs = await asyncio.to_thread(start_cluster, env)
        try:
            ours, base, batch_mean = await phases(
                procs.edge, procs.tiers["cloud"].target, requests, clients, args.rounds,
                {name: tp.proc.pid for name, tp in procs.tiers.items()})
        finally:
            await asyncio.to_thread(procs.stop)
    from splitvlm.bench.batch_engine import engine_alone

    alone = await asyncio.to_thread(engine_alone, requests, args.checkpoints, clients,
                                    args.rounds, args.threads)
    every_base, every_ours = merged(base), merged(ours)
    baseline, concurrent = summary(every_base), summary(every_ours)
    concurrent |= {"clients": clients, "batch_mean": batch_mean}
    return {
        "plan": PLAN, "n_requests": len(requests), "rounds": args.rounds,
        "tokens": baseline["tokens"],
        "captions": sum(r.qtype == "caption" for r in requests),
        "checkpoints": str(args.checkpoints), "threads": args.threads,
        "baseline": baseline, "concurrent": concurrent,
        "speedup": concurrent["tokens_per_s"] / baseline["tokens_per_s"],
        "speedup_per_round": [c.tokens_per_s / b.tokens_per_s
                              for c, b in zip(ours, base, strict=True)],
        "answers_identical": [o.tokens for o in every_base.outcomes]
        == [o.tokens for o in every_ours.outcomes],
        "engine_alone": alone,
    }


def merged(runs: list[PhaseRun]) -> PhaseRun:
    """Phases of one kind over all rounds as one: outcomes in order, wall and CPU summed."""
    return PhaseRun([o for r in runs for o in r.outcomes], sum(r.wall_s for r in runs),
                    {name: sum(r.cpu_by[name] for r in runs) for name in runs[0].cpu_by})


async def phases(edge: str, cloud: str, requests: list[BenchRequest], clients: int,
                 rounds: int = 1, pids: dict[str, int] | None = None
                 ) -> tuple[list[PhaseRun], list[PhaseRun], float]:
    """(concurrent, one-at-a-time, cloud batch mean during the first concurrent phase), the
    two phases alternating `rounds` times; `pids`: the tier processes, whose CPU time counts
    with this process's."""
    await run_phase(edge, requests[:WARMUP], WARMUP, "warm-up", max_new_tokens=1)
    ours: list[PhaseRun] = []
    base: list[PhaseRun] = []
    batch_mean = 0.0
    for i in range(rounds):
        ours.append(await run_phase(edge, requests, clients, "concurrent", pids=pids))
        if i == 0:  # the engine's mean is cumulative: read it before any one-at-a-time phase
            batch_mean = await cloud_batch_mean(cloud)
        base.append(await run_phase(edge, requests, 1, "one at a time", pids=pids))
    return ours, base, batch_mean


def run(extra: list[str]) -> dict[str, Any]:
    from splitvlm.service.server import loop_factory

    with asyncio.Runner(loop_factory=loop_factory("auto")) as runner:  # as the tiers' loops
        return runner.run(measure(_args(extra)))


def render(result: dict[str, Any]) -> str:
    b, c = result["baseline"], result["concurrent"]
    lines = [f"{result['n_requests']} requests ({result['captions']} captions), plan "
             f"{result['plan']}, {result['tokens']} answer tokens",
             f"{'':16s} {'tokens/s':>9s} {'wall s':>8s} {'TTFT p50':>9s} {'TTFT p95':>9s} "
             f"{'CPU ms/tok':>10s} {'cores':>6s}"]
    rows = [("one at a time", b), (f"{c['clients']} clients", c)]
    for name, doc in rows:
        lines.append(f"{name:16s} {doc['tokens_per_s']:9.1f} {doc['wall_s']:8.2f} "
                     f"{doc['ttft_p50_s']:9.3f} {doc['ttft_p95_s']:9.3f} "
                     f"{doc['cpu_ms_per_token']:10.2f} {doc['cores_used']:6.2f}")
    for name, doc in rows:
        lines.append(f"CPU ms/request  {name:14s} " + "  ".join(
            f"{k} {v:.1f}" for k, v in doc["cpu_ms_per_request"].items()))
    lines.append(f"speedup {result['speedup']:.2f}x; cloud mean decode batch "
                 f"{c['batch_mean']:.2f}; answers identical: {result['answers_identical']}")
    e = result["engine_alone"]
    lines.append(f"cloud engine alone (no tiers, no gRPC): one at a time "
                 f"{e['baseline_tokens_per_s']:.1f} tokens/s, {c['clients']} clients "
                 f"{e['concurrent_tokens_per_s']:.1f} tokens/s, speedup {e['speedup']:.2f}x; "
                 f"answers identical: {e['answers_identical']}")
    lines.append("per-request stage seconds (busy = stage seconds per wall second):")
    for name, doc in rows:
        lines.append(f"  {name:14s} " + "  ".join(
            f"{k}={v['mean_s']:.4f} (busy {v['busy']:.2f})" for k, v in doc["stages"].items()))
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b, c = result["baseline"], result["concurrent"]
    labels = ["one at a time", f"{c['clients']} clients"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    e = result["engine_alone"]
    x = np.arange(2)
    left.bar(x - 0.2, [b["tokens_per_s"], c["tokens_per_s"]], 0.4, color="tab:blue",
             label=f"three tiers: {result['speedup']:.2f}x")
    left.bar(x + 0.2, [e["baseline_tokens_per_s"], e["concurrent_tokens_per_s"]], 0.4,
             color="tab:orange", label=f"cloud engine alone: {e['speedup']:.2f}x")
    left.set_xticks(x, labels)
    left.set_ylabel("answer tokens / s")
    left.set_title("Throughput")
    left.legend(fontsize=8)
    for label, doc, color in zip(labels, (b, c), ("tab:gray", "tab:blue"), strict=True):
        ttft = np.sort(doc["ttft_s"])
        right.step(ttft, np.arange(1, len(ttft) + 1) / len(ttft), where="post", color=color,
                   label=f"{label} (p95 {doc['ttft_p95_s']:.2f} s)")
    right.set_xlabel("time to first token, s")
    right.set_ylabel("fraction of requests")
    right.set_title("TTFT distribution")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


"""`splitvlm bench overload`: ten times the sustainable request rate, and what the tiers do.

The three tiers run as processes pinned to the first CPU, the load generator (this process)
on the rest, as a client on another machine would be (on this 2-core machine: one core
each). First the sustainable rate: closed-loop clients (as many as
the edge admits) for `--measure-s` seconds; the answers per second they get is the rate the
cluster sustains (the baseline). Then an open loop offers `--factor` times that rate for
`--duration-s` seconds: requests start on schedule whatever happened to the ones before. The
excess must be refused at once (RESOURCE_EXHAUSTED with a retry delay), every request taken
must be answered, the served rate must stay >= 90 % of the sustainable one, and every tier's
memory (RSS, sampled each second) must stay bounded.

JSON: sustainable_rps, offered_rps, served_rps, served_vs_sustainable, rejected,
accepted_unanswered, max_rss_mb (per tier), codes (count per status), retry_after_ms (median
of the refusals'), latency_ms (p50/p95 of the answered), answers_per_second (per second).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from splitvlm.bench.split_workload import BenchRequest, workload
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import decode_image, downscale, encode_image
from splitvlm.processes import ProcessCluster, start_cluster
from splitvlm.sdk import AsyncClient, Overloaded, SplitVLMError

PLAN = "auto"
N_REQUESTS = 36


def requests() -> list[BenchRequest]:
    """bench split's requests (four of each type), each image sent as a PNG at the model's
    resolution: what an edge camera pipeline that downscales first sends, and light enough
    that one core can offer ten times the load."""
    return [BenchRequest(r.index, r.qtype, r.question, r.answer,
                         encode_image(downscale(decode_image(r.image), 64), "PNG"))
            for r in workload(N_REQUESTS)]


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench overload")
    p.add_argument("--measure-s", type=float, default=15.0,
                   help="seconds of closed-loop load that measure the sustainable rate")
    p.add_argument("--duration-s", type=float, default=60.0, help="seconds of overload")
    p.add_argument("--factor", type=float, default=10.0, help="offered / sustainable rate")
    p.add_argument("--max-inflight", type=int, default=8,
                   help="the edge's admission limit (and the closed loop's clients)")
    p.add_argument("--deadline-s", type=float, default=10.0, help="each request's deadline")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR)
    return p.parse_args(extra)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sample_rss(cluster: ProcessCluster, stop: asyncio.Event,
                     out: dict[str, list[float]]) -> None:
    while not stop.is_set():
        for name, tier in cluster.tiers.items():
            out.setdefault(name, []).append(rss_mb(tier.proc.pid))
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass


async def closed_loop(target: str, clients: int, seconds: float, deadline_s: float) -> float:
    """Answers per second that `clients` back-to-back clients get."""
    pool = requests()
    done = 0
    end = time.monotonic() + seconds

    async def client(i: int) -> None:
        nonlocal done
        async with AsyncClient(target) as c:
            while time.monotonic() < end:
                r = pool[(done + i) % len(pool)]
                await c.ask(r.image, r.question, plan=PLAN, no_cache=True, deadline_s=deadline_s)
                done += 1

    t0 = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return done / (time.monotonic() - t0)


async def open_loop(target: str, rps: float, seconds: float, deadline_s: float
                    ) -> dict[str, Any]:
    pool = requests()
    codes: Counter[str] = Counter()
    retry_ms: list[float] = []
    latencies: list[float] = []
    answered_at: list[float] = []
    tasks: set[asyncio.Task[None]] = set()
    t0 = time.monotonic()

    async def one(client: AsyncClient, i: int) -> None:
        r = pool[i % len(pool)]
        started = time.monotonic()
        try:
            await client.ask(r.image, r.question, plan=PLAN, no_cache=True,
                             deadline_s=deadline_s)
        except Overloaded as exc:
            codes["RESOURCE_EXHAUSTED"] += 1
            if exc.retry_after_s is not None:
                retry_ms.append(exc.retry_after_s * 1e3)
            return
        except SplitVLMError as exc:
            codes[type(exc).__name__] += 1
            return
        codes["OK"] += 1
        latencies.append(time.monotonic() - started)
        answered_at.append(time.monotonic() - t0)

    async with AsyncClient(target) as client:
        i = 0
        while (now := time.monotonic() - t0) < seconds:
            due = i / rps
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.create_task(one(client, i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
    return {"offered": i, "codes": codes, "retry_ms": retry_ms, "latencies": latencies,
            "answered_at": answered_at, "wall_s": time.monotonic() - t0}


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    env = {"SPLITVLM_CHECKPOINT_DIR": str(args.checkpoints),
           "SPLITVLM_MAX_INFLIGHT": str(args.max_inflight),
           "SPLITVLM_MAX_CONCURRENT_RPCS": str(2 * args.max_inflight)}
    cpus = sorted(os.sched_getaffinity(0))
    tiers, client = frozenset(cpus[:1]), set(cpus[1:] or cpus)
    cluster = await asyncio.to_thread(start_cluster, env, tiers)
    os.sched_setaffinity(0, client)
    rss: dict[str, list[float]] = {}
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(cluster, stop, rss))
    try:
        sustainable = await closed_loop(cluster.edge, args.max_inflight, args.measure_s,
                                        args.deadline_s)
        run = await open_loop(cluster.edge, args.factor * sustainable, args.duration_s,
                              args.deadline_s)
    finally:
        stop.set()
        await sampler
        await asyncio.to_thread(cluster.stop)
    codes = run["codes"]
    accepted = sum(n for code, n in codes.items() if code != "RESOURCE_EXHAUSTED")
    # answers within the window: those still running when it closes are answered after it
    served = sum(t < args.duration_s for t in run["answered_at"]) / args.duration_s
    latencies = sorted(run["latencies"])
    per_second = Counter(int(t) for t in run["answered_at"])
    return {
        "plan": PLAN, "max_inflight": args.max_inflight, "factor": args.factor,
        "duration_s": args.duration_s, "sustainable_rps": sustainable,
        "offered_rps": run["offered"] / args.duration_s, "served_rps": served,
        "served_vs_sustainable": served / sustainable if sustainable else 0.0,
        "rejected": codes["RESOURCE_EXHAUSTED"], "accepted": accepted,
        "accepted_unanswered": accepted - codes["OK"], "codes": dict(codes),
        "retry_after_ms": statistics.median(run["retry_ms"]) if run["retry_ms"] else None,
        "latency_ms": {"p50": 1e3 * latencies[len(latencies) // 2] if latencies else None,
                       "p95": 1e3 * latencies[int(0.95 * (len(latencies) - 1))]
                       if latencies else None},
        "max_rss_mb": {name: max(samples) for name, samples in rss.items()},
        "rss_mb": rss,
        "answers_per_second": [per_second.get(s, 0) for s in range(int(args.duration_s) + 1)],
        "targets": {
            "accepted_all_answered": accepted == codes["OK"],
            "served_ge_90pct": served >= 0.9 * sustainable,
            "excess_refused_with_delay": codes["RESOURCE_EXHAUSTED"] > 0 and bool(run["retry_ms"]),
        },
    }


def run(extra: list[str]) -> dict[str, Any]:
    return asyncio.run(measure(_args(extra)))


def render(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    return "\n".join([
        f"plan {result['plan']}, edge admits {result['max_inflight']} at once",
        f"sustainable (closed loop)  {result['sustainable_rps']:7.1f} answers/s",
        f"offered ({result['factor']:g}x, open loop)  {result['offered_rps']:7.1f} requests/s "
        f"for {result['duration_s']:g} s",
        f"served                     {result['served_rps']:7.1f} answers/s "
        f"({result['served_vs_sustainable']:.2f} of sustainable; target >= 0.90)",
        f"refused                    {result['rejected']} (RESOURCE_EXHAUSTED, median retry "
        f"delay {result['retry_after_ms'] or 0:.0f} ms)",
        f"accepted                   {result['accepted']}, unanswered "
        f"{result['accepted_unanswered']}",
        f"codes                      {result['codes']}",
        f"answered latency           p50 {lat['p50'] or 0:.0f} ms, p95 {lat['p95'] or 0:.0f} ms",
        "max RSS MB                 " + ", ".join(f"{k} {v:.0f}"
                                                   for k, v in result["max_rss_mb"].items()),
        f"targets                    {result['targets']}",
    ])


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    top.plot(result["answers_per_second"], label="answers/s under overload")
    top.axhline(result["sustainable_rps"], color="gray", ls="--", label="sustainable")
    top.axhline(0.9 * result["sustainable_rps"], color="tab:red", ls=":", label="90 %")
    top.set_ylabel("answers per second")
    top.legend(fontsize=8)
    for name, samples in result["rss_mb"].items():
        bottom.plot(samples, label=name)
    bottom.set_ylabel("RSS (MB)")
    bottom.set_xlabel("seconds")
    bottom.legend(fontsize=8)
    fig.suptitle(f"{result['factor']:g}x the sustainable rate for {result['duration_s']:g} s")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

"""`splitvlm bench cascade`: does a cascade keep the large LM's accuracy at the edge's cost?

    sudo splitvlm bench cascade --json --plot cascade.png --profiles wifi,lte

Per testbed profile (namespaces, tbf, the edge at a quarter core; on loopback processes when
not root, which the output says), every request of the workload (`--per-type` of each
question type, camera JPEGs from the bench stream) is asked under four policies, interleaved
per request:

    edge-only   the edge runs everything (INT8 vision, its LM)
    cloud-lm    INT8 vision on the edge, fp16 visual tokens to the cloud LM (the baseline)
    auto        the planner, balanced preset, fixed plans only (`plan="auto:fixed"`)
    cascade     the planner, balanced preset, cascades included (`plan="auto"`)

Per policy: accuracy (overall = mean of the types), `edge_share` (answers that never left the
edge: nothing sent on edge-fog), median and p95 latency (client-side), mean bytes sent up per
request. `calibration` is the curve of the shipped calibration (escalation rate vs accuracy,
per upstream tier); `--plot` draws it beside accuracy against median latency. The targets of
issue 11: on lte, cascade accuracy >= cloud-lm's - 0.5 pt with edge_share >= 0.6 and a median
<= 0.6 x cloud-lm's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from splitvlm.bench.split import _sigterm_as_interrupt, machine
from splitvlm.bench.split_runner import BedOptions, TierBed
from splitvlm.bench.split_workload import BenchRequest, bench_request
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.questions import QTYPES
from splitvlm.errors import SplitVLMError
from splitvlm.evaluate import normalise
from splitvlm.plan.calibration import UPSTREAM, Calibration
from splitvlm.sdk import Answer, Client
from splitvlm.testbed import get_profile, root_reason

POLICIES = {  # label -> (plan, preset)
    "edge-only": ("edge-only", ""),
    "cloud-lm": ("edge-vision+cloud-lm", ""),
    "auto": ("auto:fixed", "balanced"),
    "cascade": ("auto", "balanced"),
}
CASCADE_OFFSET = 2_000_000  # requests from the bench stream, apart from bench split's
TARGETS = {"accuracy_gap_pt": 0.5, "edge_share": 0.6, "median_ratio": 0.6}


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench cascade")
    p.add_argument("--profiles", default="wifi,lte", help="testbed profiles (root only)")
    p.add_argument("--per-type", type=int, default=100, help="requests per question type")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR)
    p.add_argument("--threads", type=int, default=1, help="compute threads per tier")
    p.add_argument("--prefix", default="svcasc", help="testbed name prefix")
    p.add_argument("--gap-s", type=float, default=0.05, help="idle seconds before a request")
    args = p.parse_args(extra)
    args.profiles = [n.strip() for n in args.profiles.split(",") if n.strip()]
    for name in args.profiles:
        get_profile(name)
    if args.per_type < 1:
        p.error("--per-type must be >= 1")
    if not (args.checkpoints / "calibration.json").exists():
        p.error(f"--checkpoints {args.checkpoints}: no calibration.json; run "
                "`splitvlm eval --calibrate` first")
    return args


def workload(per_type: int) -> list[BenchRequest]:
    return [bench_request(CASCADE_OFFSET + i) for i in range(per_type * len(QTYPES))]


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    calibration = Calibration.from_dict(
        json.loads((args.checkpoints / "calibration.json").read_text()))
    requests = workload(args.per_type)
    started, load_before = time.perf_counter(), machine()["loadavg"]
    profiles: dict[str, Any] = {}
    reason = root_reason()
    with _sigterm_as_interrupt():
        if reason:
            profiles["loopback"] = _loopback(requests, args) | {"note": f"not on the testbed: "
                                                                  f"{reason}"}
        else:
            for name in args.profiles:
                options = BedOptions(args.checkpoints.resolve(), args.threads, args.prefix,
                                     gap_s=args.gap_s)
                with TierBed(get_profile(name), options) as bed:
                    assert bed.client is not None
                    profiles[name] = _measure(bed.client, requests, args.gap_s, name)
    return {"per_type": args.per_type, "policies": list(POLICIES), "profiles": profiles,
            "calibration": _curves(calibration), "targets": targets(profiles),
            "machine": {**machine(), "loadavg_before": load_before},
            "wall_s": time.perf_counter() - started}


def _loopback(requests: list[BenchRequest], args: argparse.Namespace) -> dict[str, Any]:
    import os

    from splitvlm.processes import start_cluster

    cluster = start_cluster({**os.environ, "SPLITVLM_CHECKPOINT_DIR": str(args.checkpoints)})
    try:
        with Client(cluster.edge) as client:
            return _measure(client, requests, args.gap_s, "loopback")
    finally:
        cluster.stop()


def _measure(client: Client, requests: list[BenchRequest], gap_s: float, name: str
             ) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in POLICIES}
    for request in tqdm(requests, desc=f"cascade {name}", disable=None):
        for label, (plan, preset) in POLICIES.items():
            time.sleep(gap_s)
            runs[label].append(_ask(client, request, plan, preset))
    return {"policies": {label: summary(rs) for label, rs in runs.items()}}


def _ask(client: Client, request: BenchRequest, plan: str, preset: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        answer: Answer = client.ask(request.image, request.question, plan=plan, preset=preset,
                                    no_cache=True, deadline_s=60.0)
    except SplitVLMError as exc:
        return {"qtype": request.qtype, "error": f"{type(exc).__name__}: {exc}"}
    up = answer.bytes_per_link.get("edge-fog", 0)
    return {"qtype": request.qtype, "latency_s": time.perf_counter() - t0,
            "correct": normalise(answer.text) == normalise(request.answer), "bytes_up": up,
            "escalated": answer.escalated, "plan": answer.plan.name}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    by_type = {t: statistics.fmean(r["correct"] for r in ok if r["qtype"] == t)
               for t in QTYPES if any(r["qtype"] == t for r in ok)}
    latencies = sorted(r["latency_s"] for r in ok)
    return {
        "accuracy": statistics.fmean(by_type.values()) if by_type else 0.0,
        "by_type": by_type,
        "edge_share": _share(ok, lambda r: r["bytes_up"] == 0),
        "escalated_share": _share(ok, lambda r: r["escalated"]),
        "median_ms": 1e3 * statistics.median(latencies) if latencies else None,
        "p95_ms": 1e3 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "bytes_up": statistics.fmean(r["bytes_up"] for r in ok) if ok else None,
        "errors": len(runs) - len(ok),
        "plans": {p: sum(r["plan"] == p for r in ok) for p in sorted({r["plan"] for r in ok})},
    }


def _share(runs: list[dict[str, Any]], pick: Callable[[dict[str, Any]], bool]) -> float:
    return sum(map(pick, runs)) / len(runs) if runs else 0.0


def _curves(calibration: Calibration) -> list[dict[str, Any]]:
    return [{"upstream": u.value, "threshold": p.threshold,
             "escalation_rate": p.escalation_rate, "accuracy": p.accuracy}
            for u in UPSTREAM for p in calibration.curve(u)]


def targets(profiles: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, prof in profiles.items():
        c, base = prof["policies"]["cascade"], prof["policies"]["cloud-lm"]
        gap = 100 * (base["accuracy"] - c["accuracy"])
        ratio = (c["median_ms"] / base["median_ms"]) if c["median_ms"] and base["median_ms"] \
            else None
        out += [
            {"figure": f"{name}.accuracy_gap_pt", "target": "<= 0.5", "value": gap,
             "met": gap <= TARGETS["accuracy_gap_pt"]},
            {"figure": f"{name}.edge_share", "target": ">= 0.6", "value": c["edge_share"],
             "met": c["edge_share"] >= TARGETS["edge_share"]},
            {"figure": f"{name}.median_ratio", "target": "<= 0.6 (lte)", "value": ratio,
             "met": None if name != "lte" or ratio is None else ratio <= TARGETS["median_ratio"]},
        ]
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"bench cascade: {result['per_type']} requests per type, "
             f"{result['wall_s']:.0f} s"]
    for name, prof in result["profiles"].items():
        lines.append(f"{name}{' (' + prof['note'] + ')' if 'note' in prof else ''}:")
        lines.append(f"  {'policy':10s} {'accuracy':>8s} {'edge':>6s} {'median':>9s} "
                     f"{'p95':>9s} {'bytes up':>9s}")
        for label, s in prof["policies"].items():
            lines.append(f"  {label:10s} {s['accuracy']:8.3f} {s['edge_share']:6.2f} "
                         f"{s['median_ms']:7.1f}ms {s['p95_ms']:7.1f}ms {s['bytes_up']:9.0f}")
    for t in result["targets"]:
        value = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"  target {t['figure']} {t['target']}: {value} "
                     f"{'met' if t['met'] else ('-' if t['met'] is None else 'MISSED')}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tier in UPSTREAM:
        points = [c for c in result["calibration"] if c["upstream"] == tier.value]
        left.plot([c["escalation_rate"] for c in points], [c["accuracy"] for c in points],
                  label=f"edge -> {tier.value}")
    left.set(xlabel="escalation rate", ylabel="cascade accuracy (calibration set)",
             title="calibration curve")
    left.legend()
    for name, prof in result["profiles"].items():
        for label, s in prof["policies"].items():
            right.scatter(s["median_ms"], s["accuracy"])
            right.annotate(f"{name}/{label}", (s["median_ms"], s["accuracy"]), fontsize=7)
    right.set(xlabel="median latency (ms)", ylabel="accuracy", xscale="log",
              title="policies per profile")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

"""`splitvlm bench split`: fixed plans vs the planner vs the oracle, per network profile.

    sudo splitvlm bench split --json --plot split.png --profiles lan,congested --change

Per profile, the emulated testbed (namespaces, tbf, delaying relays, the edge at a quarter
core) runs the three tiers; this process asks the edge over its unix socket. Every request of
the workload (split_workload: 4 of each question type, 512x512 camera JPEGs) runs on every
fixed plan (edge-only, edge-vision+fog-lm, edge-vision+cloud-lm, fog-all, cloud-all,
split-0..L) and on `plan="auto"` under every preset, request-major with the plans interleaved,
after a discarded warm-up pass. The figures and their targets are in split_stats; `--change`
adds the adaptation test on wifi: auto/battery requests (by default: under `fastest` the
edge keeps everything on every profile, so no drop can change its plan, while `battery` weighs
the radio's airtime against edge compute), all of one question type (`caption`: the plan also
depends on the type, whose accuracy and answer length differ; battery sends captions, long to
decode on the weak edge, to the fog, within 2 pt of the edge LM on them), the edge-fog
bandwidth drops 10x after `--change-before` requests, and `change.requests_to_switch` counts
the requests until the chosen placement changes (precision aside). Needs root (the testbed);
the testbed is removed on any exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from splitvlm.bench.split_runner import (
    CHANGE_PRESET,
    CHANGE_QTYPE,
    BedOptions,
    Run,
    TierBed,
    run_labels,
)
from splitvlm.bench.split_stats import overall_mape, profile_summary
from splitvlm.bench.split_workload import of_type, warmup, workload
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.questions import QTYPES
from splitvlm.plan.named import plan_names
from splitvlm.plan.presets import PRESETS
from splitvlm.stages import StageGraph
from splitvlm.testbed import PROFILES, TestbedError, get_profile, root_reason

CHANGE_PROFILE = "wifi"
CHANGE_FACTOR = 10.0
# (figure, comparison, bound, profile it applies to or None for all)
TARGETS: tuple[tuple[str, str, float, str | None], ...] = (
    ("fastest_vs_oracle", "<=", 1.10, None),
    ("balanced_accuracy_gap_pt", "<=", 1.0, None),
    ("balanced_vs_oracle", "<=", 1.10, None),
    ("cloud_only_vs_balanced", ">=", 3.0, "congested"),
)
MAPE_TARGET = 0.15
SWITCH_TARGET = 5
VARIED_TARGET = 2  # profiles on which the accurate oracle's LM tier differs between types


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench split")
    p.add_argument("--profiles", default="lan,wifi,lte,congested",
                   help=f"comma-separated testbed profiles ({', '.join(PROFILES)})")
    p.add_argument("--requests", type=int, default=36, help="measured requests per profile")
    p.add_argument("--repeats", type=int, default=3,
                   help="runs of every plan and preset on each request; a plan's latency on a "
                        "request is the median of its runs, on both sides of every ratio")
    p.add_argument("--warmup", type=int, default=1, help="discarded requests per profile")
    p.add_argument("--change", action="store_true", help="also run the bandwidth-drop test")
    p.add_argument("--change-before", type=int, default=10, help="requests before the drop")
    p.add_argument("--change-after", type=int, default=20, help="requests after the drop")
    p.add_argument("--change-preset", default=CHANGE_PRESET, choices=sorted(PRESETS),
                   help="the preset whose choice is followed across the drop")
    p.add_argument("--change-qtype", default=CHANGE_QTYPE, choices=list(QTYPES),
                   help="the question type of every request of the drop test (the plan also "
                        "depends on the type; one type leaves the bandwidth as the only change)")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR,
                   help="weights and ONNX graphs (default: the shipped ones)")
    p.add_argument("--threads", type=int, default=1, help="compute threads per tier")
    p.add_argument("--prefix", default="svbench", help="testbed name prefix")
    p.add_argument("--gap-s", type=float, default=0.1,
                   help="idle seconds before each request: 0.1 (one CFS period), a camera "
                        "that asks about a frame now and then, so every request starts with "
                        "the edge's full CPU quota; 0: back to back, the edge saturated and "
                        "each latency depends on the quota its predecessor left")
    args = p.parse_args(extra)
    args.profiles = [name.strip() for name in args.profiles.split(",") if name.strip()]
    for name in args.profiles:
        get_profile(name)  # ValueError lists the valid names
    if (args.requests < 1 or args.repeats < 1 or args.warmup < 0 or args.change_before < 1
            or args.change_after < 1):
        p.error("--requests, --repeats, --change-before and --change-after must be >= 1, "
                "--warmup >= 0")
    if not 0 <= args.gap_s <= 10:
        p.error(f"--gap-s={args.gap_s} must be in 0..10")
    if not (args.checkpoints / "visual.json").exists():
        p.error(f"--checkpoints {args.checkpoints}: no visual.json (train or pass another dir)")
    return args


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(), "loadavg": list(os.getloadavg())}


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt here, so the testbed's teardown runs on it too."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    reason = root_reason()
    if reason:
        raise TestbedError(f"bench split needs the testbed: {reason}")
    graph = StageGraph.from_visual_config(
        json.loads((args.checkpoints / "visual.json").read_text())["config"])
    labels = run_labels(plan_names(graph), list(PRESETS))
    requests, warm = workload(args.requests), warmup(args.warmup)
    changing = of_type(args.change_qtype, args.change_before + args.change_after)
    options = BedOptions(args.checkpoints.resolve(), args.threads, args.prefix,
                         gap_s=args.gap_s)
    started, load_before = time.perf_counter(), machine()["loadavg"]
    profiles: dict[str, Any] = {}
    all_runs: list[Run] = []
    change: dict[str, Any] | None = None
    with _sigterm_as_interrupt():
        for name in args.profiles:
            t0 = time.perf_counter()
            with TierBed(get_profile(name), options) as bed:
                runs = bed.measure(requests, labels, warm, args.repeats)
                if args.change and name == CHANGE_PROFILE:
                    change = bed.change_experiment(changing, args.change_before,
                                                   args.change_after, CHANGE_FACTOR,
                                                   args.change_preset)
            all_runs += runs
            qtype_of = {r.index: r.qtype for r in requests}
            profiles[name] = {"profile": _profile_doc(name),
                              **profile_summary(runs, labels, qtype_of),
                              "edge_cpu_source": bed.cpu.source if bed.cpu else "timings",
                              "wall_s": time.perf_counter() - t0}
        if args.change and change is None:
            with TierBed(get_profile(CHANGE_PROFILE), options) as bed:
                change = bed.change_experiment(changing, args.change_before, args.change_after,
                                               CHANGE_FACTOR, args.change_preset)
    mape, n_auto = overall_mape(all_runs)
    mape_adjusted, _ = overall_mape(all_runs, adjusted=True)
    mape_served, _ = overall_mape(all_runs, served=True)
    doc: dict[str, Any] = {
        "requests": args.requests, "repeats": args.repeats, "warmup": args.warmup,
        "plans": labels,
        "checkpoints": str(options.checkpoints), "threads": args.threads, "gap_s": args.gap_s,
        "profiles": profiles, "mape": mape, "mape_n": n_auto,
        "mape_length_adjusted": mape_adjusted, "mape_served": mape_served,
        "machine": {**machine(), "loadavg_before": load_before},
        "wall_s": time.perf_counter() - started,
    }
    if change is not None:
        doc["change"] = change
    doc["targets"] = targets(doc)
    return doc


def _profile_doc(name: str) -> dict[str, Any]:
    p = get_profile(name)
    return {"edge_fog_bps": p.edge_fog.bandwidth_bps, "edge_fog_delay_s": p.edge_fog.delay_s,
            "fog_cloud_bps": p.fog_cloud.bandwidth_bps, "fog_cloud_delay_s": p.fog_cloud.delay_s,
            "edge_cpu_quota": p.edge_cpu_quota}


def _meets(value: float | None, comparison: str, bound: float) -> bool | None:
    if value is None:
        return None
    return value <= bound if comparison == "<=" else value >= bound


def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each acceptance target with its value(s) and whether it is met (None: not measured)."""
    out = []
    for figure, comparison, bound, only in TARGETS:
        for name, prof in doc["profiles"].items():
            if only is None or only == name:
                out.append({"figure": f"profiles.{name}.{figure}", "target": f"{comparison} "
                            f"{bound:g}", "value": prof[figure],
                            "met": _meets(prof[figure], comparison, bound)})
    out.append({"figure": "mape", "target": f"<= {MAPE_TARGET:g}", "value": doc["mape"],
                "met": _meets(doc["mape"], "<=", MAPE_TARGET)})
    varied = [name for name, prof in doc["profiles"].items() if tiers_vary(prof)]
    out.append({"figure": "oracle_accurate_tiers_vary_on", "target": f">= {VARIED_TARGET}",
                "value": len(varied), "profiles": varied,
                "met": None if len(doc["profiles"]) < VARIED_TARGET
                else len(varied) >= VARIED_TARGET})
    if "change" in doc:
        change = doc["change"]
        value = change["requests_to_switch"]
        met = _meets(value, "<=", SWITCH_TARGET)
        if value is None:  # never switched: a miss, unless the drop could not matter
            met = None if change["vacuous"] else False
        out.append({"figure": "change.requests_to_switch", "target": f"<= {SWITCH_TARGET}",
                    "value": value, "met": met})
    return out


def tiers_vary(profile: dict[str, Any]) -> bool:
    """Whether the accurate oracle's most frequent LM tier differs between question types."""
    tops = {max(w["accurate"], key=w["accurate"].get)
            for w in profile.get("oracle_by_type", {}).values() if w["accurate"]}
    return len(tops) > 1


def render(r: dict[str, Any]) -> str:
    from splitvlm.bench.split_render import render_result

    return render_result(r)


def plot(result: dict[str, Any], path: str) -> None:
    from splitvlm.bench.split_render import plot_result

    plot_result(result, path)

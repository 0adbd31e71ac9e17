"""`splitvlm bench faults`: the first request after the fog dies, against an edge-only answer.

For each fault (SIGKILL: the fog is gone; SIGSTOP: the fog is frozen, its connections open and
silent) and each round: the three tiers start as processes on loopback; the edge-only
latency is the median of a few edge-only answers (the baseline, same run); a question the
planner sends upstream (`most-accurate`) is asked until the fog has accepted a few calls; then
the fault, and the next request of the same kind is timed: how long, and how it was answered
(the edge's LM, falling back, or an error). The target:
within 1.5x the edge-only latency, and no request waits out its deadline.

JSON: rounds, per fault: first_ms (per round), edge_only_ms (per round), ratio (median),
answered_by (count), next_ms (the request after, planned around the fog).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.processes import start_cluster
from splitvlm.sdk import Answer, Client, SplitVLMError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"
QUESTION = "what is left of the red square ?"
UPSTREAM = {"plan": "auto", "preset": "most-accurate", "no_cache": True}
FAULTS = {"killed": signal.SIGKILL, "frozen": signal.SIGSTOP}
DEADLINE_S = 20.0


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench faults")
    p.add_argument("--rounds", type=int, default=5, help="a fresh cluster per fault and round")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR)
    return p.parse_args(extra)


def _timed(client: Client, image: bytes, **options: Any) -> tuple[float, Answer | None, str]:
    t0 = time.perf_counter()
    try:
        answer = client.ask(image, QUESTION, deadline_s=DEADLINE_S, **options)
    except SplitVLMError as exc:
        return time.perf_counter() - t0, None, f"{type(exc).__name__}: {exc}"[:120]
    return time.perf_counter() - t0, answer, ""


def _how(answer: Answer | None, error: str) -> str:
    if answer is None:
        return f"error {error}"
    return "edge LM, fallback" if answer.fallback else f"{answer.plan.lm_tier} LM"


def one_round(fault: signal.Signals, checkpoints: Path) -> dict[str, Any]:
    image = EXAMPLE.read_bytes()
    cluster = start_cluster({"SPLITVLM_CHECKPOINT_DIR": str(checkpoints)})
    fog = cluster.tiers["fog"].proc
    try:
        with Client(cluster.edge) as client:
            for _ in range(5):  # warm: the fog accepts, the edge learns how fast it does
                _timed(client, image, **UPSTREAM)
            alone = statistics.median(_timed(client, image, plan="edge-only", no_cache=True)[0]
                                      for _ in range(7))
            fog.send_signal(fault)
            first, answer, error = _timed(client, image, **UPSTREAM)
            after, _, _ = _timed(client, image, **UPSTREAM)
            return {"edge_only_s": alone, "first_s": first, "next_s": after,
                    "how": _how(answer, error)}
    finally:
        fog.send_signal(signal.SIGCONT)
        cluster.stop()


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    out: dict[str, Any] = {"rounds": args.rounds, "question": QUESTION, "faults": {}}
    for name, fault in FAULTS.items():
        rounds = [one_round(fault, args.checkpoints) for _ in range(args.rounds)]
        ratios = [r["first_s"] / r["edge_only_s"] for r in rounds]
        answered = Counter(r["how"] for r in rounds)
        out["faults"][name] = {
            "edge_only_ms": [1e3 * r["edge_only_s"] for r in rounds],
            "first_ms": [1e3 * r["first_s"] for r in rounds],
            "next_ms": [1e3 * r["next_s"] for r in rounds],
            "ratio": statistics.median(ratios), "ratios": ratios,
            "answered_by": dict(answered),
            "target_met": statistics.median(ratios) <= 1.5 and all(
                not how.startswith("error") for how in answered),
        }
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['rounds']} rounds per fault; question {result['question']!r}"]
    for name, f in result["faults"].items():
        lines.append(
            f"fog {name:7s} edge-only median {statistics.median(f['edge_only_ms']):6.1f} ms  "
            f"first after {statistics.median(f['first_ms']):6.1f} ms  ratio {f['ratio']:.2f} "
            f"(target <= 1.5)  next {statistics.median(f['next_ms']):6.1f} ms  "
            f"answered by {f['answered_by']}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, f in enumerate(result["faults"].values()):
        ax.scatter([i - 0.1] * len(f["edge_only_ms"]), f["edge_only_ms"], color="gray",
                   label="edge-only" if i == 0 else None)
        ax.scatter([i + 0.1] * len(f["first_ms"]), f["first_ms"], color="tab:red",
                   label="first after the fault" if i == 0 else None)
    ax.set_xticks(range(len(result["faults"])), [f"fog {n}" for n in result["faults"]])
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)

"""`splitvlm bench cache`: multi-turn dialogues with and without the feature cache.

20 distinct camera images, 5 questions each, through the three tiers as separate processes,
all on the plan `edge-vision+fog-lm`. Baseline: every turn sends the image (`no_cache`).
Ours: `Client.session(image)`: the first turn sends the image, later turns only its key, and
the fog answers from the visual tokens it cached. Reported:

    vision_runs      vision executions summed over the tiers in the cached phase (= images)
    hit_turn_bytes   bytes the edge sent the fog on hit turns (max), beside the budget
                     200 + question length
    hit_vs_floor     median hit-turn latency / median floor, floor = client->edge and
                     edge->fog round trips (echo probes) + the fog LM's own time for that
                     question alone (torch, same threads, no services)
    cold_vs_hit      median cold-turn latency / median hit-turn latency
    by_profile       the same cold/hit ratio with the tiers in the emulated testbed, per
                     network profile (root only; otherwise the reason it was skipped)
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import grpc
import torch
from tqdm import tqdm

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import camera_image, encode_image, preprocess
from splitvlm.data.questions import ask
from splitvlm.data.scenes import Scene, sample_scene
from splitvlm.data.sets import rng_for
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.processes import ProcessCluster, start_cluster
from splitvlm.sdk import Client
from splitvlm.v1 import tier_pb2, tier_pb2_grpc

PLAN = "edge-vision+fog-lm"
TURN_TYPES = ("caption", "count", "exist", "compare", "where", "color", "relate", "size")
BENCH_STREAM = 6
HIT_BYTES_BUDGET = 200


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench cache")
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument("--profiles", default="lan,wifi,lte,congested",
                   help="testbed profiles for by_profile ('' to skip)")
    p.add_argument("--profile-images", type=int, default=6,
                   help="dialogues per testbed profile")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR)
    return p.parse_args(extra)


def dialogues(n_images: int, turns: int) -> list[tuple[Scene, bytes, list[str]]]:
    out = []
    for i in range(n_images):
        rng = rng_for(BENCH_STREAM, i)
        scene = sample_scene(rng)
        questions: list[str] = []
        for qtype in TURN_TYPES:
            qa = ask(scene, qtype, rng)
            if qa is not None and len(questions) < turns:
                questions.append(qa.question)
        while len(questions) < turns:  # always askable
            questions.append(ask(scene, "count", rng).question)  # type: ignore[union-attr]
        out.append((scene, encode_image(camera_image(scene, rng)), questions))
    return out


def _vision_runs(cluster: ProcessCluster) -> int:
    total = 0
    for tp in cluster.tiers.values():
        with grpc.insecure_channel(tp.target) as channel:
            stub = tier_pb2_grpc.TierServiceStub(channel)
            total += stub.Status(tier_pb2.StatusRequest()).vision_runs
    return total


def _rtt_s(target: str, n: int = 20) -> float:
    with grpc.insecure_channel(target) as channel:
        stub = tier_pb2_grpc.TierServiceStub(channel)
        stub.Probe(tier_pb2.ProbeRequest())
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            stub.Probe(tier_pb2.ProbeRequest())
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _lm_alone_s(dialogs: list[tuple[Scene, bytes, list[str]]], checkpoints: Path
                ) -> dict[tuple[int, int], float]:
    """The fog LM's own time per (image, turn): torch, batch 1, on the same visual tokens."""
    torch.set_num_threads(1)
    from splitvlm.runtime.visual import visual_tokens

    tok, encode = Tokenizer(), visual_tokens("fp32", checkpoints)
    lm = zoo.load_lm("fog", checkpoints)
    out = {}
    with torch.no_grad():
        for i, (_, jpeg, questions) in enumerate(dialogs):
            tokens = torch.from_numpy(encode(preprocess(jpeg, 64)[None]))
            for j, q in enumerate(questions):
                prompt = [tok.encode(q) + [tok.ans_id]]
                lm.generate(tokens, prompt, tok.pad_id, tok.eos_id)  # warm
                runs = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    lm.generate(tokens, prompt, tok.pad_id, tok.eos_id)
                    runs.append(time.perf_counter() - t0)
                out[(i, j)] = min(runs)
    return out


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    dialogs = dialogues(args.images, args.turns)
    cluster = start_cluster(env={"SPLITVLM_CHECKPOINT_DIR": str(args.checkpoints),
                                 "SPLITVLM_THREADS": "1"})
    try:
        with Client(cluster.edge) as client:
            before = _vision_runs(cluster)  # the cached phase first: no image seen yet
            cached = _phase(client, dialogs, cached=True)
            vision_runs = _vision_runs(cluster) - before
            baseline = _phase(client, dialogs, cached=False)  # no_cache: never uses it
        rtt_s = _rtt_s(cluster.edge) + _rtt_s(cluster.tiers["fog"].target)
    finally:
        cluster.stop()
    lm_alone = _lm_alone_s(dialogs, args.checkpoints)
    hits = [t for t in cached if t["turn"] > 0]
    floors = [rtt_s + lm_alone[(t["image"], t["turn"])] for t in hits]
    hit_median = statistics.median(t["latency_s"] for t in hits)
    cold_median = statistics.median(t["latency_s"] for t in cached if t["turn"] == 0)
    answers_equal = [t["answer"] for t in baseline] == [t["answer"] for t in cached]
    return {
        "plan": PLAN, "images": args.images, "turns": args.turns,
        "vision_runs": vision_runs, "baseline_vision_runs": args.images * args.turns,
        "hit_turn_bytes": max(t["bytes"] for t in hits),
        "hit_turn_bytes_budget": HIT_BYTES_BUDGET + max(len(t["question"]) for t in hits),
        "hit_turn_bytes_ok": all(t["bytes"] <= HIT_BYTES_BUDGET + len(t["question"])
                                 for t in hits),
        "baseline_turn_bytes": statistics.median(t["bytes"] for t in baseline),
        "hit_latency_s": hit_median, "floor_s": statistics.median(floors),
        "hit_vs_floor": hit_median / statistics.median(floors),
        "rtt_s": rtt_s, "cold_latency_s": cold_median, "cold_vs_hit": cold_median / hit_median,
        "baseline_latency_s": statistics.median(t["latency_s"] for t in baseline),
        "answers_identical": answers_equal,
        "by_profile": _by_profile(args, dialogs[:args.profile_images]),
    }


def _by_profile(args: argparse.Namespace, dialogs: list[tuple[Scene, bytes, list[str]]]
                ) -> dict[str, Any]:
    """Cold and hit turns of the same dialogues with the tiers in the testbed, per profile."""
    names = [n for n in args.profiles.split(",") if n]
    if not names:
        return {}
    from splitvlm.bench.split_runner import BedOptions, TierBed
    from splitvlm.testbed import get_profile, root_reason

    reason = root_reason()
    if reason is not None:
        return {"skipped": reason}
    out: dict[str, Any] = {}
    for name in names:
        with TierBed(get_profile(name), BedOptions(args.checkpoints)) as bed:
            assert bed.client is not None
            turns = _phase(bed.client, dialogs, cached=True)
        cold = statistics.median(t["latency_s"] for t in turns if t["turn"] == 0)
        hit = statistics.median(t["latency_s"] for t in turns if t["turn"] > 0)
        out[name] = {"cold_s": cold, "hit_s": hit, "cold_vs_hit": cold / hit,
                     "hit_turn_bytes": max(t["bytes"] for t in turns if t["turn"] > 0)}
    return out


def _phase(client: Client, dialogs: list[tuple[Scene, bytes, list[str]]], cached: bool
           ) -> list[dict[str, Any]]:
    turns = []
    bar = tqdm(total=sum(len(q) for _, _, q in dialogs), desc="cached" if cached else "baseline",
               disable=not __import__("sys").stderr.isatty())
    for i, (_, jpeg, questions) in enumerate(dialogs):
        session = client.session(jpeg)
        for j, question in enumerate(questions):
            t0 = time.perf_counter()
            if cached:
                answer = session.ask(question, plan=PLAN)
            else:
                answer = client.ask(jpeg, question, plan=PLAN, no_cache=True)
            turns.append({"image": i, "turn": j, "question": question, "answer": answer.text,
                          "latency_s": time.perf_counter() - t0,
                          "bytes": answer.bytes_per_link.get("edge-fog", 0),
                          "plan": answer.plan.name})
            bar.update(1)
    bar.close()
    return turns


def render(r: dict[str, Any]) -> str:
    return "\n".join([
        f"{r['images']} images x {r['turns']} turns, plan {r['plan']}",
        f"vision runs        baseline {r['baseline_vision_runs']:5d}   "
        f"cached {r['vision_runs']:5d}",
        f"bytes edge->fog    baseline {r['baseline_turn_bytes']:7.0f} B/turn   hit turn max "
        f"{r['hit_turn_bytes']} B (budget {r['hit_turn_bytes_budget']} B)",
        f"latency (median)   baseline {r['baseline_latency_s'] * 1e3:7.1f} ms   cold "
        f"{r['cold_latency_s'] * 1e3:7.1f} ms   hit {r['hit_latency_s'] * 1e3:7.1f} ms",
        f"hit floor          {r['floor_s'] * 1e3:7.1f} ms (round trips {r['rtt_s'] * 1e3:.1f} ms"
        f" + fog LM alone)   hit_vs_floor {r['hit_vs_floor']:.3f}",
        f"cold_vs_hit        {r['cold_vs_hit']:.2f}   answers identical: {r['answers_identical']}",
        *[f"  {name:10s} cold {d['cold_s'] * 1e3:7.1f} ms  hit {d['hit_s'] * 1e3:7.1f} ms  "
          f"cold/hit {d['cold_vs_hit']:.2f}" for name, d in r["by_profile"].items()
          if isinstance(d, dict)],
    ])


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["baseline", "cold", "hit", "floor"]
    values = [result[k] * 1e3 for k in ("baseline_latency_s", "cold_latency_s",
                                         "hit_latency_s", "floor_s")]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(labels, values, color=["gray", "tab:orange", "tab:green", "tab:blue"])
    ax.set_ylabel("median latency (ms)")
    ax.set_title("Multi-turn dialogues: feature cache")
    fig.tight_layout()
    fig.savefig(path, dpi=120)




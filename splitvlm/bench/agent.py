"""`splitvlm bench agent`: a camera's video through agent, edge, fog and cloud processes, with
the fog killed a third of the way in and started again at two thirds.

Same run, same machine:
1. Baselines, one frame at a time through a baseline agent (the agent's own path: SubmitFrame,
   journal, Ask): the single-frame latency of the bench's plan (`--preset`), and the edge-only
   latency (plan edge-only), medians of `--probes` frames each.
2. The video: `--seconds` of synthetic 30 fps camera video (shapes drifting in their cells, a
   new scene every `--scene-s`) played in real time by a video source (ring of `--ring`). The
   fog is SIGKILLed at 1/3 and restarted (same port) at 2/3. Per phase (up, outage, back): the
   latency p50/p95 (camera to answer) and the degraded share; the time from the fog's return
   (it prints that it serves) to the first answer that is not degraded.
3. Faster than served: the same frames at 8x the rate (240 fps) with every frame encoded
   (near_duplicate = 0): the ring drops the oldest; p95 latency against the single-frame
   baseline, with the arrival and the served rates.
   Then each answer the outage degraded gets its own edge-only baseline: its frame (as the
   agent decoded it) asked alone, edge-only, on a fresh edge (vision and LM, nothing cached);
   answers differ in length (one to five objects: 4 to 19 words), and so does their time.
4. A static scene (`--static-seconds`, the camera's noise only), every frame held (no drops)
   and asked about twice, each time through a fresh edge: reusing key frames, and encoding
   every frame (near_duplicate = 0); encoded/seen, whether the answers are the same, and each
   run's share of answers that match the scene's caption.
Answers are scored against the scenes' true captions (accuracy per phase).

The device and the servers are different machines: with two or more cores the edge and the
agent run on core 0, the fog and the cloud on core 1 (`--shared-cpus`: anywhere), so that the
fog's restart (loading its models) does not run on the device's CPU.

JSON: frames_seen, frames_encoded, frames_reused, frames_dropped, unanswered,
outage_latency_ratio (the worst, over the outage's degraded answers, of latency / the same
frame's edge-only latency; also outage_worst_vs_median: the worst latency / the median edge-only
probe), recovery_s, static_encoded_ratio, p95_vs_single (the phase at FAST times the rate),
and the details (phases, baselines, static runs, series).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from splitvlm.bench.agent_render import plot, render
from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import encode_image
from splitvlm.data.questions import ask
from splitvlm.data.scenes import Scene
from splitvlm.data.video import moving_scenes, write_video
from splitvlm.processes import TierProcess, start_agent, start_tier
from splitvlm.v1 import agent_pb2, agent_pb2_grpc

__all__ = ["plot", "render", "run"]  # splitvlm bench's interface (render, plot: agent_render)
QUESTION = "describe the image"
FAST = 8  # the ring's phase plays the video at this many times its rate
TARGETS = {"outage_latency_ratio": 2.0, "recovery_s": 3.0, "static_encoded_ratio": 0.05,
           "p95_vs_single": 2.0}


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench agent")
    p.add_argument("--seconds", type=float, default=66.0, help="length of the video (>= 60)")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--scene-s", type=float, default=4.0, help="a new scene this often")
    p.add_argument("--static-seconds", type=float, default=10.0)
    p.add_argument("--ring", type=int, default=1, help="the video source's ring")
    p.add_argument("--preset", default="most-accurate", help="the source's planner preset")
    p.add_argument("--probes", type=int, default=15, help="frames per baseline")
    p.add_argument("--shared-cpus", action="store_true",
                   help="device and servers share every core (default: core 0 / core 1)")
    p.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR)
    return p.parse_args(extra)


def _cores(shared: bool) -> tuple[frozenset[int] | None, frozenset[int] | None]:
    """(the device's cores, the servers' cores)."""
    cores = sorted(os.sched_getaffinity(0))
    if shared or len(cores) < 2:
        return None, None
    return frozenset(cores[:1]), frozenset(cores[1:])


class AgentRun:
    """One `splitvlm agent` process with its config and state in `directory`."""

    def __init__(self, directory: Path, edge: str, sources: list[dict[str, Any]],
                 env: dict[str, str], cpus: frozenset[int] | None) -> None:
        directory.mkdir(parents=True)
        self.directory = directory
        lines = ["[agent]", "insecure = true", f'state_dir = "{directory}"',
                 f'results_file = "{directory / "results.jsonl"}"', f'edge = "{edge}"', ""]
        for source in sources:
            lines += ["[[source]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items()), ""]
        (directory / "agent.toml").write_text("\n".join(lines))
        self.process = start_agent(str(directory / "agent.toml"), env, cpus)
        self.channel = grpc.insecure_channel(self.process.target)
        self.stub = agent_pb2_grpc.AgentServiceStub(self.channel)

    def status(self) -> agent_pb2.AgentStatus:
        return self.stub.Status(agent_pb2.AgentStatusRequest(), timeout=10)

    def results(self) -> list[dict[str, Any]]:
        path = self.directory / "results.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if (
            path.exists()) else []

    def settle(self, seen: int | None = None, timeout_s: float = 300.0) -> agent_pb2.AgentStatus:
        """Wait until nothing is pending (and the sources saw `seen` frames)."""
        give_up = time.monotonic() + timeout_s
        while True:
            status = self.status()
            if status.pending == 0 and (seen is None or sum(s.seen for s in status.sources)
                                        >= seen):
                return status
            if time.monotonic() > give_up:
                raise TimeoutError(f"the agent did not settle in {timeout_s} s: {status}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.channel.close()
        self.process.proc.send_signal(signal.SIGTERM)
        self.process.proc.wait(60)
        if self.process.proc.stdout is not None:
            self.process.proc.stdout.close()


def _single_frames(run: AgentRun, source: str, images: list[bytes]) -> list[float]:
    """Each image alone: submitted, answered, then the next; camera-to-answer seconds. The
    answer is awaited on a Subscribe stream (no polling beside the frame being measured)."""
    stream = run.stub.Subscribe(agent_pb2.SubscribeRequest(sources=[source]))
    stream.initial_metadata()  # subscribed
    try:
        seconds = []
        for image in images:
            run.stub.SubmitFrame(iter([agent_pb2.Frame(source=source, image=image)]),
                                 timeout=30)
            seconds.append(next(stream).latency_s)
        return seconds
    finally:
        stream.cancel()


def _caption(scene: Scene) -> str:
    return ask(scene, "caption", np.random.default_rng(0)).answer  # type: ignore[union-attr]


def _decoded(path: Path) -> list[np.ndarray]:
    """The video's frames as the agent's video source decodes them."""
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    env = {"SPLITVLM_CHECKPOINT_DIR": str(args.checkpoints)}
    work = Path(tempfile.mkdtemp(prefix="splitvlm-bench-agent-"))
    rng = np.random.default_rng(0)
    shots = list(moving_scenes(rng, args.seconds, args.fps, args.scene_s))
    truth = [_caption(scene) for _, scene in shots]
    video, fast, still = work / "camera.mp4", work / "fast.mp4", work / "static.mp4"
    write_video(video, (p for p, _ in shots), args.fps)
    write_video(fast, (p for p, _ in shots), FAST * args.fps)  # the same frames, FAST x rate
    del shots
    still_shots = list(moving_scenes(rng, args.static_seconds, args.fps, math.inf, drift=0.0))
    still_truth = [_caption(scene) for _, scene in still_shots]
    write_video(still, (p for p, _ in still_shots), args.fps)
    n_frames, n_still = len(truth), len(still_truth)
    # a new scene each: warm-up frames, the planned baseline's and the edge-only baseline's
    # apart, so that no baseline frame is one the agent or the edge has seen (and kept)
    scenes = [encode_image(p, "JPEG") for p, _ in moving_scenes(
        np.random.default_rng(1), 3 + 2 * args.probes, 1.0, 1.0)]
    warm, probes, edge_probes = scenes[:3], scenes[3:3 + args.probes], scenes[3 + args.probes:]

    device, servers = _cores(args.shared_cpus)
    tiers: dict[str, TierProcess] = {}
    source = {"questions": [QUESTION], "preset": args.preset}

    def agent_on(name: str, edge: str, sources: list[dict[str, Any]]) -> AgentRun:
        return AgentRun(work / name, edge, sources, env, device)

    def fresh_edge() -> TierProcess:
        """An edge that holds no visual tokens yet."""
        return start_tier("edge", tiers["fog"].target, env, cpus=device)

    try:
        tiers["cloud"] = start_tier("cloud", env=env, cpus=servers)
        tiers["fog"] = start_tier("fog", tiers["cloud"].target, env, cpus=servers)
        tiers["edge"] = start_tier("edge", tiers["fog"].target, env, cpus=device)
        edge = tiers["edge"].target

        base = agent_on("baseline", edge, [{"name": "planned", "kind": "grpc", **source}, {
            "name": "edge-only", "kind": "grpc", "questions": [QUESTION], "plan": "edge-only"}])
        try:
            _single_frames(base, "planned", warm)
            single = _single_frames(base, "planned", probes)
            edge_only = _single_frames(base, "edge-only", edge_probes)
        finally:
            base.stop()

        main = agent_on("video", edge, [{"name": "camera", "kind": "video",
                                         "path": str(video), "ring": args.ring, **source}])
        try:
            t0 = time.time()
            time.sleep(max(t0 + args.seconds / 3 - time.time(), 0))
            tiers["fog"].kill()
            killed = time.time()
            time.sleep(max(t0 + 2 * args.seconds / 3 - time.time(), 0))
            tiers["fog"] = start_tier("fog", tiers["cloud"].target, env,
                                      port=tiers["fog"].port, cpus=servers)
            back = time.time()  # it printed that it serves
            status = main.settle(seen=n_frames, timeout_s=args.seconds + 120)
            results = main.results()
        finally:
            main.stop()

        flood = agent_on("fast", edge, [{"name": "camera", "kind": "video", "path": str(fast),
                                         "ring": args.ring, "near_duplicate": 0.0, **source}])
        try:
            started = time.time()
            counters = flood.settle(seen=n_frames, timeout_s=args.seconds + 120).sources[0]
            played_s = n_frames / (FAST * args.fps)
            fast_phase = {"arrival_fps": FAST * args.fps,
                          "served_fps": counters.accepted / played_s,
                          "dropped": counters.dropped, "accepted": counters.accepted,
                          "wall_s": time.time() - started,
                          "latency_s": [float(r["latency_s"]) for r in flood.results()]}
        finally:
            flood.stop()

        # Each degraded answer's own baseline: its frame asked alone, edge-only, on an edge
        # that computes its visual tokens afresh.
        degraded = [r for r in results if r["degraded"]]
        frames = _decoded(video)
        alone_edge = fresh_edge()
        alone = agent_on("alone", alone_edge.target, [{
            "name": "edge-only", "kind": "grpc", "questions": [QUESTION], "plan": "edge-only",
            "near_duplicate": 0.0}])
        try:
            seconds = _single_frames(alone, "edge-only", [
                encode_image(frames[int(r["frame"])], "PNG") for r in degraded])
        finally:
            alone.stop()
            alone_edge.kill()
        for r, s in zip(degraded, seconds, strict=True):
            r["edge_only_s"] = s

        static = {}
        for reuse in (True, False):
            static_edge = fresh_edge()  # holds no static frame
            still_run = agent_on(f"static-{reuse}", static_edge.target, [{
                "name": "still", "kind": "video", "path": str(still), "realtime": False,
                "ring": n_still + 1, "near_duplicate": 4.0 if reuse else 0.0, **source}])
            try:
                still_counters = still_run.settle(seen=n_still).sources[0]
                answers = {r["frame"]: r["text"] for r in still_run.results()}
            finally:
                still_run.stop()
                static_edge.kill()
            static[reuse] = {"seen": still_counters.seen, "encoded": still_counters.encoded,
                             "reused": still_counters.reused, "answers": answers,
                             "accuracy": statistics.mean(
                                 text == still_truth[int(f)] for f, text in answers.items())}
    finally:
        for tier in tiers.values():
            tier.kill()
    for r in results:
        r["correct"] = r["text"] == truth[int(r["frame"])]
    out = _report(args, status, results, single, edge_only, t0, killed, back, static,
                  fast_phase)
    out["cores"] = {"device": sorted(device or []), "servers": sorted(servers or [])}
    return out


def _report(args: argparse.Namespace, status: agent_pb2.AgentStatus,
            results: list[dict[str, Any]], single: list[float], edge_only: list[float],
            t0: float, killed: float, back: float, static: dict[bool, dict[str, Any]],
            fast: dict[str, Any]) -> dict[str, Any]:
    camera = status.sources[0]
    phases: dict[str, list[dict[str, Any]]] = {"up": [], "outage": [], "back": []}
    for r in results:
        at = float(r["captured_unix_s"])
        phases["up" if at < killed else "outage" if at < back else "back"].append(r)
    summary = {}
    for name, rs in phases.items():
        latency = [float(r["latency_s"]) for r in rs]
        summary[name] = {"answers": len(rs), "degraded_share": (
            sum(bool(r["degraded"]) for r in rs) / len(rs) if rs else math.nan),
            "p50_ms": 1e3 * _percentile(latency, 50), "p95_ms": 1e3 * _percentile(latency, 95),
            "max_ms": 1e3 * max(latency, default=math.nan),
            "accuracy": statistics.mean(r["correct"] for r in rs) if rs else math.nan}
    degraded = [float(r["latency_s"]) for r in results if r["degraded"]]
    recovered = sorted(float(r["answered_unix_s"]) for r in results
                       if not r["degraded"] and float(r["answered_unix_s"]) > back)
    single_s, edge_only_s = statistics.median(single), statistics.median(edge_only)
    flooded = fast.pop("latency_s")
    outage = [r for r in phases["outage"] if r["degraded"]]
    own = [float(r["latency_s"]) / r["edge_only_s"] for r in outage]
    with_reuse, every = static[True], static[False]
    common = set(with_reuse["answers"]) & set(every["answers"])
    same = sum(with_reuse["answers"][f] == every["answers"][f] for f in common)
    out = {
        "frames_seen": camera.seen, "frames_encoded": camera.encoded,
        "frames_reused": camera.reused, "frames_dropped": camera.dropped,
        "frames_accepted": camera.accepted, "answers": len(results),
        "unanswered": camera.accepted - len(results) + status.pending,
        "errors": camera.errors,
        "outage_latency_ratio": max(own, default=math.nan),
        "outage_worst_vs_median": max(degraded, default=math.nan) / edge_only_s,
        "recovery_s": (recovered[0] - back) if recovered else math.nan,
        "static_encoded_ratio": with_reuse["encoded"] / max(with_reuse["seen"], 1),
        "p95_vs_single": _percentile(flooded, 95) / single_s,
        "single_frame_ms": 1e3 * single_s, "edge_only_ms": 1e3 * edge_only_s,
        "served_fps": camera.accepted / args.seconds, "arrival_fps": args.fps,
        "outage_over_2x": sum(x > 2 for x in own), "outage_degraded": len(own),
        "outage_ratio_p99": _percentile(own, 99),
        "degraded_over_2x_median": sum(d > 2 * edge_only_s for d in degraded),
        "fast": {**fast, "p50_ms": 1e3 * _percentile(flooded, 50),
                 "p95_ms": 1e3 * _percentile(flooded, 95)},
        "phases": summary, "fog_killed_s": killed - t0, "fog_back_s": back - t0,
        "static": {"seen": with_reuse["seen"], "encoded_with_reuse": with_reuse["encoded"],
                   "encoded_every_frame": every["encoded"], "frames_compared": len(common),
                   "same_answers": same, "accuracy_with_reuse": with_reuse["accuracy"],
                   "accuracy_every_frame": every["accuracy"]},
        "series": [[float(r["captured_unix_s"]) - t0, float(r["latency_s"]), bool(r["degraded"])]
                   for r in results],
        "config": {k: v for k, v in vars(args).items() if k != "checkpoints"},
    }
    out["targets_met"] = {
        "unanswered": out["unanswered"] == 0,
        "outage_latency_ratio": out["outage_latency_ratio"] <= TARGETS["outage_latency_ratio"],
        "recovery_s": out["recovery_s"] <= TARGETS["recovery_s"],
        "static": (out["static_encoded_ratio"] <= TARGETS["static_encoded_ratio"]
                   and same == len(common) > 0),
        "p95_vs_single": out["p95_vs_single"] <= TARGETS["p95_vs_single"]}
    return out

"""The cloud's engine alone for `splitvlm bench batch`: the bench's requests without the tiers.

The same requests go to an Engine in this process, built as the cloud builds its own: one at
a time, then from `clients` threads that each submit their next request when the last one
ends. No gRPC, no image decoding, no relay: visual tokens are computed once beforehand (fp32
torch vision). The ratio of the two is what continuous batching itself gives on this machine;
beside the served `speedup`, the gap is what the transport costs per request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from splitvlm.bench.split_workload import BenchRequest
from splitvlm.data.camera import decode_image
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.engine import Engine

Item = tuple[np.ndarray, list[int]]  # visual tokens (N', Dl) float32, prompt ids


def engine_items(requests: list[BenchRequest], checkpoints: Path) -> list[Item]:
    from splitvlm.runtime.visual import visual_tokens

    tok, encode = Tokenizer(), visual_tokens("fp32", checkpoints)
    return [(encode(decode_image(r.image)[None])[0], tok.encode(r.question) + [tok.ans_id])
            for r in requests]


def engine_phase(engine: Engine, items: list[Item], clients: int) -> tuple[list[list[int]], float]:
    """`clients` closed-loop threads work through `items`; (answers in order, wall seconds)."""
    answers: list[list[int]] = [[] for _ in items]
    todo = iter(range(len(items)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            handle = engine.submit(*items[i])
            handle.wait()
            answers[i] = [t for t in handle.output() if t != engine.eos_id]  # as streamed

    threads = [threading.Thread(target=worker) for _ in range(min(clients, len(items)))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers, time.perf_counter() - t0


def engine_alone(requests: list[BenchRequest], checkpoints: Path, clients: int, rounds: int,
                 threads: int) -> dict[str, Any]:
    """Tokens/s of the cloud engine alone, one at a time and with `clients` threads."""
    import torch

    from splitvlm.engine import EngineConfig, engine_for_tier

    torch.set_num_threads(threads)
    items = engine_items(requests, checkpoints)
    batch = max(16, clients)  # as the bench's cloud: SPLITVLM_MAX_BATCH
    engine = engine_for_tier("cloud", EngineConfig.for_slots(batch, 2 * batch),
                             directory=checkpoints)
    engine.start()
    try:
        engine_phase(engine, items[:4], 4)  # warm-up
        walls = {"concurrent": 0.0, "baseline": 0.0}
        outputs: dict[str, list[list[int]]] = {}
        for _ in range(rounds):
            for name, n in (("concurrent", clients), ("baseline", 1)):
                outputs[name], wall = engine_phase(engine, items, n)
                walls[name] += wall
    finally:
        engine.stop()
    tokens = rounds * sum(len(a) for a in outputs["baseline"])
    per_s = {name: tokens / wall for name, wall in walls.items()}
    return {"baseline_tokens_per_s": per_s["baseline"],
            "concurrent_tokens_per_s": per_s["concurrent"],
            "speedup": per_s["concurrent"] / per_s["baseline"],
            "answers_identical": outputs["baseline"] == outputs["concurrent"]}

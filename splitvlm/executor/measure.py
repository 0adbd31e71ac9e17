"""Start-up measurement of a tier's compute: seconds per stage, prefill and per-token decode.

The result is a `ProfileReport` (splitvlm.plan.measured), which seeds the planner and travels
in the tier's status.

Prefix-only back ends (the edge's ONNX graphs start at the pixels) are timed per prefix and
each stage gets the difference of consecutive prefixes. Medians of a few runs: this is a
seed, the executor keeps it current with every real request.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import numpy as np

from splitvlm.data.camera import CAMERA_SIZE, camera_image, encode_image, preprocess
from splitvlm.data.scenes import sample_scene
from splitvlm.data.sets import rng_for
from splitvlm.executor.compute import TierCompute
from splitvlm.plan.measured import DecodeCost, PreprocessCost, ProfileReport, StageCost
from splitvlm.plan.plan import Precision, Tier
from splitvlm.stages import MAX_ANSWER_TOKENS

MEASURE_STREAM = 5
CAPTION = "describe the image"
MIN_STAGE_S = 1e-5


def _median_s(fn: Any, runs: int) -> float:
    fn()  # warm-up (sessions, caches)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _sample_pixels(compute: TierCompute) -> tuple[bytes, np.ndarray]:
    rng = rng_for(MEASURE_STREAM, 0)
    jpeg = encode_image(camera_image(sample_scene(rng), rng))
    return jpeg, preprocess(jpeg, compute.graph.image_size)[None]  # (1, S, S, 3)


def measure_stages(tier: Tier, compute: TierCompute, runs: int = 5) -> list[StageCost]:
    """Seconds of every non-LM stage this tier can run, per precision."""
    graph = compute.graph
    jpeg, pixels = _sample_pixels(compute)
    out: list[StageCost] = []
    for precision, runner in compute.runners.items():
        out.append(StageCost(tier, graph.preprocess, precision,
                             _median_s(lambda: preprocess(jpeg, graph.image_size), runs)))
        if runner.prefix_only:  # stage k = prefix to k+1 minus prefix to k
            previous = 0.0
            for stage in graph.visual_stages:
                total = _median_s(
                    lambda s=stage, r=runner: r.run(pixels, graph.patch_embed, s + 1), runs)
                out.append(StageCost(tier, stage, precision, max(total - previous, MIN_STAGE_S)))
                previous = max(previous, total)
        else:
            value = pixels
            for stage in graph.visual_stages:
                out.append(StageCost(tier, stage, precision, _median_s(
                    lambda s=stage, v=value, r=runner: r.run(v, s, s + 1), runs)))
                value = runner.run(value, stage, stage + 1)
    return out


async def measure_lm(compute: TierCompute, batches: tuple[int, ...] = (1,), runs: int = 3
                     ) -> tuple[float, dict[int, float]]:
    """(prefill seconds, {batch: seconds per decoded token}) of this tier's LM; batch 1 is
    always measured."""
    assert compute.lm is not None
    prompt = compute.text.prompt(compute.text.check(CAPTION))
    runner = compute.runners.get(Precision.FP32) or next(iter(compute.runners.values()))
    _, pixels = _sample_pixels(compute)
    graph = compute.graph
    visual = runner.run(pixels, graph.patch_embed, graph.prefill).astype(np.float32)

    async def one(max_new_tokens: int = MAX_ANSWER_TOKENS) -> tuple[float, float, int]:
        t0 = time.perf_counter()
        first, n = 0.0, 0
        stream = compute.lm.stream(visual, prompt, max_new_tokens, None)  # type: ignore[union-attr]
        async for _ in stream:
            n += 1
            if n == 1:
                first = time.perf_counter() - t0
        return first, time.perf_counter() - t0, n

    await one()  # warm-up
    # Prefill = a one-token answer, not the time to the first token: a blocking generator (the
    # edge's ONNX LM) hands over all tokens at the end, so its first token comes with the last.
    # Medians of a few runs, so that one CPU-quota stall (the edge's cgroup) does not count.
    prefill_s = statistics.median([(await one(1))[1] for _ in range(runs)])
    whole = [await one() for _ in range(runs)]
    _, total, n = sorted(whole, key=lambda r: r[1])[len(whole) // 2]
    decode = {1: max((total - prefill_s) / max(n - 1, 1), MIN_STAGE_S)}
    for batch in batches:
        if batch == 1:
            continue
        results = await asyncio.gather(*(one() for _ in range(batch)))
        first, total, n = max(results, key=lambda r: r[1])
        decode[batch] = max((total - first) / max(n - 1, 1), MIN_STAGE_S)
    return prefill_s, decode


LARGE_IMAGE = 1536  # side of the second image preprocess is timed on (2.4 megapixels)


def measure_preprocess(tier: Tier, compute: TierCompute, runs: int = 3
                       ) -> list[PreprocessCost]:
    """`preprocess` of a camera JPEG and of a large one: two points of its line in image size
    (`ImageCost`)."""
    rng = rng_for(MEASURE_STREAM, 1)
    scene = sample_scene(rng)
    points = []
    for side in (CAMERA_SIZE, LARGE_IMAGE):
        jpeg = encode_image(camera_image(scene, rng, side))
        seconds = _median_s(lambda j=jpeg: preprocess(j, compute.graph.image_size), runs)
        points.append(PreprocessCost(tier, side * side / 1e6, seconds))
    return points


async def measure_tier(tier: Tier, compute: TierCompute, runs: int = 5) -> ProfileReport:
    """This tier's seed profile: every stage it can run, its LM, its preprocess line."""
    stages = await asyncio.to_thread(measure_stages, tier, compute, runs)
    points = await asyncio.to_thread(measure_preprocess, tier, compute)
    if compute.lm is None:
        return ProfileReport(tuple(stages), (), tuple(points))
    batches = (1, 8) if compute.stats is not None else (1,)  # batching engines: 2 points
    prefill_s, decode = await measure_lm(compute, batches)
    stages.append(StageCost(tier, compute.graph.prefill, Precision.FP32, prefill_s))
    return ProfileReport(tuple(stages),
                         tuple(DecodeCost(tier, b, s) for b, s in sorted(decode.items())),
                         tuple(points))

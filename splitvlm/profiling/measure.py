"""Latency at batch 1 on one thread: the median of `runs` timed calls after `WARMUP` calls.

Callables measured together run round-robin (one call of each per round), so background load
hits them alike. Visual stages run in torch one at a time (`TorchVisual.run`); ONNX Runtime
runs prefixes only (pixels -> cut), at fp32 and int8. The LMs run `LM.forward` on a KV cache.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from splitvlm.model.lm import KV, LM
from splitvlm.runtime.ort import PRECISIONS, OrtVisual, read_manifest, session
from splitvlm.runtime.torch_stages import TorchVisual

WARMUP = 3  # untimed calls per callable: session creation, allocator, caches
THREADS = 1  # torch and ONNX Runtime intra-op threads
LM_BATCH = 8  # the batched decode figure
GROUPS = 5  # round-robin groups in `measure`, for the progress bar
Tick = Callable[[], object]


def _no_tick() -> None:
    pass


@dataclass(frozen=True)
class LMTimings:
    prefill_ms: dict[str, float]  # tier -> torch, batch 1, T prompt positions
    decode_ms: dict[str, float]  # tier -> torch, batch 1, one token
    decode_batch_ms: dict[str, float]  # tier -> torch, batch LM_BATCH, one step (B tokens)
    ort_edge_prefill_ms: float  # the edge LM's ONNX graphs, batch 1
    ort_edge_decode_ms: float


@dataclass(frozen=True)
class Timings:
    torch_stage_ms: dict[int, float]  # visual stage index -> ms
    ort_prefix_ms: dict[str, dict[int, float]]  # precision -> cut -> ms (pixels -> cut)
    visual_ms: dict[str, float]  # torch_fp32 | ort_fp32 | ort_int8: the whole visual side
    lm: LMTimings


def interleaved_ms(fns: Mapping[str, Callable[[], object]], runs: int,
                   tick: Tick = _no_tick) -> dict[str, float]:
    """Median ms per callable over `runs` rounds, one call of each per round; `tick()` after
    each round (progress)."""
    for _ in range(WARMUP):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1e3)
        tick()
    return {name: statistics.median(ms) for name, ms in samples.items()}


def torch_stages(visual: TorchVisual, pixels: np.ndarray, runs: int,
                 tick: Tick) -> dict[int, float]:
    """Each visual stage k on the real boundary value at cut k, round-robin."""
    fns: dict[int, Callable[[], object]] = {}
    value = pixels
    for k in visual.graph.visual_stages:
        fns[k] = partial(visual.run, value, k, k + 1)
        value = visual.run(value, k, k + 1)  # the input of stage k + 1
    by_name = interleaved_ms({str(k): fn for k, fn in fns.items()}, runs, tick)
    return {k: by_name[str(k)] for k in fns}


def ort_prefixes(
    onnx_dir: Path, pixels: np.ndarray, cuts: range, runs: int, tick: Tick
) -> dict[str, dict[int, float]]:
    """Every prefix at every precision in one round-robin, so differences of consecutive
    prefixes see the same background load."""
    runners = {p: OrtVisual(onnx_dir, p, threads=THREADS) for p in PRECISIONS}
    ms = interleaved_ms({f"{p}/{cut}": partial(r.run, pixels, cut)
                         for cut in cuts for p, r in runners.items()}, runs, tick)
    return {p: {cut: ms[f"{p}/{cut}"] for cut in cuts} for p in PRECISIONS}


def whole_visual(visual: TorchVisual, onnx_dir: Path, pixels: np.ndarray, runs: int,
                 tick: Tick) -> dict[str, float]:
    """VisualSide.forward in torch against the full ORT prefix, interleaved."""
    x = torch.from_numpy(pixels)  # (1, S, S, 3) uint8

    def torch_fp32() -> None:
        with torch.inference_mode():
            visual.model(x)

    fns: dict[str, Callable[[], object]] = {"torch_fp32": torch_fp32}
    for p in PRECISIONS:
        fns[f"ort_{p}"] = partial(OrtVisual(onnx_dir, p, threads=THREADS).run, pixels,
                                  visual.graph.prefill)
    return interleaved_ms(fns, runs, tick)


def _prefill(lm: LM, visual: torch.Tensor, ids: torch.Tensor) -> KV:
    """visual (B, N', Dl), ids (B, T) -> the KV cache (L, B, H, N'+T, hd)."""
    with torch.inference_mode():
        h = torch.cat([lm.embed_visual(visual), lm.tok_emb(ids)], dim=1)  # (B, N'+T, d)
        positions = torch.arange(h.shape[1]).expand(h.shape[0], -1)
        return lm(h, positions)[1]


def _decode(lm: LM, past: KV) -> None:
    """One token per row after the cache `past`."""
    b, length = past[0].shape[1], past[0].shape[3]
    with torch.inference_mode():
        token = torch.zeros(b, 1, dtype=torch.long)
        lm(lm.tok_emb(token), torch.full((b, 1), length), past)


def _ort_edge(onnx_dir: Path, visual: np.ndarray, ids: np.ndarray) -> tuple[
        Callable[[], object], Callable[[], object]]:
    """The edge LM's prefill and decode graphs as callables, batch 1."""
    section = read_manifest(onnx_dir)["edge_lm"]
    prefill, decode = (session(onnx_dir / section[g]["files"]["fp32"]["file"], THREADS)
                       for g in ("prefill", "decode"))
    feeds = {"visual": visual.astype(np.float32), "ids": ids.astype(np.int64)}
    _, keys, values = prefill.run(None, feeds)  # (L, 1, H, N'+T, hd)
    step = {"token": np.zeros((1, 1), np.int64),
            "position": np.full((1, 1), keys.shape[3], np.int64),
            "past_keys": keys, "past_values": values}
    return partial(prefill.run, None, feeds), partial(decode.run, None, step)


def lms(lm_by_tier: Mapping[str, LM], visual: np.ndarray, prompt_tokens: int, onnx_dir: Path,
        runs: int, tick: Tick) -> LMTimings:
    """visual (1, N', Dl): the visual tokens of the profiled image; random prompt ids."""
    vocab = min(lm.cfg.vocab_size for lm in lm_by_tier.values())
    ids = np.random.default_rng(0).integers(0, vocab, (1, prompt_tokens))  # (1, T)
    v1, i1 = torch.from_numpy(visual), torch.from_numpy(ids)
    vb, ib = v1.expand(LM_BATCH, -1, -1), i1.expand(LM_BATCH, -1)
    ort_prefill, ort_decode = _ort_edge(onnx_dir, visual, ids)
    prefill_fns: dict[str, Callable[[], object]] = {"ort": ort_prefill}
    decode_fns: dict[str, Callable[[], object]] = {"ort": ort_decode}
    for tier, lm in lm_by_tier.items():
        prefill_fns[tier] = partial(_prefill, lm, v1, i1)
        decode_fns[tier] = partial(_decode, lm, _prefill(lm, v1, i1))
        decode_fns[f"{tier}@batch"] = partial(_decode, lm, _prefill(lm, vb, ib))
    prefill = interleaved_ms(prefill_fns, runs, tick)
    decode = interleaved_ms(decode_fns, runs, tick)
    return LMTimings(
        prefill_ms={t: prefill[t] for t in lm_by_tier},
        decode_ms={t: decode[t] for t in lm_by_tier},
        decode_batch_ms={t: decode[f"{t}@batch"] for t in lm_by_tier},
        ort_edge_prefill_ms=prefill["ort"], ort_edge_decode_ms=decode["ort"],
    )


def measure(visual: TorchVisual, lm_by_tier: Mapping[str, LM], onnx_dir: Path,
            prompt_tokens: int, runs: int, show_progress: bool) -> Timings:
    """Every latency of the report, at batch 1 on THREADS threads (torch's setting restored)."""
    graph = visual.graph
    pixels = np.random.default_rng(0).integers(
        0, 256, (1, graph.image_size, graph.image_size, 3), dtype=np.uint8)  # (1, S, S, 3)
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        with tqdm(total=GROUPS * runs, desc="profile", disable=not show_progress) as bar:
            stage_ms = torch_stages(visual, pixels, runs, bar.update)
            cuts = graph.tensor_cuts
            prefix_ms = ort_prefixes(onnx_dir, pixels, cuts, runs, bar.update)
            visual_ms = whole_visual(visual, onnx_dir, pixels, runs, bar.update)
            tokens = visual.run(pixels, graph.patch_embed, graph.prefill)  # (1, N', Dl)
            lm = lms(lm_by_tier, tokens, prompt_tokens, onnx_dir, runs, bar.update)
    finally:
        torch.set_num_threads(previous)
    return Timings(stage_ms, prefix_ms, visual_ms, lm)

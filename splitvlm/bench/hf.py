"""`splitvlm bench hf`: Hugging Face VLMs split across the three services, token for token.

For each adapted family, a tiny random model of it (splitvlm.model.hf.tiny) is served by edge,
fog and cloud as loopback gRPC services (`serve --model DIR` in one process: the edge's vision
on its exported fp32 ONNX prefixes, fog and cloud in torch), and every prompt is asked through
the SDK at every cut with the LM on the fog and on the cloud (`cut-C@TIER:ENCODING` plans),
the boundary in fp32, fp16 and int8 (the image and PNG pixels at cuts 0 and 1).

Baseline, in the same run: `transformers`' own greedy `generate` on the unsplit model (its
processor included), one prompt at a time in this process. Reported per plan: `identical`
(the share of prompts whose answer ids equal the baseline's; fp32 must be 1), the bytes the
edge sent the fog (boundary + question + framing), the median latency seen by the client and
its ratio to the unsplit `generate` (the services add gRPC hops, serialization and streaming,
which a tiny model does not hide).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from splitvlm.data.camera import encode_image
from splitvlm.embedded import embedded_cluster
from splitvlm.model.hf import load
from splitvlm.model.hf.family import Family
from splitvlm.model.hf.tiny import TINY, save_tiny
from splitvlm.plan.candidates import encodings_at
from splitvlm.plan.plan import Precision, Tier
from splitvlm.sdk import AsyncClient
from splitvlm.sdk.events import AnswerEvent, TokenEvent
from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding

TENSORS = (Encoding.FP32, Encoding.FP16, Encoding.INT8)
LM_TIERS = (Tier.FOG, Tier.CLOUD)


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench hf")
    p.add_argument("--families", nargs="+", default=None, choices=TINY,
                   help="which tiny families to split (default: all, unless --model)")
    p.add_argument("--model", nargs="+", default=[], metavar="DIR",
                   help="also (or only) these saved models: your own checkpoint, split the "
                        "same way (questions are random words of its own vocabulary)")
    p.add_argument("--prompts", type=int, default=6, help="image x question pairs per family")
    p.add_argument("--max-new-tokens", type=int, default=12, help="answer tokens per prompt")
    return p.parse_args(extra)


def run(extra: list[str]) -> dict[str, Any]:
    import transformers

    args = _args(extra)
    torch.set_num_threads(1)
    families = args.families if args.families is not None else (
        [] if args.model else list(TINY))
    results = {name: asyncio.run(_tiny(name, args)) for name in families}
    results.update({directory: asyncio.run(_family(Path(directory), args))
                    for directory in args.model})
    return {"prompts": args.prompts, "max_new_tokens": args.max_new_tokens,
            "transformers": transformers.__version__, "threads": 1, "families": results}


def _prompts(family: Family, n: int) -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(0)
    s = family.image_size
    vocabulary = family.processor.tokenizer.get_vocab()
    words = sorted(w for w in vocabulary if w.isalnum() and w.isascii())[:2000] or ["what"]
    return [(rng.integers(0, 256, (s, s, 3), dtype=np.uint8),
             " ".join(rng.choice(words, size=int(rng.integers(2, 8)))) + " ?")
            for _ in range(n)]


def _plans(graph: StageGraph) -> list[tuple[int, Tier, Encoding]]:
    return [(cut, tier, encoding) for cut in graph.cuts for tier in LM_TIERS
            for encoding in encodings_at(graph, cut, TENSORS)]


async def _ask(client: AsyncClient, image: bytes, question: str, plan: str, max_new: int
               ) -> tuple[list[int], int, float]:
    """(answer ids, bytes the edge sent the fog, client-side seconds)."""
    ids, sent = [], 0
    t0 = time.perf_counter()
    async for event in client.stream(image, question, plan=plan, max_new_tokens=max_new,
                                     no_cache=True):
        if isinstance(event, TokenEvent):
            ids.append(event.id)
        elif isinstance(event, AnswerEvent):
            sent = event.answer.bytes_per_link.get("edge-fog", 0)
    return ids, sent, time.perf_counter() - t0


async def _tiny(name: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        return await _family(save_tiny(name, Path(tmp) / name), args)


async def _family(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    family = load(directory)
    graph = family.graph
    prompts = _prompts(family, args.prompts)
    expected, unsplit_s = [], []
    family.reference(prompts[0][1], prompts[0][0], args.max_new_tokens)  # warm-up
    for pixels, question in prompts:
        t0 = time.perf_counter()
        ids = family.reference(question, pixels, args.max_new_tokens)
        unsplit_s.append(time.perf_counter() - t0)
        expected.append(family.until_end(ids))
    images = [encode_image(pixels, "PNG") for pixels, _ in prompts]
    rows: list[dict[str, Any]] = []
    async with embedded_cluster(transport="grpc", model_dir=str(directory),
                                edge_precision=Precision.FP32) as cluster, \
            AsyncClient(cluster.edge_target) as client:
        await _ask(client, images[0], prompts[0][1], "cut-0@fog", args.max_new_tokens)
        for cut, tier, encoding in tqdm(_plans(graph), desc=directory.name, leave=False,
                                        disable=None):
            plan = f"cut-{cut}@{tier}:{encoding}"
            same, sent, seconds = 0, [], []
            for image, (_, question), want in zip(images, prompts, expected, strict=True):
                ids, nbytes, took = await _ask(client, image, question, plan,
                                               args.max_new_tokens)
                same += ids == want
                sent.append(nbytes)
                seconds.append(took)
            boundary = graph.boundary(cut)
            rows.append({
                "cut": cut, "boundary": boundary.name, "shape": list(boundary.shape),
                "lm": tier.value, "encoding": encoding.value,
                "identical": same / len(prompts), "edge_fog_bytes": statistics.median(sent),
                "latency_ms": 1e3 * statistics.median(seconds),
            })
    unsplit_ms = 1e3 * statistics.median(unsplit_s)
    for row in rows:
        row["latency_vs_unsplit"] = row["latency_ms"] / unsplit_ms
    fp32 = [r for r in rows if r["encoding"] in ("image", "png", "fp32")]
    return {
        "model": repr(family), "graph": {"image_size": graph.image_size,
                                         "n_tokens": graph.n_tokens, "depth": graph.depth,
                                         "n_visual": graph.n_visual,
                                         "visual_dim": graph.visual_dim},
        "unsplit_generate_ms": unsplit_ms, "rows": rows,
        "identical": all(r["identical"] == 1.0 for r in fp32),
        "identical_share": {e.value: statistics.mean(float(r["identical"]) for r in rows
                                                     if r["encoding"] == e.value)
                            for e in TENSORS},
    }


def render(result: dict[str, Any]) -> str:
    lines = [f"Hugging Face VLMs split across edge, fog and cloud (loopback gRPC), "
             f"{result['prompts']} prompts x {result['max_new_tokens']} tokens, transformers "
             f"{result['transformers']}; baseline: transformers' generate, unsplit"]
    for name, fam in result["families"].items():
        lines += ["", f"{name}: {fam['model']}   identical at fp32 (every cut, both LM tiers): "
                  f"{fam['identical']}   unsplit generate {fam['unsplit_generate_ms']:.1f} ms",
                  "  identical share: " + ", ".join(
                      f"{k} {v:.2f}" for k, v in fam["identical_share"].items()),
                  f"  {'cut':>3} {'boundary':<8} {'shape':<10} {'lm':<5} {'encoding':<8} "
                  f"{'identical':>9} {'bytes':>8} {'ms':>7} {'x unsplit':>9}"]
        for r in fam["rows"]:
            shape = "x".join(str(d) for d in r["shape"]) or "-"
            lines.append(f"  {r['cut']:>3} {r['boundary']:<8} {shape:<10} {r['lm']:<5} "
                         f"{r['encoding']:<8} {r['identical']:>9.2f} "
                         f"{r['edge_fog_bytes']:>8.0f} {r['latency_ms']:>7.1f} "
                         f"{r['latency_vs_unsplit']:>9.2f}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = result["families"]
    fig, axes = plt.subplots(1, len(families), figsize=(4.5 * len(families), 3.6),
                             squeeze=False)
    for ax, (name, fam) in zip(axes[0], families.items(), strict=True):
        for encoding, marker in (("fp32", "o"), ("fp16", "s"), ("int8", "^")):
            rows = [r for r in fam["rows"] if r["lm"] == "fog"
                    and r["encoding"] in (encoding, "image", "png")]
            ax.plot([r["cut"] for r in rows], [r["edge_fog_bytes"] for r in rows],
                    marker=marker, label=encoding)
            for r in rows:
                if r["identical"] < 1.0:
                    ax.annotate(f"{r['identical']:.2f}", (r["cut"], r["edge_fog_bytes"]),
                                fontsize=7, textcoords="offset points", xytext=(0, 5))
        ax.set_yscale("log")
        ax.set_xlabel("cut")
        ax.set_ylabel("bytes edge -> fog")
        ax.set_title(f"{name} (identical: {fam['identical']})")
        ax.legend(fontsize=7)
    fig.suptitle("Bytes per cut and encoding; labels: share of identical answers where < 1")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

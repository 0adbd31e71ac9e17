"""`splitvlm bench wire`: what each boundary encoding costs in bytes and in accuracy.

For the visual tokens (the cut the LM tiers receive) the cloud LM answers the held-out set
fed through each encoding: encode -> bytes -> decode -> LM. fp32 is the baseline. Bytes at
every other cut are listed too (same codecs), with the image sizes for scale.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import camera_image, encode_image
from splitvlm.data.sets import held_out_set, rng_for
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluate import score
from splitvlm.model import zoo
from splitvlm.runtime.torch_stages import TorchVisual
from splitvlm.wire import decode, encode
from splitvlm.wire.codecs import TENSOR_ENCODINGS


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench wire")
    p.add_argument("--per-type", type=int, default=100, help="held-out questions per type")
    return p.parse_args(extra)


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    tok = Tokenizer()
    visual = TorchVisual(zoo.load_visual(CHECKPOINT_DIR))
    lm = zoo.load_lm("cloud", CHECKPOINT_DIR)
    samples = held_out_set(args.per_type)
    graph = visual.graph
    pixels = np.stack([s.image() for s in samples])  # (B, S, S, 3)
    tokens = visual.run(pixels, graph.patch_embed, graph.prefill)  # (B, N', Dl)
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    result: dict[str, Any] = {"cut": graph.prefill, "n": len(samples), "encodings": {}}
    for encoding in TENSOR_ENCODINGS:
        wires = [encode(tokens[i:i + 1], encoding) for i in range(len(samples))]
        decoded = np.concatenate([decode(w) for w in wires])
        with torch.no_grad():
            ids = lm.generate(torch.from_numpy(decoded), prompts, tok.pad_id, tok.eos_id)
        acc = score(samples, [tok.decode(row) for row in ids])
        applied = sorted({w.encoding.value for w in wires})
        result["encodings"][encoding.value] = {
            "bytes": float(np.mean([w.nbytes for w in wires])),
            "accuracy": acc.overall, "applied": applied,
            "max_abs_error": float(np.abs(decoded - tokens).max()),
        }
    base = result["encodings"]["fp32"]
    for doc in result["encodings"].values():
        doc["bytes_vs_fp32"] = doc["bytes"] / base["bytes"]
        doc["accuracy_delta_pt"] = 100 * (doc["accuracy"] - base["accuracy"])
    result["by_cut"] = _bytes_by_cut(visual, pixels[:32])
    result["images"] = _image_bytes(samples[:32])
    return result


def _bytes_by_cut(visual: TorchVisual, pixels: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    graph = visual.graph
    for cut in graph.tensor_cuts:
        value = visual.run(pixels, graph.patch_embed, cut)
        boundary = graph.boundary(cut)
        out[f"{cut}:{boundary.name}"] = {
            e.value: float(np.mean([encode(value[i:i + 1], e).nbytes for i in range(len(value))]))
            for e in TENSOR_ENCODINGS
        }
    return out


def _image_bytes(samples: list) -> dict[str, float]:  # type: ignore[type-arg]
    rng = rng_for(4, 0)
    return {
        "png_model_resolution": float(np.mean([len(encode_image(s.image(), "PNG"))
                                               for s in samples])),
        "camera_jpeg_512": float(np.mean([len(encode_image(camera_image(s.scene, rng)))
                                          for s in samples])),
    }


def render(result: dict[str, Any]) -> str:
    lines = [f"visual tokens (cut {result['cut']}), cloud LM on {result['n']} held-out questions",
             f"{'encoding':10s} {'bytes':>9s} {'vs fp32':>8s} {'accuracy':>9s} {'Δ pt':>6s}"]
    for name, doc in result["encodings"].items():
        lines.append(f"{name:10s} {doc['bytes']:9.0f} {doc['bytes_vs_fp32']:8.3f} "
                     f"{doc['accuracy']:9.4f} {doc['accuracy_delta_pt']:+6.2f}"
                     + ("" if doc["applied"] == [name] else f"  (sent as {doc['applied']})"))
    lines.append("\nbytes per image at every cut:")
    for cut, doc in result["by_cut"].items():
        lines.append(f"  {cut:10s} " + "  ".join(f"{k}={v:.0f}" for k, v in doc.items()))
    lines.append("images: " + ", ".join(f"{k}={v:.0f} B" for k, v in result["images"].items()))
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["encodings"])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(names, [result["encodings"][n]["bytes"] for n in names])
    for i, n in enumerate(names):
        ax.text(i, result["encodings"][n]["bytes"], f"acc {result['encodings'][n]['accuracy']:.3f}",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("bytes per image (visual tokens)")
    ax.set_title("Boundary encodings: size and cloud-LM accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

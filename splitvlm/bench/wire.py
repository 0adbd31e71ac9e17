"""`splitvlm bench wire`: what each boundary encoding costs in bytes and in accuracy.

For the two boundaries an LM tier may receive compressed — the visual tokens (the last cut)
and the low-rank codes (the `project.down` cut, expanded by the receiver's `project.up`) — the
cloud LM answers the held-out set fed through each tensor codec of the registry
(splitvlm.wire.codecs.CODECS): encode -> bytes -> decode -> (project.up) -> LM. fp32 is the
baseline, in the same run. Bytes at every other cut are listed too (same codecs), with the
image sizes for scale. A codec added to the registry appears here with no change.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from splitvlm.checkpoints import CHECKPOINT_DIR
from splitvlm.data.camera import camera_image, encode_image
from splitvlm.data.sets import Sample, held_out_set, rng_for
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluate import score
from splitvlm.model import zoo
from splitvlm.model.lm import LM
from splitvlm.runtime.torch_stages import TorchVisual
from splitvlm.wire import decode, encode
from splitvlm.wire.codecs import TENSOR_ENCODINGS, Encoding


def _args(extra: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="splitvlm bench wire")
    p.add_argument("--per-type", type=int, default=100, help="held-out questions per type")
    return p.parse_args(extra)


def run(extra: list[str]) -> dict[str, Any]:
    args = _args(extra)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    visual = TorchVisual(zoo.load_visual(CHECKPOINT_DIR))
    lm = zoo.load_lm("cloud", CHECKPOINT_DIR)
    samples = held_out_set(args.per_type)
    graph = visual.graph
    pixels = np.stack([s.image() for s in samples])  # (B, S, S, 3)
    result: dict[str, Any] = {"n": len(samples), "lm": "cloud", "boundaries": {}}
    for cut in (graph.prefill, graph.project_up):  # the visual tokens, the low-rank codes
        value = visual.run(pixels, graph.patch_embed, cut)  # (B, N', Dl) or (B, N', r)
        result["boundaries"][graph.boundary(cut).name] = {
            "cut": cut, "shape": list(graph.boundary(cut).shape),
            "encodings": _encodings(visual, lm, samples, value, cut)}
    result["by_cut"] = _bytes_by_cut(visual, pixels[:32])
    result["images"] = _image_bytes(samples[:32])
    return result


def _encodings(visual: TorchVisual, lm: LM, samples: list[Sample], value: np.ndarray,
               cut: int) -> dict[str, dict[str, Any]]:
    """Every tensor codec at `cut`: mean bytes, the LM's accuracy through it, the error."""
    out: dict[str, dict[str, Any]] = {}
    for encoding in TENSOR_ENCODINGS:
        wires = [encode(value[i:i + 1], encoding) for i in range(len(samples))]
        decoded = np.concatenate([decode(w) for w in wires])
        out[encoding.value] = {
            "bytes": float(np.mean([w.nbytes for w in wires])),
            "accuracy": _accuracy(visual, lm, samples, decoded, cut),
            "applied": sorted({w.encoding.value for w in wires}),
            "max_abs_error": float(np.abs(decoded - value).max()),
        }
    base = out[Encoding.FP32.value]
    for doc in out.values():
        doc["bytes_vs_fp32"] = doc["bytes"] / base["bytes"]
        doc["accuracy_delta_pt"] = 100 * (doc["accuracy"] - base["accuracy"])
    return out


def _accuracy(visual: TorchVisual, lm: LM, samples: list[Sample], decoded: np.ndarray,
              cut: int) -> float:
    tok = Tokenizer()
    tokens = visual.run(decoded, cut, visual.graph.prefill)  # (B, N', Dl)
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    with torch.no_grad():
        ids = lm.generate(torch.from_numpy(tokens), prompts, tok.pad_id, tok.eos_id)
    return score(samples, [tok.decode(row) for row in ids]).overall


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


def _image_bytes(samples: list[Sample]) -> dict[str, float]:
    rng = rng_for(4, 0)
    return {
        "png_model_resolution": float(np.mean([len(encode_image(s.image(), "PNG"))
                                               for s in samples])),
        "camera_jpeg_512": float(np.mean([len(encode_image(camera_image(s.scene, rng)))
                                          for s in samples])),
    }


def render(result: dict[str, Any]) -> str:
    lines = []
    for name, boundary in result["boundaries"].items():
        lines += [f"{name} (cut {boundary['cut']}, {boundary['shape']}), {result['lm']} LM on "
                  f"{result['n']} held-out questions",
                  f"  {'encoding':10s} {'bytes':>9s} {'vs fp32':>8s} {'accuracy':>9s} "
                  f"{'Δ pt':>6s}"]
        for enc, doc in boundary["encodings"].items():
            lines.append(f"  {enc:10s} {doc['bytes']:9.0f} {doc['bytes_vs_fp32']:8.3f} "
                         f"{doc['accuracy']:9.4f} {doc['accuracy_delta_pt']:+6.2f}"
                         + ("" if doc["applied"] == [enc] else f"  (sent as {doc['applied']})"))
    lines.append("\nbytes per image at every cut:")
    for cut, doc in result["by_cut"].items():
        lines.append(f"  {cut:10s} " + "  ".join(f"{k}={v:.0f}" for k, v in doc.items()))
    lines.append("images: " + ", ".join(f"{k}={v:.0f} B" for k, v in result["images"].items()))
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boundaries = result["boundaries"]
    fig, axes = plt.subplots(1, len(boundaries), figsize=(5 * len(boundaries), 3.5))
    for ax, (name, boundary) in zip(np.atleast_1d(axes), boundaries.items(), strict=True):
        encodings = boundary["encodings"]
        names = list(encodings)
        ax.bar(names, [encodings[n]["bytes"] for n in names])
        for i, n in enumerate(names):
            ax.text(i, encodings[n]["bytes"], f"acc {encodings[n]['accuracy']:.3f}",
                    ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("bytes per image")
        ax.set_title(f"{name} (cut {boundary['cut']})")
    fig.suptitle(f"Boundary encodings: size and {result['lm']}-LM accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

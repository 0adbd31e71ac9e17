"""The edge's executors on ONNX Runtime + numpy: visual prefixes and the tiny LM. No torch.

    vis = OrtVisual("model_dir", precision="int8")
    codes = vis.run(pixels, stop_cut=7)                 # (B, 64, 64, 3) uint8 -> (B, 9, 32)
    lm = OrtEdgeLM("model_dir")
    answers = lm.generate(vis.run(pixels, 8), prompts, tok.pad_id, tok.eos_id)

`model_dir` holds what `splitvlm.runtime.export` (and `quantize`) wrote: `manifest.json`,
`visual_prefix_{k}.onnx` (+ `.int8.onnx`), `edge_lm_prefill.onnx`, `edge_lm_decode.onnx`.
Sessions are created lazily, one per graph actually used.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from splitvlm.stages import MAX_ANSWER_TOKENS, StageGraph

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
OPSET = 17
PRECISIONS = ("fp32", "int8")
LM_PREFILL_FILE = "edge_lm_prefill.onnx"
LM_DECODE_FILE = "edge_lm_decode.onnx"
# Batch 1 on a 2-core edge: 1 thread had the best median under load; 2 threads only pay
# (about -18% at int8) when the second core is idle.
DEFAULT_THREADS = 1


class ModelFilesError(RuntimeError):
    """The exported graphs are missing or do not match what was asked for (not recoverable
    without re-running `splitvlm.runtime.export`)."""


def prefix_file(cut: int, precision: str) -> str:
    """File name of the visual prefix graph pixels -> cut `cut` at `precision`."""
    _check_precision(precision)
    return f"visual_prefix_{cut}.onnx" if precision == "fp32" else f"visual_prefix_{cut}.int8.onnx"


def read_manifest(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST_FILE
    if not path.exists():
        raise ModelFilesError(f"no {MANIFEST_FILE} in {model_dir}; export the edge graphs first")
    manifest = dict(json.loads(path.read_text()))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ModelFilesError(
            f"{path} has format {manifest.get('format')!r}; this runtime reads {MANIFEST_FORMAT}"
        )
    return manifest


def session(path: Path, threads: int = DEFAULT_THREADS) -> ort.InferenceSession:
    """A CPU session with `threads` intra-op threads and every graph optimization on."""
    if threads < 1:
        raise ValueError(f"threads={threads} must be >= 1")
    if not path.exists():
        raise ModelFilesError(f"missing graph {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OrtVisual:
    """The visual side's prefixes: pixels (B, S, S, 3) uint8 -> the boundary at a cut."""

    def __init__(
        self, model_dir: str | Path, precision: str = "fp32", threads: int = DEFAULT_THREADS
    ) -> None:
        _check_precision(precision)
        if threads < 1:
            raise ValueError(f"threads={threads} must be >= 1")
        self.model_dir, self.precision, self.threads = Path(model_dir), precision, threads
        section = _section(read_manifest(model_dir), "visual", model_dir)
        self.graph = (StageGraph(**section["graph"]) if "graph" in section
                      else StageGraph.from_visual_config(section["config"]))
        self.version: str | None = section["version"]
        self._files = {int(p["cut"]): p["files"] for p in section["prefixes"]}
        self._sessions: dict[int, ort.InferenceSession] = {}

    def session(self, cut: int) -> ort.InferenceSession:
        """The session for the prefix ending at `cut`, created on first use."""
        if cut not in self._sessions:
            files = self._files.get(cut)
            if files is None:
                raise ValueError(f"cut={cut} has no prefix graph; cuts are {sorted(self._files)}")
            if self.precision not in files:
                raise ModelFilesError(
                    f"no {self.precision} graph for cut {cut} in {self.model_dir}; "
                    "run splitvlm.runtime.quantize.quantize_visual"
                )
            path = self.model_dir / files[self.precision]["file"]
            self._sessions[cut] = session(path, self.threads)
        return self._sessions[cut]

    def run(self, pixels: np.ndarray, stop_cut: int) -> np.ndarray:
        """pixels (B, S, S, 3) uint8 -> the boundary at `stop_cut` (batch first), float32."""
        s = self.graph.image_size
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[1:] != (s, s, 3):
            raise ValueError(
                f"pixels must be (B, {s}, {s}, 3) uint8, got {pixels.shape} {pixels.dtype}"
            )
        if stop_cut == self.graph.patch_embed:
            return pixels
        sess = self.session(stop_cut)
        (out,) = sess.run(None, {"pixels": np.ascontiguousarray(pixels)})
        return np.asarray(out)


class OrtEdgeLM:
    """The edge's tiny LM: visual tokens + prompts -> greedy answer ids, row by row at batch 1.

    Computes what `LM.generate` computes: an unpadded row is what a padded batch row computes.
    """

    def __init__(self, model_dir: str | Path, threads: int = DEFAULT_THREADS) -> None:
        section = _section(read_manifest(model_dir), "edge_lm", model_dir)
        cfg = section["config"]
        self.n_visual, self.visual_dim = int(cfg["n_visual"]), int(cfg["visual_dim"])
        self.max_len = int(cfg["max_len"])
        self.version: str | None = section["version"]
        self._prefill, self._decode = (
            session(Path(model_dir) / section[graph]["files"]["fp32"]["file"], threads)
            for graph in ("prefill", "decode")
        )

    def generate(
        self, visual: np.ndarray, prompts: list[list[int]], pad_id: int, eos_id: int,
        max_new_tokens: int = MAX_ANSWER_TOKENS,
    ) -> list[list[int]]:
        """visual (B, Nv, Dl) float32; prompts: question ids + <ans> per row. `pad_id` is
        unused (rows run unpadded) and kept for the signature of `LM.generate`."""
        return [ids for ids, _ in self.generate_scored(visual, prompts, pad_id, eos_id,
                                                        max_new_tokens)]

    def generate_scored(
        self, visual: np.ndarray, prompts: list[list[int]], pad_id: int, eos_id: int,
        max_new_tokens: int = MAX_ANSWER_TOKENS,
    ) -> list[tuple[list[int], float]]:
        """As `generate`, each answer with its confidence (`LM.generate_scored`)."""
        del pad_id
        if visual.ndim != 3 or visual.shape[1:] != (self.n_visual, self.visual_dim):
            raise ValueError(
                f"visual must be (B, {self.n_visual}, {self.visual_dim}), got {visual.shape}"
            )
        if len(prompts) != visual.shape[0]:
            raise ValueError(f"{len(prompts)} prompts for {visual.shape[0]} visual rows")
        return [
            self._generate_row(visual[row:row + 1], prompt, eos_id, max_new_tokens)
            for row, prompt in enumerate(prompts)
        ]

    def _generate_row(
        self, visual: np.ndarray, prompt: list[int], eos_id: int, max_new_tokens: int
    ) -> tuple[list[int], float]:
        length = self.n_visual + len(prompt) + max_new_tokens - 1  # positions used
        if not prompt or length > self.max_len:
            raise ValueError(
                f"prompt of {len(prompt)} ids + {max_new_tokens} new tokens needs {length} "
                f"positions; the LM has 1..{self.max_len}"
            )
        logits, keys, values = self._prefill.run(None, {
            "visual": np.ascontiguousarray(visual, dtype=np.float32),  # (1, Nv, Dl)
            "ids": np.asarray([prompt], dtype=np.int64),  # (1, T)
        })
        position = self.n_visual + len(prompt) - 1
        out: list[int] = []
        log_p = 0.0
        for step in range(max_new_tokens):
            token = int(np.argmax(logits[0]))  # first maximum, as torch.argmax
            out.append(token)
            log_p += _log_softmax_at(logits[0], token)
            if token == eos_id or step == max_new_tokens - 1:
                break
            position += 1
            logits, keys, values = self._decode.run(None, {
                "token": np.array([[token]], dtype=np.int64),
                "position": np.array([[position]], dtype=np.int64),
                "past_keys": keys, "past_values": values,  # (L, 1, H, P, hd)
            })
        return out, math.exp(log_p)


def _log_softmax_at(logits: np.ndarray, index: int) -> float:
    """log softmax(logits)[index] for one row of logits (V,)."""
    z = logits.astype(np.float64)
    top = float(z.max())
    return float(z[index] - top - math.log(np.exp(z - top).sum()))


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; expected one of {PRECISIONS}")


def _section(manifest: dict[str, Any], key: str, model_dir: str | Path) -> dict[str, Any]:
    if key not in manifest:
        raise ModelFilesError(f"{model_dir}/{MANIFEST_FILE} has no {key!r} graphs; export them")
    return dict(manifest[key])

"""Boundary sizes of a Hugging Face VLM at every cut, from its config alone (no weights).

    splitvlm hf shapes DIR          a directory with config.json (+ the processor's config)
    splitvlm hf shapes --published  the checkpoints below, from the values their configs
                                    publish (transcribed in PUBLISHED)

What crosses a link at cut k is the boundary's tensor in an encoding; the bytes are the
codecs' own arithmetic (splitvlm.wire.codecs), so this table is what the cost model charges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splitvlm.stages import StageGraph
from splitvlm.wire.codecs import Encoding, encoded_sizes

ENCODINGS = (Encoding.FP32, Encoding.FP16, Encoding.INT8)

# Config values as the hub checkpoints publish them (config.json), enough to build the
# transformers config of each: the vision tower, the connector, the LM width.
PUBLISHED: dict[str, dict[str, Any]] = {
    "HuggingFaceTB/SmolVLM-256M-Instruct": {
        "model_type": "idefics3", "scale_factor": 4,
        "vision_config": {"model_type": "idefics3_vision", "hidden_size": 768,
                          "num_hidden_layers": 12, "patch_size": 16, "image_size": 512},
        "text_config": {"model_type": "llama", "hidden_size": 576}},
    "HuggingFaceTB/SmolVLM-500M-Instruct": {
        "model_type": "idefics3", "scale_factor": 4,
        "vision_config": {"model_type": "idefics3_vision", "hidden_size": 768,
                          "num_hidden_layers": 12, "patch_size": 16, "image_size": 512},
        "text_config": {"model_type": "llama", "hidden_size": 960}},
    "llava-hf/llava-1.5-7b-hf": {
        "model_type": "llava", "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": 1024,
                          "num_attention_heads": 16, "num_hidden_layers": 24,
                          "patch_size": 14, "image_size": 336},
        "text_config": {"model_type": "llama", "hidden_size": 4096}},
    "Qwen/Qwen2-VL-2B-Instruct": {
        "model_type": "qwen2_vl",
        "vision_config": {"embed_dim": 1280, "depth": 32, "num_heads": 16, "patch_size": 14,
                          "spatial_merge_size": 2, "hidden_size": 1536},
        "text_config": {"hidden_size": 1536, "num_attention_heads": 12,
                        "num_key_value_heads": 2}},
}


def config_of(values: dict[str, Any]) -> Any:
    """A transformers config object from published values (nothing downloaded)."""
    from transformers import AutoConfig

    values = dict(values)
    return AutoConfig.for_model(values.pop("model_type"), **values)


def graph_of(config: Any, image_processor: Any | None = None) -> StageGraph:
    """The stage graph of a config, at the side its adapter serves it (with the processor's
    bounds where one is given)."""
    from splitvlm.model.hf import adapter_for

    adapter = adapter_for(config)
    return adapter.graph_for(config, adapter.image_size_for(config, image_processor))


def table(graph: StageGraph) -> list[dict[str, Any]]:
    """One row per tensor cut (and the pixels): boundary, shape, bytes per encoding."""
    rows = [{"cut": graph.patch_embed, "boundary": "pixels",
             "shape": list(graph.boundary(graph.patch_embed).shape),
             "bytes": {"uint8": graph.boundary(graph.patch_embed).nbytes()}}]
    names = [s.name for s in graph.stages]
    for cut in graph.tensor_cuts:
        boundary = graph.boundary(cut)
        rows.append({"cut": cut, "after": names[cut - 1], "boundary": boundary.name,
                     "shape": list(boundary.shape),
                     "bytes": encoded_sizes(boundary.shape, ENCODINGS)})
    return rows


def shapes_of_directory(directory: Path) -> tuple[StageGraph, list[dict[str, Any]]]:
    """A saved model's config (and its processor's, for the served side): no weights read."""
    from transformers import AutoConfig, AutoImageProcessor

    graph = graph_of(AutoConfig.from_pretrained(directory, local_files_only=True),
                     AutoImageProcessor.from_pretrained(directory, local_files_only=True))
    return graph, table(graph)


def render(name: str, graph: StageGraph, rows: list[dict[str, Any]]) -> str:
    lines = [f"{name}: S={graph.image_size}, {graph.n_tokens} x {graph.vision_dim} tokens, "
             f"{graph.depth} blocks, visual {graph.n_visual} x {graph.visual_dim}",
             f"  {'cut':>3} {'after':<13} {'boundary':<8} {'shape':<12} "
             + " ".join(f"{e.value:>10}" for e in ENCODINGS)]
    for row in rows:
        shape = "x".join(str(d) for d in row["shape"])
        sizes = (" ".join(f"{row['bytes'][e.value]:>10,}" for e in ENCODINGS)
                 if "fp32" in row["bytes"] else f"{row['bytes']['uint8']:>10,} (uint8)")
        lines.append(f"  {row['cut']:>3} {row.get('after', 'preprocess'):<13} "
                     f"{row['boundary']:<8} {shape:<12} {sizes}")
    return "\n".join(lines)

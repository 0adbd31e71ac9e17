"""Boundary sizes from a config alone: the published checkpoints' graphs, and a saved
model's directory without its weights giving the graph its loaded model has."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from splitvlm.model.hf import load
from splitvlm.model.hf.shapes import PUBLISHED, config_of, graph_of, shapes_of_directory, table


@pytest.mark.parametrize(("name", "tokens", "depth", "visual"), [
    ("HuggingFaceTB/SmolVLM-256M-Instruct", (1024, 768), 12, (64, 576)),  # 4x4 pixel shuffle
    ("llava-hf/llava-1.5-7b-hf", (577, 1024), 23, (576, 4096)),  # CLS dropped, layer -2
    ("Qwen/Qwen2-VL-2B-Instruct", (1024, 1280), 32, (256, 1536)),  # 448 px, 2x2 merge
])
def test_published_graphs(name: str, tokens: tuple[int, int], depth: int,
                          visual: tuple[int, int]) -> None:
    graph = graph_of(config_of(PUBLISHED[name]))
    assert (graph.n_tokens, graph.vision_dim) == tokens
    assert graph.depth == depth
    assert graph.boundary(graph.prefill).shape == visual
    rows = table(graph)
    assert rows[-1]["bytes"]["fp32"] == 4 * visual[0] * visual[1]
    assert rows[-1]["bytes"]["int8"] == visual[0] * visual[1] + 4 * visual[0]  # + row scales


def test_a_directory_without_weights_has_the_loaded_models_graph(
        tiny_dir: Callable[[str], Path], tmp_path: Path) -> None:
    source = tiny_dir("qwen2_vl")
    for path in source.iterdir():
        if path.is_file() and not path.name.endswith(".safetensors"):
            shutil.copy(path, tmp_path / path.name)
    graph, rows = shapes_of_directory(tmp_path)
    assert graph == load(source).graph
    assert [r["cut"] for r in rows] == [graph.patch_embed, *graph.tensor_cuts]

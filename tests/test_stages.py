"""The stage graph: any cut, prefix then suffix, answers as the unsplit model does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.sets import held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.runtime.torch_stages import TorchVisual
from splitvlm.stages import STAGE_SPECS, BoundaryKind, StageGraph

N_QUESTIONS = 54  # six of each type


@pytest.fixture(scope="module")
def setup(checkpoints: Path) -> tuple[TorchVisual, torch.nn.Module, np.ndarray, list[list[int]]]:
    torch.set_num_threads(1)
    tok = Tokenizer()
    samples = held_out_set(per_type=6)[:N_QUESTIONS]
    pixels = np.stack([s.image() for s in samples])  # (B, 64, 64, 3)
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    return (TorchVisual(zoo.load_visual(checkpoints)), zoo.load_lm("cloud", checkpoints), pixels,
            prompts)


def test_every_cut_gives_the_unsplit_tokens(setup) -> None:  # type: ignore[no-untyped-def]
    visual, lm, pixels, prompts = setup
    tok = Tokenizer()
    graph = visual.graph
    with torch.no_grad():
        whole = visual.model(torch.from_numpy(pixels))
        expected = lm.generate(whole, prompts, tok.pad_id, tok.eos_id)
        for cut in range(graph.patch_embed, graph.prefill + 1):
            boundary = visual.run(pixels, graph.patch_embed, cut)  # the prefix a tier sends
            assert boundary.shape[1:] == graph.boundary(cut).shape
            tokens = visual.run(boundary, cut, graph.prefill)  # the receiver's suffix
            got = lm.generate(torch.from_numpy(tokens), prompts, tok.pad_id, tok.eos_id)
            assert got == expected, f"cut {cut} ({graph.boundary(cut).name}) changed the answers"


def test_graph_names_stages_and_boundaries() -> None:
    graph = StageGraph(image_size=64, n_tokens=64, vision_dim=128, depth=4, n_visual=9,
                       code_dim=32, visual_dim=128)
    assert [s.name for s in graph.stages] == [
        "preprocess", "patch_embed", "vision[0]", "vision[1]", "vision[2]", "vision[3]",
        "project.down", "project.up", "prefill", "decode"]
    assert graph.index("vision[2]") == 4 and graph.prefill == 8
    assert graph.boundary(0).name == "image" and graph.boundary(1).shape == (64, 64, 3)
    assert graph.boundary(7).shape == (9, 32)  # the low-rank codes
    assert graph.boundary(8).nbytes() == 9 * 128 * 4
    assert graph.boundary(1).nbytes() == 64 * 64 * 3  # uint8 pixels
    with pytest.raises(ValueError, match="unknown stage"):
        graph.index("vision[9]")
    with pytest.raises(ValueError, match="cut=9"):
        graph.boundary(9)


def test_every_index_is_read_off_the_stage_specs() -> None:
    graph = StageGraph(image_size=64, n_tokens=64, vision_dim=128, depth=3, n_visual=9,
                       code_dim=32, visual_dim=128)
    kinds = [s.kind for s in graph.stages]
    assert kinds == [spec.kind for spec in STAGE_SPECS for _ in
                     range(graph.depth if spec.repeated else 1)]
    assert (graph.preprocess, graph.patch_embed, graph.project_up, graph.prefill,
            graph.decode) == (0, 1, 6, 7, 8)
    assert [graph.block_cut(k) for k in range(4)] == [2, 3, 4, 5]
    assert list(graph.tensor_cuts) == [2, 3, 4, 5, 6, 7]
    assert list(graph.visual_stages) == [1, 2, 3, 4, 5, 6]
    assert list(graph.lm_stages) == [7, 8]
    assert [graph.boundary(c).kind for c in graph.cuts] == [
        BoundaryKind.IMAGE, BoundaryKind.PIXELS, *[BoundaryKind.TOKENS] * 4,
        BoundaryKind.CODES, BoundaryKind.VISUAL]
    assert all(graph.boundary(c).is_tensor for c in graph.tensor_cuts)
    with pytest.raises(ValueError, match="blocks=4"):
        graph.block_cut(4)

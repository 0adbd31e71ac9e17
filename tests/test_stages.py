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
from splitvlm.stages import StageGraph

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
        for cut in range(1, graph.prefill + 1):
            boundary = visual.run(pixels, 1, cut)  # the prefix a tier would send
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

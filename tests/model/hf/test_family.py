"""Each adapted family, called stage by stage, is the model `transformers` runs: the pixels
are its processor's, the visual tokens its `get_image_features`, the answer its `generate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.errors import BadRequest, ConfigError
from splitvlm.model.hf import adapter_for, load
from splitvlm.model.hf.family import Family
from splitvlm.model.hf.qwen2_vl import Qwen2VL
from splitvlm.model.hf.tiny import TINY
from splitvlm.runtime.hf_stages import HFVisual

QUESTIONS = ("w5 w7 w9 ?", "w100 w3 .")


def _pixels(family: Family, seed: int = 0) -> np.ndarray:
    s = family.image_size
    return np.random.default_rng(seed).integers(0, 256, (1, s, s, 3), dtype=np.uint8)


@pytest.fixture(scope="module", params=TINY)
def family(request: pytest.FixtureRequest, tiny_dir: Callable[[str], Path]) -> Family:
    return load(tiny_dir(request.param))


def test_pixel_values_are_the_processors_bit_for_bit(family: Family) -> None:
    pixels = _pixels(family)
    ours = (family.patches(torch.from_numpy(pixels)) if isinstance(family, Qwen2VL)
            else family.pixel_values(torch.from_numpy(pixels)))
    theirs = family.inputs("w1", pixels[0])["pixel_values"]
    assert torch.equal(ours.reshape(theirs.shape), theirs)


def test_stages_make_the_models_own_visual_tokens(family: Family) -> None:
    pixels = _pixels(family, 1)
    staged = HFVisual(family).run(pixels, family.graph.patch_embed, family.graph.prefill)
    expected = family.image_features(pixels).numpy()
    assert staged.shape == (1, family.graph.n_visual, family.graph.visual_dim)
    np.testing.assert_array_equal(staged, expected)


def test_every_boundary_has_the_graphs_shape(family: Family) -> None:
    runner, graph = HFVisual(family), family.graph
    value = _pixels(family)
    for cut in graph.tensor_cuts:
        value = runner.run(value, cut - 1 if cut > graph.patch_embed + 1 else graph.patch_embed,
                           cut)
        assert value.shape == (1, *graph.boundary(cut).shape), cut


@pytest.mark.parametrize("question", QUESTIONS)
def test_lm_on_inputs_embeds_answers_as_generate(family: Family, question: str) -> None:
    pixels = _pixels(family, 2)
    visual = HFVisual(family).run(pixels, family.graph.patch_embed, family.graph.prefill)
    ours = family.generate(visual, family.prompt(question), 12)
    assert ours == family.reference(question, pixels[0], 12)
    assert len(ours) >= 1


def test_visual_tokens_that_do_not_fit_the_prompt_are_refused(family: Family) -> None:
    wrong = np.zeros((1, family.graph.n_visual + 1, family.graph.visual_dim), np.float32)
    with pytest.raises(BadRequest, match="image tokens"):
        family.generate(wrong, family.prompt("w1"), 4)


def test_an_unadapted_model_type_is_named(family: Family) -> None:
    class Config:
        model_type = "blip-2"

    with pytest.raises(ConfigError, match="blip-2.*adapted"):
        adapter_for(Config())


def test_a_directory_without_a_model_is_refused(tmp_path: Path,
                                                 tiny_dir: Callable[[str], Path]) -> None:
    with pytest.raises(FileNotFoundError, match="config.json"):
        load(tmp_path)
    for path in tiny_dir("llava").iterdir():  # a config without weights or processor files
        if path.name == "config.json":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ConfigError, match=f"cannot load the model in {tmp_path}"):
        load(tmp_path)

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualSide
from splitvlm.runtime.ort import LM_DECODE_FILE, LM_PREFILL_FILE, OrtVisual, session
from splitvlm.runtime.torch_stages import TorchVisual

CUTS = range(2, 9)  # default config: tokens 2..6, codes 7, visual 8


def test_manifest_lists_every_graph(model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    visual = manifest["visual"]
    assert visual["version"] == "v-test"
    assert [p["cut"] for p in visual["prefixes"]] == list(CUTS)
    outputs = {p["cut"]: (p["output"], p["shape"]) for p in visual["prefixes"]}
    assert outputs[2] == ("tokens", ["batch", 64, 128])
    assert outputs[7] == ("codes", ["batch", 9, 32])
    assert outputs[8] == ("visual", ["batch", 9, 128])
    for prefix in visual["prefixes"]:
        for entry in prefix["files"].values():
            assert (model_dir / entry["file"]).stat().st_size == entry["bytes"]
    lm = manifest["edge_lm"]
    assert lm["prefill"]["files"]["fp32"]["file"] == LM_PREFILL_FILE
    assert lm["decode"]["files"]["fp32"]["file"] == LM_DECODE_FILE
    assert lm["config"]["depth"] == 2 and lm["version"] == "lm-test"


@pytest.mark.parametrize("cut", CUTS)
def test_prefix_matches_torch(
    model_dir: Path, visual_side: VisualSide, pixels: np.ndarray, cut: int
) -> None:
    expected = TorchVisual(visual_side).run(pixels, 1, cut)
    got = OrtVisual(model_dir).run(pixels, cut)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.abs(got - expected).max() < 1e-4


def test_prefix_batch_is_dynamic(model_dir: Path, visual_side: VisualSide,
                                 pixels: np.ndarray) -> None:
    vis = OrtVisual(model_dir)
    one = vis.run(pixels[:1], 8)
    assert one.shape == (1, 9, 128)
    np.testing.assert_allclose(one[0], vis.run(pixels[:3], 8)[0], atol=1e-5)


def test_lm_graphs_match_torch_forward(model_dir: Path, edge_lm: LM) -> None:
    visual = np.random.default_rng(0).standard_normal((1, 9, 128)).astype(np.float32)
    ids = np.array([[4, 5, 6, 1]], dtype=np.int64)  # (1, T)
    logits, keys, values = session(model_dir / LM_PREFILL_FILE).run(
        None, {"visual": visual, "ids": ids})
    with torch.no_grad():
        h = torch.cat([edge_lm.embed_visual(torch.from_numpy(visual)),
                       edge_lm.tok_emb(torch.from_numpy(ids))], dim=1)
        ref_logits, (ref_k, ref_v) = edge_lm(h, torch.arange(13)[None])
    assert keys.shape == (2, 1, 2, 13, 32)
    np.testing.assert_allclose(logits, ref_logits[:, -1].numpy(), atol=1e-5)
    np.testing.assert_allclose(keys, ref_k.numpy(), atol=1e-5)
    step_logits, keys2, _ = session(model_dir / LM_DECODE_FILE).run(None, {
        "token": np.array([[7]]), "position": np.array([[13]]),
        "past_keys": keys, "past_values": values})
    with torch.no_grad():
        ref_step, _ = edge_lm(edge_lm.tok_emb(torch.tensor([[7]])), torch.tensor([[13]]),
                              (ref_k, ref_v))
    assert keys2.shape == (2, 1, 2, 14, 32)
    np.testing.assert_allclose(step_logits, ref_step[:, -1].numpy(), atol=1e-5)

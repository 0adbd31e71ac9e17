"""The LM's greedy decoding, as minGPT's test holds a model to its reference: with the KV
cache, batched and left-padded, it gives exactly the tokens of recomputing the whole sequence
for every new token, one question at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from splitvlm.data.sets import held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.model.lm import LM
from splitvlm.stages import MAX_ANSWER_TOKENS


def _uncached(lm: LM, visual: torch.Tensor, prompt: list[int], eos_id: int) -> list[int]:
    """Greedy decoding the slow way: the whole sequence again for every token."""
    ids = list(prompt)
    answer: list[int] = []
    for _ in range(MAX_ANSWER_TOKENS):
        logits = lm.sequence_logits(visual, torch.tensor([ids]))  # (1, Nv + T, V)
        token = int(logits[0, -1].argmax())
        answer.append(token)
        if token == eos_id:
            break
        ids.append(token)
    return answer


@pytest.mark.parametrize("tier", ["edge", "fog"])
def test_cached_batched_decoding_equals_recomputing_every_step(checkpoints: Path,
                                                               tier: str) -> None:
    torch.set_num_threads(1)
    tok, lm = Tokenizer(), zoo.load_lm(tier, checkpoints).eval()
    visual_side = zoo.load_visual(checkpoints).eval()
    samples = [s for s in held_out_set(per_type=1) if s.qa.qtype in ("caption", "relate",
                                                                       "count", "where")]
    pixels = torch.from_numpy(np.stack([s.image() for s in samples]))  # (B, S, S, 3)
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    assert len({len(p) for p in prompts}) > 1  # left padding is exercised
    with torch.no_grad():
        visual = visual_side(pixels)  # (B, Nv, Dl)
        batched = lm.generate(visual, prompts, tok.pad_id, tok.eos_id)
        for row, prompt in enumerate(prompts):
            alone = lm.generate(visual[row:row + 1], [prompt], tok.pad_id, tok.eos_id)[0]
            slow = _uncached(lm, visual[row:row + 1], prompt, tok.eos_id)
            assert batched[row] == alone == slow, samples[row].qa.question

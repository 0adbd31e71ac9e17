"""A Hugging Face tokenizer's answer streamed piece by piece joins to what it decodes, with
spaces, multi-byte characters split across tokens, and special tokens (streamed as "")."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from splitvlm.errors import QuestionError
from splitvlm.runtime.hf_stages import HFText

TEXT = "Ein rotes Dreieck, ein grünes Quadrat: 🚲 über der Straße."


def _byte_level_tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["ein rotes dreieck", "ein blaues quadrat"], trainers.BpeTrainer(
        vocab_size=300, special_tokens=["</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>")


def _metaspace_tokenizer() -> Any:
    """SentencePiece's way (Llama, Mistral): "▁" marks a word's start, and decoding drops the
    text's first one, so a token's spelling depends on where the decoded window starts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(["ein rotes dreieck", "ein blaues quadrat"], trainers.BpeTrainer(
        vocab_size=300, special_tokens=["</s>"], initial_alphabet=sorted(set(TEXT))))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>")


def _text(make: Callable[[], Any] = _byte_level_tokenizer) -> HFText:
    tokenizer = make()
    family = SimpleNamespace(processor=SimpleNamespace(tokenizer=tokenizer),
                             eos_ids=frozenset({tokenizer.eos_token_id}))
    return HFText(family)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [_byte_level_tokenizer, _metaspace_tokenizer])
def test_pieces_join_to_the_decoded_answer(make: Callable[[], Any]) -> None:
    text = _text(make)
    ids = text.tokenizer.encode(TEXT) + [text.tokenizer.eos_token_id]
    speller = text.speller()
    pieces = [speller.piece(t) for t in ids]
    if make is _byte_level_tokenizer:  # the bicycle's bytes span tokens: a piece waits
        assert "" in pieces
    assert text.join(pieces) == text.tokenizer.decode(ids, skip_special_tokens=True).strip()
    assert text.join(pieces) == TEXT
    assert text.is_end(ids[-1]) and not text.is_end(ids[0])


@pytest.mark.parametrize("question", ["", "   \n"])
def test_an_empty_question_is_refused(question: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        _text().check(question)


def test_free_text_is_kept_as_typed() -> None:
    assert _text().check("  What is on the LEFT?  ") == "What is on the LEFT?"

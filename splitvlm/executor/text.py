"""How a tier's LM reads a question and spells its answer: the text codec of its model family.

    text.check("What colour is it?")   -> the question as the model takes it (QuestionError)
    text.prompt(question)              -> the LM's prompt ids (visual tokens go in front or,
                                          for a Hugging Face VLM, at its image tokens)
    spell = text.speller()             -> spell.piece(token): the streamed text of one answer
                                          token (None: a marker); text.join(pieces) the answer

`ShapesText` is the shipped family's closed vocabulary (words joined by spaces); a Hugging Face
VLM brings its tokenizer and chat template (splitvlm.runtime.hf_stages.HFText).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from splitvlm.data.tokenizer import Tokenizer, normalize
from splitvlm.errors import QuestionError


class Speller(Protocol):
    def piece(self, token: int) -> str | None:
        """The text this answer token adds (None: it adds none, a marker)."""
        ...


class TextCodec(Protocol):
    def check(self, question: str) -> str:
        """The question as this model takes it; QuestionError saying what is wrong."""
        ...

    def prompt(self, question: str) -> list[int]:
        """A checked question -> the LM's prompt ids."""
        ...

    def is_end(self, token: int) -> bool:
        """Whether `token` ends the answer (it is not streamed)."""
        ...

    def speller(self) -> Speller:
        """A fresh speller for one answer (a tokenizer may spell a token by its context)."""
        ...

    def join(self, pieces: Sequence[str]) -> str:
        """The answer's text from its streamed pieces."""
        ...


class _WordSpeller:
    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def piece(self, token: int) -> str | None:
        if token in (self.tokenizer.pad_id, self.tokenizer.ans_id):
            return None
        return self.tokenizer.words[token]


class ShapesText:
    """shapes-vqa v1: normalised words of a fixed vocabulary; the prompt ends with <ans>."""

    def __init__(self) -> None:
        self.tokenizer = Tokenizer()

    def check(self, question: str) -> str:
        text = normalize(question)
        if not text:
            raise QuestionError("question is empty; ask something about the image")
        self.tokenizer.encode(text)  # QuestionError names unknown words
        return text

    def prompt(self, question: str) -> list[int]:
        return self.tokenizer.encode(question) + [self.tokenizer.ans_id]

    def is_end(self, token: int) -> bool:
        return token == self.tokenizer.eos_id

    def speller(self) -> Speller:
        return _WordSpeller(self.tokenizer)

    def join(self, pieces: Sequence[str]) -> str:
        return " ".join(pieces)

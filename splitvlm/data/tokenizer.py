"""The word tokenizer of shapes-vqa v1: lower-case words split on single spaces, `?` a token.

    Tokenizer().encode("How many circles are there?")   # normalised first: "how many circles
                                                        # are there ?"
Questions are normalised the way people type them before the vocabulary check (`normalize`):
lower case, `?` split off the word before it, a trailing `.` or `!` dropped, runs of white space
collapsed. The vocabulary and the grammar are in docs/questions.md; an unknown word is a
QuestionError that names it and points there.

Pure Python (no torch), so the edge can tokenize for its ONNX language model.
"""

from __future__ import annotations

from splitvlm.data.questions import NUMBERS, RELATIONS
from splitvlm.data.scenes import CELL_NAMES, COLOR_NAMES, SHAPES, SIZE_NAMES
from splitvlm.errors import QuestionError

PAD, ANS, EOS = "<pad>", "<ans>", "<eos>"
VOCABULARY_DOC = "docs/questions.md"
SPECIALS = (PAD, ANS, EOS)
_FUNCTION_WORDS = (
    "what", "color", "is", "the", "?", "shape", "object", "objects", "where", "size", "how",
    "many", "are", "there", "is", "a", "and", "describe", "image", "yes", "no", "nothing",
    "more", "than", "of",
)


def _vocabulary() -> tuple[str, ...]:
    words: list[str] = list(SPECIALS) + list(_FUNCTION_WORDS)
    words += list(SHAPES) + [s + "s" for s in SHAPES] + list(COLOR_NAMES) + list(SIZE_NAMES)
    words += list(NUMBERS)
    for phrase in list(CELL_NAMES) + list(RELATIONS):
        words += phrase.split(" ")
    return tuple(dict.fromkeys(words))  # de-duplicated, order kept


def normalize(text: str) -> str:
    """A question as typed -> the tokenizer's form: 'Is there a red circle?' -> 'is there a
    red circle ?'; 'describe the image.' -> 'describe the image'."""
    text = text.lower().replace("?", " ? ").strip()
    text = text.rstrip(".! \t\n")
    return " ".join(text.split())


class Tokenizer:
    """Maps words to ids and back. Unknown words raise ValueError naming the word."""

    def __init__(self) -> None:
        self.words = _vocabulary()
        self.ids = {w: i for i, w in enumerate(self.words)}
        self.pad_id, self.ans_id, self.eos_id = (self.ids[w] for w in SPECIALS)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        """Ids of the normalised text's words; QuestionError naming any unknown word."""
        words = normalize(text).split()
        unknown = [w for w in words if w not in self.ids or w in SPECIALS]
        if unknown:
            raise QuestionError(
                f"unknown word(s) {unknown} in {text!r}: shapes-vqa v1 knows "
                f"{len(self) - len(SPECIALS)} words "
                f"and a fixed grammar ({VOCABULARY_DOC})"
            )
        return [self.ids[w] for w in words]

    def decode(self, ids: list[int]) -> str:
        out = []
        for i in ids:
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.ans_id):
                out.append(self.words[i])
        return " ".join(out)

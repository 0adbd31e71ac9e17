"""Question and answer text: spec token format, vocabulary, and the tokenizer round trip."""

from __future__ import annotations

import re

import pytest

from splitvlm.data import Sample, Tokenizer

from . import spec

TOKENS = re.compile(r"(?:[a-z]+|\?)(?: (?:[a-z]+|\?))*")  # lower-case words, one space, "?"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def _texts(samples: dict[str, list[Sample]]) -> list[str]:
    return [t for group in samples.values() for s in group for t in (s.qa.question, s.qa.answer)]


def test_texts_are_lower_case_words_split_by_single_spaces(
    samples: dict[str, list[Sample]],
) -> None:
    for text in _texts(samples):
        assert TOKENS.fullmatch(text), repr(text)


def test_questions_end_with_a_separate_question_mark(samples: dict[str, list[Sample]]) -> None:
    for group in samples.values():
        for s in group:
            words = s.qa.question.split(" ")
            assert "?" not in "".join(words[:-1])
            assert words[-1] == ("image" if s.qa.qtype == "caption" else "?")


def test_every_word_is_a_spec_word_in_the_vocabulary(
    samples: dict[str, list[Sample]], tokenizer: Tokenizer
) -> None:
    used = {w for text in _texts(samples) for w in text.split(" ")}
    assert used <= spec.spec_words()
    assert spec.spec_words() <= set(tokenizer.words)


def test_encode_decode_round_trip(
    samples: dict[str, list[Sample]], tokenizer: Tokenizer
) -> None:
    for text in _texts(samples):
        ids = tokenizer.encode(text)
        assert len(ids) == len(text.split(" "))
        assert all(0 <= i < len(tokenizer) for i in ids)
        assert tokenizer.decode(ids) == text
        assert tokenizer.decode(ids + [tokenizer.eos_id, ids[0]]) == text  # stops at <eos>


def test_vocabulary_ids_are_unique(tokenizer: Tokenizer) -> None:
    assert len(set(tokenizer.words)) == len(tokenizer)
    assert len({tokenizer.pad_id, tokenizer.ans_id, tokenizer.eos_id}) == 3


@pytest.mark.parametrize("word", ["colour", "circles!", "dog"])
def test_unknown_word_raises_value_error_naming_it(tokenizer: Tokenizer, word: str) -> None:
    with pytest.raises(ValueError, match=re.escape(word)):
        tokenizer.encode(f"what {word} is the circle ?")


@pytest.mark.parametrize(("typed", "canonical"), [
    ("How many circles are there?", "how many circles are there ?"),
    ("describe the image.", "describe the image"),
    ("  Is there a RED circle ?  ", "is there a red circle ?"),
    ("what is left of the blue square?!", "what is left of the blue square ?"),
])
def test_questions_are_normalised_as_people_type_them(typed: str, canonical: str) -> None:
    from splitvlm.data.tokenizer import Tokenizer, normalize

    assert normalize(typed) == canonical
    tok = Tokenizer()
    assert tok.encode(typed) == tok.encode(canonical)


def test_an_unknown_word_names_it_and_points_at_the_vocabulary() -> None:
    from splitvlm.data.tokenizer import VOCABULARY_DOC, Tokenizer
    from splitvlm.errors import QuestionError

    with pytest.raises(QuestionError, match=r"\['colour'\].*docs/questions.md"):
        Tokenizer().encode("what colour is the circle ?")
    with pytest.raises(QuestionError, match="<ans>"):
        Tokenizer().encode("what <ans> is it ?")
    assert VOCABULARY_DOC == "docs/questions.md"


def test_the_vocabulary_document_lists_every_word() -> None:
    from pathlib import Path

    from splitvlm.data.tokenizer import SPECIALS, VOCABULARY_DOC

    doc = (Path(__file__).resolve().parents[2] / VOCABULARY_DOC).read_text()
    listed = doc.split("## Vocabulary", 1)[1].split("\n", 1)[1].split()
    words = [w for w in Tokenizer().words if w not in SPECIALS]
    assert listed == words
    assert f"({len(words)} words)" in doc

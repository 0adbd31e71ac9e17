"""The question type of a shapes-vqa v1 question, from its words (the grammar is fixed).

    classify("how many red objects are there ?")      -> "count"
    classify("what is left of the blue circle ?")     -> "relate"
    classify("what is the meaning of life")           -> "unknown"

The type picks the accuracy row and the expected answer length (decode tokens).
"""

from __future__ import annotations

import re

UNKNOWN = "unknown"  # not a shapes-vqa v1 question (QTYPES lists the nine)

# First words of each type (../shared/shapes-vqa.md), checked in order.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), qtype) for pattern, qtype in (
        (r"^what colou?r is ", "color"),
        (r"^what shape is ", "shape"),
        (r"^where is ", "where"),
        (r"^what size is ", "size"),
        (r"^how many ", "count"),
        (r"^is there ", "exist"),
        (r"^describe\b", "caption"),
        (r"^what is (left of|right of|above|below) ", "relate"),
        (r"^are there more ", "compare"),
    )
)

# Expected answer tokens, end-of-answer included. Most answers are one word; `where` names a
# cell in one or two words; `relate` answers `a {color} {shape}` or `nothing`; a caption lists
# up to five objects as `a {color} {shape}` joined by `and` (3 objects: 11 words).
ANSWER_TOKENS: dict[str, float] = {
    "color": 2.0, "shape": 2.0, "where": 2.7, "size": 2.0, "count": 2.0, "exist": 2.0,
    "caption": 16.0, "relate": 3.5, "compare": 2.0, UNKNOWN: 4.0,
}


def classify(question: str) -> str:
    """One of QTYPES, or UNKNOWN when no first words match."""
    text = " ".join(question.lower().split())
    for pattern, qtype in _PATTERNS:
        if pattern.match(text):
            return qtype
    return UNKNOWN

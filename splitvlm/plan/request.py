"""What the planner needs to know about one request.

    PlanRequest("how many circles are there ?", image_bytes=48_213, deadline_s=0.3,
                policy=frozenset({Policy.PIXELS_STAY_ON_EDGE}), preset="fastest")
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass

from splitvlm.data.questions import QTYPES
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Weights, preset
from splitvlm.plan.qtype import ANSWER_TOKENS, UNKNOWN, classify


@dataclass(frozen=True)
class PlanRequest:
    question: str
    """The question text; it travels with every hand-off (as UTF-8)."""
    image_bytes: int
    """Size of the original image as the camera sent it: the IMAGE hand-off's payload."""
    _: KW_ONLY
    image_mpix: float | None = None
    """Megapixels of the original image (width x height / 1e6), which `preprocess` costs in
    proportion to; None: the size each tier measured its preprocess at."""
    png_bytes: int | None = None
    """Size of the pixels at model resolution as PNG; None: the raw pixel bytes (an upper
    bound of PNG's size)."""
    deadline_s: float = math.inf
    """Latency budget; plans predicted slower are ruled out unless none is faster."""
    policy: frozenset[Policy] = frozenset()
    qtype: str | None = None
    """The question type, when the caller knows it; None: classified from the question."""
    preset: str | None = None
    """A preset name (presets.PRESETS); None: the planner's configured default."""
    weights: Weights | None = None
    """Explicit objective weights; override `preset`."""
    cache_hit_at_fog: bool = False
    """The fog holds this image's visual tokens, so a CACHE_REF hand-off can replace them."""
    decode_tokens: float | None = None
    """Expected answer tokens; None: the question type's typical answer length."""

    def __post_init__(self) -> None:
        if self.image_bytes < 1:
            raise ValueError(f"image_bytes={self.image_bytes!r}; expected >= 1")
        if self.image_mpix is not None and not (
                math.isfinite(self.image_mpix) and self.image_mpix > 0):
            raise ValueError(f"image_mpix={self.image_mpix!r}; expected > 0 or None")
        if self.png_bytes is not None and self.png_bytes < 1:
            raise ValueError(f"png_bytes={self.png_bytes!r}; expected >= 1 or None")
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s={self.deadline_s!r}; expected > 0 (inf: none)")
        if self.qtype is not None and self.qtype not in (*QTYPES, UNKNOWN):
            raise ValueError(f"qtype={self.qtype!r}; expected one of {(*QTYPES, UNKNOWN)}")
        if self.preset is not None:
            preset(self.preset)
        if self.decode_tokens is not None and not (
                math.isfinite(self.decode_tokens) and self.decode_tokens >= 0):
            raise ValueError(f"decode_tokens={self.decode_tokens!r}; expected finite >= 0")
        object.__setattr__(self, "policy", frozenset(Policy(p) for p in self.policy))

    @property
    def question_bytes(self) -> int:
        return len(self.question.encode())

    def resolved_qtype(self) -> str:
        return self.qtype if self.qtype is not None else classify(self.question)

    def resolved_decode_tokens(self, qtype: str) -> float:
        return self.decode_tokens if self.decode_tokens is not None else ANSWER_TOKENS[qtype]

"""What flows between tiers, as plain Python: requests with a payload in, events out.

The gRPC layer (splitvlm.service.convert) maps these 1:1 onto the protos in protos/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from splitvlm.errors import TierUnavailable, WireError
from splitvlm.executor.status import TierStatus
from splitvlm.plan.plan import Link, Plan, Tier
from splitvlm.plan.policies import Policy
from splitvlm.stages import MAX_ANSWER_TOKENS
from splitvlm.wire import WireTensor
from splitvlm.wire.codecs import Encoding


@dataclass(frozen=True)
class Payload:
    """The boundary value at `cut` in one encoding: image bytes, a tensor, or a cache key."""

    cut: int
    encoding: Encoding
    image: bytes = b""  # IMAGE / PNG
    tensor: WireTensor | None = None  # FP32 / FP16 / INT8 / INT8_LZ4
    cache_key: str = ""  # CACHE_REF

    def __post_init__(self) -> None:
        if self.tensor is not None and self.tensor.encoding is not self.encoding:
            raise WireError(f"payload says {self.encoding} but its tensor is "
                            f"{self.tensor.encoding}; a payload carries the applied encoding")

    @property
    def nbytes(self) -> int:
        if self.tensor is not None:
            return self.tensor.nbytes
        return len(self.image) + len(self.cache_key)


@dataclass(frozen=True)
class Request:
    plan: Plan
    question: str
    payload: Payload
    max_new_tokens: int = MAX_ANSWER_TOKENS
    image_key: str = ""  # feature-cache key of the image, when the edge knows it
    deadline: float | None = None  # time.monotonic() by which the answer must be complete
    pixels: np.ndarray | None = field(default=None, compare=False)  # edge: preprocessed already
    request_id: str = ""  # the edge's id for the request; every tier logs under it
    policies: frozenset[Policy] = frozenset()  # what the request allows to leave the edge
    fallback: bool = False  # planned, not pinned: if the next tier fails before its first
    # token, a tier with an LM and the visual tokens may answer itself (the edge sets it)
    trace: tuple[tuple[str, str], ...] = ()  # W3C trace context (traceparent, tracestate)
    # for the next tier, sent as call metadata (splitvlm.service.tracing)
    reuse_tokens: bool = True  # the edge may take the image's visual tokens from its own
    # cache (False: AskRequest.no_cache, compute them again)


@dataclass(frozen=True)
class StageTiming:
    tier: Tier
    start: int  # the stages [start, stop) ran here ...
    stop: int
    seconds: float  # ... in this time

    @property
    def stages(self) -> range:
        return range(self.start, self.stop)


@dataclass(frozen=True)
class LinkTransfer:
    link: Link
    bytes: int
    seconds: float  # network time: call time minus the downstream's own busy time


@dataclass(frozen=True)
class TokenEvent:
    id: int
    text: str


@dataclass
class ResultEvent:
    timings: list[StageTiming] = field(default_factory=list)
    links: list[LinkTransfer] = field(default_factory=list)
    busy_s: float = 0.0  # time the request spent at the answering tier and below (links too)
    status: TierStatus | None = None  # the LM tier's load
    cached_at: Tier | None = None  # the tier that now caches this image's visual tokens
    tokens: int = 0  # answer tokens the LM produced
    escalated: bool = False  # a cascade sent the request up: this is the upstream LM's answer
    confidence: float | None = None  # a cascade: the edge draft's confidence (None: no draft)
    fallback: TierUnavailable | None = None  # the upstream tier failed before its first token,
    # so this tier's own LM answered from the visual tokens it had computed (never sent on)


@dataclass(frozen=True)
class CacheMissEvent:
    cache_key: str


Event = TokenEvent | ResultEvent | CacheMissEvent

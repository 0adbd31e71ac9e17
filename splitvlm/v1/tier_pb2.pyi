from splitvlm.v1 import wire_pb2 as _wire_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecuteHeader(_message.Message):
    __slots__ = ("request_id", "plan", "question", "max_new_tokens", "image_key", "payload_bytes", "policies")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    plan: _wire_pb2.Plan
    question: str
    max_new_tokens: int
    image_key: str
    payload_bytes: int
    policies: _containers.RepeatedScalarFieldContainer[_wire_pb2.Policy]
    def __init__(self, request_id: _Optional[str] = ..., plan: _Optional[_Union[_wire_pb2.Plan, _Mapping]] = ..., question: _Optional[str] = ..., max_new_tokens: _Optional[int] = ..., image_key: _Optional[str] = ..., payload_bytes: _Optional[int] = ..., policies: _Optional[_Iterable[_Union[_wire_pb2.Policy, str]]] = ...) -> None: ...

class ExecuteChunk(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: ExecuteHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[ExecuteHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class Token(_message.Message):
    __slots__ = ("id", "text")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    id: int
    text: str
    def __init__(self, id: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class ExecuteResult(_message.Message):
    __slots__ = ("timings", "links", "busy_s", "status", "feature_cached_at", "tokens")
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    BUSY_S_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_CACHED_AT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    timings: _containers.RepeatedCompositeFieldContainer[_wire_pb2.StageTiming]
    links: _containers.RepeatedCompositeFieldContainer[_wire_pb2.LinkTransfer]
    busy_s: float
    status: TierStatus
    feature_cached_at: _wire_pb2.Tier
    tokens: int
    def __init__(self, timings: _Optional[_Iterable[_Union[_wire_pb2.StageTiming, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[_wire_pb2.LinkTransfer, _Mapping]]] = ..., busy_s: _Optional[float] = ..., status: _Optional[_Union[TierStatus, _Mapping]] = ..., feature_cached_at: _Optional[_Union[_wire_pb2.Tier, str]] = ..., tokens: _Optional[int] = ...) -> None: ...

class CacheMiss(_message.Message):
    __slots__ = ("cache_key",)
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    cache_key: str
    def __init__(self, cache_key: _Optional[str] = ...) -> None: ...

class ExecuteEvent(_message.Message):
    __slots__ = ("token", "result", "cache_miss")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CACHE_MISS_FIELD_NUMBER: _ClassVar[int]
    token: Token
    result: ExecuteResult
    cache_miss: CacheMiss
    def __init__(self, token: _Optional[_Union[Token, _Mapping]] = ..., result: _Optional[_Union[ExecuteResult, _Mapping]] = ..., cache_miss: _Optional[_Union[CacheMiss, _Mapping]] = ...) -> None: ...

class ProbeRequest(_message.Message):
    __slots__ = ("payload", "reply_bytes")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    REPLY_BYTES_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    reply_bytes: int
    def __init__(self, payload: _Optional[bytes] = ..., reply_bytes: _Optional[int] = ...) -> None: ...

class ProbeReply(_message.Message):
    __slots__ = ("payload",)
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    payload: bytes
    def __init__(self, payload: _Optional[bytes] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StageCost(_message.Message):
    __slots__ = ("tier", "precision", "stage", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: _wire_pb2.Tier
    precision: _wire_pb2.Precision
    stage: int
    seconds: float
    def __init__(self, tier: _Optional[_Union[_wire_pb2.Tier, str]] = ..., precision: _Optional[_Union[_wire_pb2.Precision, str]] = ..., stage: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class DecodeCost(_message.Message):
    __slots__ = ("tier", "batch", "seconds_per_token")
    TIER_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    SECONDS_PER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tier: _wire_pb2.Tier
    batch: int
    seconds_per_token: float
    def __init__(self, tier: _Optional[_Union[_wire_pb2.Tier, str]] = ..., batch: _Optional[int] = ..., seconds_per_token: _Optional[float] = ...) -> None: ...

class PreprocessCost(_message.Message):
    __slots__ = ("tier", "megapixels", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    MEGAPIXELS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: _wire_pb2.Tier
    megapixels: float
    seconds: float
    def __init__(self, tier: _Optional[_Union[_wire_pb2.Tier, str]] = ..., megapixels: _Optional[float] = ..., seconds: _Optional[float] = ...) -> None: ...

class ComputeProfile(_message.Message):
    __slots__ = ("stages", "decode", "preprocess")
    STAGES_FIELD_NUMBER: _ClassVar[int]
    DECODE_FIELD_NUMBER: _ClassVar[int]
    PREPROCESS_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedCompositeFieldContainer[StageCost]
    decode: _containers.RepeatedCompositeFieldContainer[DecodeCost]
    preprocess: _containers.RepeatedCompositeFieldContainer[PreprocessCost]
    def __init__(self, stages: _Optional[_Iterable[_Union[StageCost, _Mapping]]] = ..., decode: _Optional[_Iterable[_Union[DecodeCost, _Mapping]]] = ..., preprocess: _Optional[_Iterable[_Union[PreprocessCost, _Mapping]]] = ...) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("hits", "misses", "evictions", "corrupted", "entries", "bytes", "byte_budget")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    CORRUPTED_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTE_BUDGET_FIELD_NUMBER: _ClassVar[int]
    hits: int
    misses: int
    evictions: int
    corrupted: int
    entries: int
    bytes: int
    byte_budget: int
    def __init__(self, hits: _Optional[int] = ..., misses: _Optional[int] = ..., evictions: _Optional[int] = ..., corrupted: _Optional[int] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., byte_budget: _Optional[int] = ...) -> None: ...

class LinkEstimate(_message.Message):
    __slots__ = ("bandwidth_bps", "rtt_s")
    BANDWIDTH_BPS_FIELD_NUMBER: _ClassVar[int]
    RTT_S_FIELD_NUMBER: _ClassVar[int]
    bandwidth_bps: float
    rtt_s: float
    def __init__(self, bandwidth_bps: _Optional[float] = ..., rtt_s: _Optional[float] = ...) -> None: ...

class TierStatus(_message.Message):
    __slots__ = ("tier", "active", "queued", "running", "batch_mean", "cache", "visual_version", "vision_runs", "max_answer_tokens", "profile", "downstream", "next_link")
    TIER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    BATCH_MEAN_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    VISUAL_VERSION_FIELD_NUMBER: _ClassVar[int]
    VISION_RUNS_FIELD_NUMBER: _ClassVar[int]
    MAX_ANSWER_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    NEXT_LINK_FIELD_NUMBER: _ClassVar[int]
    tier: _wire_pb2.Tier
    active: int
    queued: int
    running: int
    batch_mean: float
    cache: CacheStats
    visual_version: str
    vision_runs: int
    max_answer_tokens: int
    profile: ComputeProfile
    downstream: TierStatus
    next_link: LinkEstimate
    def __init__(self, tier: _Optional[_Union[_wire_pb2.Tier, str]] = ..., active: _Optional[int] = ..., queued: _Optional[int] = ..., running: _Optional[int] = ..., batch_mean: _Optional[float] = ..., cache: _Optional[_Union[CacheStats, _Mapping]] = ..., visual_version: _Optional[str] = ..., vision_runs: _Optional[int] = ..., max_answer_tokens: _Optional[int] = ..., profile: _Optional[_Union[ComputeProfile, _Mapping]] = ..., downstream: _Optional[_Union[TierStatus, _Mapping]] = ..., next_link: _Optional[_Union[LinkEstimate, _Mapping]] = ...) -> None: ...

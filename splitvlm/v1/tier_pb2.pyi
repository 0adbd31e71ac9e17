from splitvlm.v1 import wire_pb2 as _wire_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecuteHeader(_message.Message):
    __slots__ = ("plan", "question", "max_new_tokens", "payload_bytes", "image_key", "request_id")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    plan: _wire_pb2.Plan
    question: str
    max_new_tokens: int
    payload_bytes: int
    image_key: str
    request_id: str
    def __init__(self, plan: _Optional[_Union[_wire_pb2.Plan, _Mapping]] = ..., question: _Optional[str] = ..., max_new_tokens: _Optional[int] = ..., payload_bytes: _Optional[int] = ..., image_key: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

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
    feature_cached_at: str
    tokens: int
    def __init__(self, timings: _Optional[_Iterable[_Union[_wire_pb2.StageTiming, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[_wire_pb2.LinkTransfer, _Mapping]]] = ..., busy_s: _Optional[float] = ..., status: _Optional[_Union[TierStatus, _Mapping]] = ..., feature_cached_at: _Optional[str] = ..., tokens: _Optional[int] = ...) -> None: ...

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

class TierStatus(_message.Message):
    __slots__ = ("tier", "active", "queued", "batch_mean", "cache_entries", "cache_bytes", "cache_hit_ratio", "visual_version", "cached_keys", "profile_json", "downstream", "next_bandwidth_bps", "next_rtt_s", "running", "vision_runs", "max_answer_tokens")
    TIER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    BATCH_MEAN_FIELD_NUMBER: _ClassVar[int]
    CACHE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CACHE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_RATIO_FIELD_NUMBER: _ClassVar[int]
    VISUAL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CACHED_KEYS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_JSON_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    NEXT_BANDWIDTH_BPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_RTT_S_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    VISION_RUNS_FIELD_NUMBER: _ClassVar[int]
    MAX_ANSWER_TOKENS_FIELD_NUMBER: _ClassVar[int]
    tier: str
    active: int
    queued: int
    batch_mean: float
    cache_entries: int
    cache_bytes: int
    cache_hit_ratio: float
    visual_version: str
    cached_keys: _containers.RepeatedScalarFieldContainer[str]
    profile_json: str
    downstream: TierStatus
    next_bandwidth_bps: float
    next_rtt_s: float
    running: int
    vision_runs: int
    max_answer_tokens: int
    def __init__(self, tier: _Optional[str] = ..., active: _Optional[int] = ..., queued: _Optional[int] = ..., batch_mean: _Optional[float] = ..., cache_entries: _Optional[int] = ..., cache_bytes: _Optional[int] = ..., cache_hit_ratio: _Optional[float] = ..., visual_version: _Optional[str] = ..., cached_keys: _Optional[_Iterable[str]] = ..., profile_json: _Optional[str] = ..., downstream: _Optional[_Union[TierStatus, _Mapping]] = ..., next_bandwidth_bps: _Optional[float] = ..., next_rtt_s: _Optional[float] = ..., running: _Optional[int] = ..., vision_runs: _Optional[int] = ..., max_answer_tokens: _Optional[int] = ...) -> None: ...

from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frame(_message.Message):
    __slots__ = ("source", "image", "captured_unix_s")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    source: str
    image: bytes
    captured_unix_s: float
    def __init__(self, source: _Optional[str] = ..., image: _Optional[bytes] = ..., captured_unix_s: _Optional[float] = ...) -> None: ...

class SubmitReply(_message.Message):
    __slots__ = ("accepted", "first_frame", "last_frame")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    FIRST_FRAME_FIELD_NUMBER: _ClassVar[int]
    LAST_FRAME_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    first_frame: int
    last_frame: int
    def __init__(self, accepted: _Optional[int] = ..., first_frame: _Optional[int] = ..., last_frame: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("sources",)
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sources: _Optional[_Iterable[str]] = ...) -> None: ...

class AgentResult(_message.Message):
    __slots__ = ("source", "frame", "question", "text", "degraded", "confirmed", "reused", "encoded", "captured_unix_s", "answered_unix_s", "latency_s", "plan", "request_id", "error")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    source: str
    frame: int
    question: str
    text: str
    degraded: bool
    confirmed: bool
    reused: bool
    encoded: bool
    captured_unix_s: float
    answered_unix_s: float
    latency_s: float
    plan: str
    request_id: str
    error: str
    def __init__(self, source: _Optional[str] = ..., frame: _Optional[int] = ..., question: _Optional[str] = ..., text: _Optional[str] = ..., degraded: _Optional[bool] = ..., confirmed: _Optional[bool] = ..., reused: _Optional[bool] = ..., encoded: _Optional[bool] = ..., captured_unix_s: _Optional[float] = ..., answered_unix_s: _Optional[float] = ..., latency_s: _Optional[float] = ..., plan: _Optional[str] = ..., request_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class AgentStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("name", "kind", "seen", "skipped", "dropped", "refused", "accepted", "reused", "encoded", "answered", "degraded", "confirmed", "errors")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEEN_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REUSED_FIELD_NUMBER: _ClassVar[int]
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    seen: int
    skipped: int
    dropped: int
    refused: int
    accepted: int
    reused: int
    encoded: int
    answered: int
    degraded: int
    confirmed: int
    errors: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., seen: _Optional[int] = ..., skipped: _Optional[int] = ..., dropped: _Optional[int] = ..., refused: _Optional[int] = ..., accepted: _Optional[int] = ..., reused: _Optional[int] = ..., encoded: _Optional[int] = ..., answered: _Optional[int] = ..., degraded: _Optional[int] = ..., confirmed: _Optional[int] = ..., errors: _Optional[int] = ...) -> None: ...

class AgentStatus(_message.Message):
    __slots__ = ("sources", "pending", "awaiting_confirmation")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    AWAITING_CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    pending: int
    awaiting_confirmation: int
    def __init__(self, sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ..., pending: _Optional[int] = ..., awaiting_confirmation: _Optional[int] = ...) -> None: ...

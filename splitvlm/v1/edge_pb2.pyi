from splitvlm.v1 import tier_pb2 as _tier_pb2
from splitvlm.v1 import wire_pb2 as _wire_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AskRequest(_message.Message):
    __slots__ = ("image", "question", "plan", "policy", "preset", "max_new_tokens", "image_key", "no_cache")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    NO_CACHE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    question: str
    plan: str
    policy: _containers.RepeatedScalarFieldContainer[str]
    preset: str
    max_new_tokens: int
    image_key: str
    no_cache: bool
    def __init__(self, image: _Optional[bytes] = ..., question: _Optional[str] = ..., plan: _Optional[str] = ..., policy: _Optional[_Iterable[str]] = ..., preset: _Optional[str] = ..., max_new_tokens: _Optional[int] = ..., image_key: _Optional[str] = ..., no_cache: _Optional[bool] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("text", "plan", "timings", "links", "latency_s", "image_key", "explanation", "escalated", "edge_confidence", "request_id")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    EDGE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    text: str
    plan: _wire_pb2.Plan
    timings: _containers.RepeatedCompositeFieldContainer[_wire_pb2.StageTiming]
    links: _containers.RepeatedCompositeFieldContainer[_wire_pb2.LinkTransfer]
    latency_s: float
    image_key: str
    explanation: str
    escalated: bool
    edge_confidence: float
    request_id: str
    def __init__(self, text: _Optional[str] = ..., plan: _Optional[_Union[_wire_pb2.Plan, _Mapping]] = ..., timings: _Optional[_Iterable[_Union[_wire_pb2.StageTiming, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[_wire_pb2.LinkTransfer, _Mapping]]] = ..., latency_s: _Optional[float] = ..., image_key: _Optional[str] = ..., explanation: _Optional[str] = ..., escalated: _Optional[bool] = ..., edge_confidence: _Optional[float] = ..., request_id: _Optional[str] = ...) -> None: ...

class AskEvent(_message.Message):
    __slots__ = ("plan", "token", "answer")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    plan: _wire_pb2.Plan
    token: _tier_pb2.Token
    answer: Answer
    def __init__(self, plan: _Optional[_Union[_wire_pb2.Plan, _Mapping]] = ..., token: _Optional[_Union[_tier_pb2.Token, _Mapping]] = ..., answer: _Optional[_Union[Answer, _Mapping]] = ...) -> None: ...

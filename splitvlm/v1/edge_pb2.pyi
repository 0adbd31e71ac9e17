from splitvlm.v1 import tier_pb2 as _tier_pb2
from splitvlm.v1 import wire_pb2 as _wire_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Preset(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRESET_UNSPECIFIED: _ClassVar[Preset]
    PRESET_FASTEST: _ClassVar[Preset]
    PRESET_BALANCED: _ClassVar[Preset]
    PRESET_MOST_ACCURATE: _ClassVar[Preset]
    PRESET_BATTERY: _ClassVar[Preset]
PRESET_UNSPECIFIED: Preset
PRESET_FASTEST: Preset
PRESET_BALANCED: Preset
PRESET_MOST_ACCURATE: Preset
PRESET_BATTERY: Preset

class AskRequest(_message.Message):
    __slots__ = ("image", "image_key", "question", "plan_name", "policies", "preset", "max_new_tokens", "no_cache")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    PLAN_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    NO_CACHE_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    image_key: str
    question: str
    plan_name: str
    policies: _containers.RepeatedScalarFieldContainer[_wire_pb2.Policy]
    preset: Preset
    max_new_tokens: int
    no_cache: bool
    def __init__(self, image: _Optional[bytes] = ..., image_key: _Optional[str] = ..., question: _Optional[str] = ..., plan_name: _Optional[str] = ..., policies: _Optional[_Iterable[_Union[_wire_pb2.Policy, str]]] = ..., preset: _Optional[_Union[Preset, str]] = ..., max_new_tokens: _Optional[int] = ..., no_cache: _Optional[bool] = ...) -> None: ...

class PlanChoice(_message.Message):
    __slots__ = ("plan", "explanation", "stage_names")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    STAGE_NAMES_FIELD_NUMBER: _ClassVar[int]
    plan: _wire_pb2.Plan
    explanation: str
    stage_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plan: _Optional[_Union[_wire_pb2.Plan, _Mapping]] = ..., explanation: _Optional[str] = ..., stage_names: _Optional[_Iterable[str]] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("text", "timings", "links", "latency_s", "image_key", "escalated", "edge_confidence", "request_id", "fallback", "degraded")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    IMAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    EDGE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    text: str
    timings: _containers.RepeatedCompositeFieldContainer[_wire_pb2.StageTiming]
    links: _containers.RepeatedCompositeFieldContainer[_wire_pb2.LinkTransfer]
    latency_s: float
    image_key: str
    escalated: bool
    edge_confidence: float
    request_id: str
    fallback: str
    degraded: bool
    def __init__(self, text: _Optional[str] = ..., timings: _Optional[_Iterable[_Union[_wire_pb2.StageTiming, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[_wire_pb2.LinkTransfer, _Mapping]]] = ..., latency_s: _Optional[float] = ..., image_key: _Optional[str] = ..., escalated: _Optional[bool] = ..., edge_confidence: _Optional[float] = ..., request_id: _Optional[str] = ..., fallback: _Optional[str] = ..., degraded: _Optional[bool] = ...) -> None: ...

class AskEvent(_message.Message):
    __slots__ = ("plan", "token", "answer")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    plan: PlanChoice
    token: _tier_pb2.Token
    answer: Answer
    def __init__(self, plan: _Optional[_Union[PlanChoice, _Mapping]] = ..., token: _Optional[_Union[_tier_pb2.Token, _Mapping]] = ..., answer: _Optional[_Union[Answer, _Mapping]] = ...) -> None: ...

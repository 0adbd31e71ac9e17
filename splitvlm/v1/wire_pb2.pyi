from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIER_UNSPECIFIED: _ClassVar[Tier]
    TIER_EDGE: _ClassVar[Tier]
    TIER_FOG: _ClassVar[Tier]
    TIER_CLOUD: _ClassVar[Tier]

class Precision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRECISION_UNSPECIFIED: _ClassVar[Precision]
    PRECISION_FP32: _ClassVar[Precision]
    PRECISION_INT8: _ClassVar[Precision]

class Encoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENCODING_UNSPECIFIED: _ClassVar[Encoding]
    ENCODING_IMAGE: _ClassVar[Encoding]
    ENCODING_PNG: _ClassVar[Encoding]
    ENCODING_FP32: _ClassVar[Encoding]
    ENCODING_FP16: _ClassVar[Encoding]
    ENCODING_INT8: _ClassVar[Encoding]
    ENCODING_INT8_LZ4: _ClassVar[Encoding]
    ENCODING_CACHE_REF: _ClassVar[Encoding]
    ENCODING_INT4: _ClassVar[Encoding]

class Link(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_UNSPECIFIED: _ClassVar[Link]
    LINK_EDGE_FOG: _ClassVar[Link]
    LINK_FOG_CLOUD: _ClassVar[Link]

class Policy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_UNSPECIFIED: _ClassVar[Policy]
    POLICY_PIXELS_STAY_ON_EDGE: _ClassVar[Policy]
    POLICY_OFFLINE: _ClassVar[Policy]
TIER_UNSPECIFIED: Tier
TIER_EDGE: Tier
TIER_FOG: Tier
TIER_CLOUD: Tier
PRECISION_UNSPECIFIED: Precision
PRECISION_FP32: Precision
PRECISION_INT8: Precision
ENCODING_UNSPECIFIED: Encoding
ENCODING_IMAGE: Encoding
ENCODING_PNG: Encoding
ENCODING_FP32: Encoding
ENCODING_FP16: Encoding
ENCODING_INT8: Encoding
ENCODING_INT8_LZ4: Encoding
ENCODING_CACHE_REF: Encoding
ENCODING_INT4: Encoding
LINK_UNSPECIFIED: Link
LINK_EDGE_FOG: Link
LINK_FOG_CLOUD: Link
POLICY_UNSPECIFIED: Policy
POLICY_PIXELS_STAY_ON_EDGE: Policy
POLICY_OFFLINE: Policy

class StageRange(_message.Message):
    __slots__ = ("start", "stop")
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    start: int
    stop: int
    def __init__(self, start: _Optional[int] = ..., stop: _Optional[int] = ...) -> None: ...

class Tensor(_message.Message):
    __slots__ = ("shape", "data", "scales", "digest")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SCALES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    scales: bytes
    digest: str
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., scales: _Optional[bytes] = ..., digest: _Optional[str] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ("cut", "encoding", "image", "tensor", "cache_key")
    CUT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    cut: int
    encoding: Encoding
    image: bytes
    tensor: Tensor
    cache_key: str
    def __init__(self, cut: _Optional[int] = ..., encoding: _Optional[_Union[Encoding, str]] = ..., image: _Optional[bytes] = ..., tensor: _Optional[_Union[Tensor, _Mapping]] = ..., cache_key: _Optional[str] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("tier", "stages", "precision")
    TIER_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    stages: StageRange
    precision: Precision
    def __init__(self, tier: _Optional[_Union[Tier, str]] = ..., stages: _Optional[_Union[StageRange, _Mapping]] = ..., precision: _Optional[_Union[Precision, str]] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("tier", "encoding", "threshold")
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    encoding: Encoding
    threshold: float
    def __init__(self, tier: _Optional[_Union[Tier, str]] = ..., encoding: _Optional[_Union[Encoding, str]] = ..., threshold: _Optional[float] = ...) -> None: ...

class StageForecast(_message.Message):
    __slots__ = ("tier", "stage", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    stage: int
    seconds: float
    def __init__(self, tier: _Optional[_Union[Tier, str]] = ..., stage: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class WaitForecast(_message.Message):
    __slots__ = ("tier", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    seconds: float
    def __init__(self, tier: _Optional[_Union[Tier, str]] = ..., seconds: _Optional[float] = ...) -> None: ...

class LinkForecast(_message.Message):
    __slots__ = ("link", "seconds", "bytes")
    LINK_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    link: Link
    seconds: float
    bytes: float
    def __init__(self, link: _Optional[_Union[Link, str]] = ..., seconds: _Optional[float] = ..., bytes: _Optional[float] = ...) -> None: ...

class Forecast(_message.Message):
    __slots__ = ("latency_s", "energy_j", "accuracy", "objective", "edge_compute_s", "edge_bytes", "overhead_s", "stages", "waits", "links", "p_escalate", "escalated_latency_s")
    LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    ENERGY_J_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    EDGE_COMPUTE_S_FIELD_NUMBER: _ClassVar[int]
    EDGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OVERHEAD_S_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    WAITS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    P_ESCALATE_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_LATENCY_S_FIELD_NUMBER: _ClassVar[int]
    latency_s: float
    energy_j: float
    accuracy: float
    objective: float
    edge_compute_s: float
    edge_bytes: float
    overhead_s: float
    stages: _containers.RepeatedCompositeFieldContainer[StageForecast]
    waits: _containers.RepeatedCompositeFieldContainer[WaitForecast]
    links: _containers.RepeatedCompositeFieldContainer[LinkForecast]
    p_escalate: float
    escalated_latency_s: float
    def __init__(self, latency_s: _Optional[float] = ..., energy_j: _Optional[float] = ..., accuracy: _Optional[float] = ..., objective: _Optional[float] = ..., edge_compute_s: _Optional[float] = ..., edge_bytes: _Optional[float] = ..., overhead_s: _Optional[float] = ..., stages: _Optional[_Iterable[_Union[StageForecast, _Mapping]]] = ..., waits: _Optional[_Iterable[_Union[WaitForecast, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[LinkForecast, _Mapping]]] = ..., p_escalate: _Optional[float] = ..., escalated_latency_s: _Optional[float] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("name", "steps", "encodings", "escalation", "predicted")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    ENCODINGS_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    name: str
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    encodings: _containers.RepeatedScalarFieldContainer[Encoding]
    escalation: Escalation
    predicted: Forecast
    def __init__(self, name: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ..., encodings: _Optional[_Iterable[_Union[Encoding, str]]] = ..., escalation: _Optional[_Union[Escalation, _Mapping]] = ..., predicted: _Optional[_Union[Forecast, _Mapping]] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("tier", "stages", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: Tier
    stages: StageRange
    seconds: float
    def __init__(self, tier: _Optional[_Union[Tier, str]] = ..., stages: _Optional[_Union[StageRange, _Mapping]] = ..., seconds: _Optional[float] = ...) -> None: ...

class LinkTransfer(_message.Message):
    __slots__ = ("link", "bytes", "seconds")
    LINK_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    link: Link
    bytes: int
    seconds: float
    def __init__(self, link: _Optional[_Union[Link, str]] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Encoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENCODING_UNSPECIFIED: _ClassVar[Encoding]
    IMAGE: _ClassVar[Encoding]
    PNG: _ClassVar[Encoding]
    FP32: _ClassVar[Encoding]
    FP16: _ClassVar[Encoding]
    INT8: _ClassVar[Encoding]
    INT8_LZ4: _ClassVar[Encoding]
    CACHE_REF: _ClassVar[Encoding]
ENCODING_UNSPECIFIED: Encoding
IMAGE: Encoding
PNG: Encoding
FP32: Encoding
FP16: Encoding
INT8: Encoding
INT8_LZ4: Encoding
CACHE_REF: Encoding

class Tensor(_message.Message):
    __slots__ = ("encoding", "shape", "data", "scales", "digest")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SCALES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    encoding: Encoding
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    scales: bytes
    digest: str
    def __init__(self, encoding: _Optional[_Union[Encoding, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., scales: _Optional[bytes] = ..., digest: _Optional[str] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ("cut", "image", "tensor", "cache_key", "encoding")
    CUT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TENSOR_FIELD_NUMBER: _ClassVar[int]
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    cut: int
    image: bytes
    tensor: Tensor
    cache_key: str
    encoding: Encoding
    def __init__(self, cut: _Optional[int] = ..., image: _Optional[bytes] = ..., tensor: _Optional[_Union[Tensor, _Mapping]] = ..., cache_key: _Optional[str] = ..., encoding: _Optional[_Union[Encoding, str]] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("tier", "start", "stop", "precision")
    TIER_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    tier: str
    start: int
    stop: int
    precision: str
    def __init__(self, tier: _Optional[str] = ..., start: _Optional[int] = ..., stop: _Optional[int] = ..., precision: _Optional[str] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("tier", "encoding", "threshold")
    TIER_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    tier: str
    encoding: Encoding
    threshold: float
    def __init__(self, tier: _Optional[str] = ..., encoding: _Optional[_Union[Encoding, str]] = ..., threshold: _Optional[float] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("name", "steps", "encodings", "predicted", "escalation")
    class PredictedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    ENCODINGS_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    encodings: _containers.RepeatedScalarFieldContainer[Encoding]
    predicted: _containers.ScalarMap[str, float]
    escalation: Escalation
    def __init__(self, name: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ..., encodings: _Optional[_Iterable[_Union[Encoding, str]]] = ..., predicted: _Optional[_Mapping[str, float]] = ..., escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("tier", "stage", "seconds")
    TIER_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    tier: str
    stage: str
    seconds: float
    def __init__(self, tier: _Optional[str] = ..., stage: _Optional[str] = ..., seconds: _Optional[float] = ...) -> None: ...

class LinkTransfer(_message.Message):
    __slots__ = ("link", "bytes", "seconds")
    LINK_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    link: str
    bytes: int
    seconds: float
    def __init__(self, link: _Optional[str] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

"""The encodings, and the codec of each tensor encoding: the one place an encoding is defined.

    Encoding    how a boundary crosses a link: IMAGE, PNG, CACHE_REF, or a tensor codec's name
    CODECS      Encoding -> Codec for the tensor encodings, in the order candidates try them
    Codec       encode (float32 -> data, scales), decode (the inverse, checked), nbytes (the
                size of a boundary of a given shape, for the cost model)

    FP32      data = little-endian float32, 4 B/element
    FP16      data = little-endian float16, 2 B/element (|x| must fit fp16: <= 65504)
    INT8      data = int8, 1 B/element; scales = one little-endian float32 per token
              (a token is a row over all axes but the last), scale = max|row| / 127
    INT8_LZ4  the INT8 data inside an lz4 frame with a content checksum, used only when the
              frame is smaller than the raw int8 bytes (it then falls back to, and is sent as,
              INT8: `Codec.arrives_as`)
    INT4      two signed 4-bit values a byte (the first in the low nibble; an odd last one
              padded with 0), 1/2 B/element; scales as INT8, scale = max|row| / 7

The planner, the cost model, the executor, the proto conversion and `bench wire` all iterate
CODECS; adding a tensor encoding is a member of `Encoding` and an entry in CODECS. The planner
offers a codec only where `planned` (its accuracy cost is part of the accuracy table's rows:
lossless, or int8-like; see docs/benchmarks.md, bench wire).

No grpc, torch or plan here: the wire layer sits under the planner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import lz4.frame
import numpy as np

from splitvlm.errors import WireError

FP16_MAX = 65504.0
INT8_MAX = 127
INT4_MAX = 7


class Encoding(StrEnum):
    IMAGE = "image"  # the original image bytes as the camera sent them (cut 0)
    PNG = "png"  # pixels at model resolution, lossless PNG (cut 1)
    FP32 = "fp32"
    FP16 = "fp16"
    INT8 = "int8"  # int8 with one fp32 scale per token
    INT8_LZ4 = "int8_lz4"  # the same inside an lz4 frame, when that shrinks it
    CACHE_REF = "cache_ref"  # only the content hash of visual tokens the receiver caches
    INT4 = "int4"  # two int4 values a byte, one fp32 scale per token

    @property
    def is_tensor(self) -> bool:
        return self in CODECS

    @property
    def is_pixels(self) -> bool:
        return self in (Encoding.IMAGE, Encoding.PNG)


class Codec:
    """A tensor encoding. Subclasses fill `encoding` and the three methods."""

    encoding: Encoding
    resolution = 0.0  # worst |x - decode(encode(x))| relative to the peak |x| of x's row
    planned = True  # the planner's candidates include it
    compressed = False  # its size depends on the data: the cost model scales nbytes by lz4_ratio

    def encode(self, array: np.ndarray) -> tuple[Encoding, bytes, bytes]:
        """(the encoding applied, data, scales) of a finite float32 array, ndim >= 1."""
        raise NotImplementedError

    def decode(self, data: bytes, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """The float32 array of `shape`; WireError when a size or a frame is wrong."""
        raise NotImplementedError

    def nbytes(self, shape: tuple[int, ...]) -> int:
        """Bytes of a tensor of `shape` (tokens x features) before any compression."""
        raise NotImplementedError

    @property
    def arrives_as(self) -> frozenset[Encoding]:
        """The encodings a tensor planned in this codec may arrive in."""
        return frozenset({self.encoding})


@dataclass(frozen=True)
class FloatCodec(Codec):
    encoding: Encoding
    dtype: str  # numpy little-endian float dtype
    peak: float | None = None  # the largest |x| it can carry (None: any finite)
    resolution: float = 0.0  # relative rounding of the dtype

    def encode(self, array: np.ndarray) -> tuple[Encoding, bytes, bytes]:
        if self.peak is not None:
            peak = float(np.max(np.abs(array), initial=0.0))
            if peak > self.peak:
                raise WireError(f"max |x| = {peak:g} overflows {self.encoding.name} "
                                f"(max {self.peak:g}); use FP32")
        return self.encoding, array.astype(self.dtype).tobytes(), b""

    def decode(self, data: bytes, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
        if scales:
            raise WireError(f"{self.encoding.name} tensor carries {len(scales)} scale bytes; "
                            "expected none")
        _check_size(self.encoding.name, len(data), shape, self.nbytes(shape))
        return np.frombuffer(data, dtype=self.dtype).astype(np.float32).reshape(shape)

    def nbytes(self, shape: tuple[int, ...]) -> int:
        return np.dtype(self.dtype).itemsize * math.prod(shape)


@dataclass(frozen=True)
class Int8Codec(Codec):
    """Symmetric per-token int8: |x - q·s| <= s/2 per row, s = max|row| / 127."""

    encoding: Encoding = Encoding.INT8
    resolution = 0.5 / INT8_MAX

    def encode(self, array: np.ndarray) -> tuple[Encoding, bytes, bytes]:
        values, scales = _quantize(array, INT8_MAX)
        return self.encoding, values.astype(np.int8).tobytes(), scales

    def decode(self, data: bytes, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
        _check_scales(self.encoding, scales, shape)
        _check_size(self.encoding.name, len(data), shape, math.prod(shape))
        return _dequantize(np.frombuffer(data, dtype=np.int8), scales, shape)

    def nbytes(self, shape: tuple[int, ...]) -> int:
        return math.prod(shape) + 4 * _rows(shape)


@dataclass(frozen=True)
class Lz4Codec(Codec):
    """INT8 inside an lz4 frame with a content checksum, when that is smaller."""

    encoding: Encoding = Encoding.INT8_LZ4
    inner: Int8Codec = Int8Codec()
    resolution = 0.5 / INT8_MAX
    compressed = True

    def encode(self, array: np.ndarray) -> tuple[Encoding, bytes, bytes]:
        _, values, scales = self.inner.encode(array)
        frame = lz4.frame.compress(values, content_checksum=True)
        if len(frame) < len(values):
            return self.encoding, frame, scales
        return self.inner.encoding, values, scales

    def decode(self, data: bytes, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
        _check_scales(self.encoding, scales, shape)
        values = _unframe(data, math.prod(shape), shape)
        return _dequantize(np.frombuffer(values, dtype=np.int8), scales, shape)

    def nbytes(self, shape: tuple[int, ...]) -> int:
        return self.inner.nbytes(shape)

    @property
    def arrives_as(self) -> frozenset[Encoding]:
        return frozenset({self.encoding, self.inner.encoding})


@dataclass(frozen=True)
class Int4Codec(Codec):
    """Symmetric per-token int4: |x - q·s| <= s/2 per row, s = max|row| / 7. Not planned: the
    accuracy table does not price its error (bench wire measures it)."""

    encoding: Encoding = Encoding.INT4
    resolution = 0.5 / INT4_MAX
    planned = False

    def encode(self, array: np.ndarray) -> tuple[Encoding, bytes, bytes]:
        values, scales = _quantize(array, INT4_MAX)
        nibbles = (values.reshape(-1) & 0xF).astype(np.uint8)  # two's complement, 4 bits
        if len(nibbles) % 2:
            nibbles = np.append(nibbles, np.uint8(0))
        return self.encoding, (nibbles[0::2] | (nibbles[1::2] << 4)).tobytes(), scales

    def decode(self, data: bytes, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
        _check_scales(self.encoding, scales, shape)
        n = math.prod(shape)
        _check_size(self.encoding.name, len(data), shape, (n + 1) // 2)
        packed = np.frombuffer(data, dtype=np.uint8)
        nibbles = np.stack([packed & 0xF, packed >> 4], axis=1).reshape(-1)[:n].astype(np.int8)
        return _dequantize(np.where(nibbles > INT4_MAX, nibbles - 16, nibbles), scales, shape)

    def nbytes(self, shape: tuple[int, ...]) -> int:
        return (math.prod(shape) + 1) // 2 + 4 * _rows(shape)


CODECS: dict[Encoding, Codec] = {
    Encoding.FP32: FloatCodec(Encoding.FP32, "<f4"),
    Encoding.FP16: FloatCodec(Encoding.FP16, "<f2", FP16_MAX, 2.0 ** -11),
    Encoding.INT8: Int8Codec(),
    Encoding.INT8_LZ4: Lz4Codec(),
    Encoding.INT4: Int4Codec(),
}
TENSOR_ENCODINGS = tuple(CODECS)
PLANNED_ENCODINGS = tuple(e for e, c in CODECS.items() if c.planned)


def codec(encoding: object) -> Codec:
    """The codec of a tensor encoding; WireError naming the known ones otherwise."""
    found = CODECS.get(encoding) if isinstance(encoding, Encoding) else None
    if found is None:
        raise WireError(f"encoding {encoding!r} is not a tensor encoding; expected one of "
                        f"{', '.join(e.name for e in CODECS)}")
    return found


def _rows(shape: tuple[int, ...]) -> int:
    return math.prod(shape[:-1])  # tokens: one scale each


def _quantize(array: np.ndarray, qmax: int) -> tuple[np.ndarray, bytes]:
    """Symmetric per-token integers in [-qmax, qmax] (as int64, (R, D)) and fp32 scales."""
    rows = array.reshape(_rows(array.shape), array.shape[-1]).astype(np.float64)  # (R, D)
    scale = (np.max(np.abs(rows), axis=1, initial=0.0) / qmax).astype(np.float32)  # (R,)
    scale[scale == 0] = 1.0  # all-zero rows (or an underflowing peak) quantize to zeros
    q = np.clip(np.rint(rows / scale.astype(np.float64)[:, None]), -qmax, qmax)
    return q.astype(np.int64), scale.astype("<f4").tobytes()


def _dequantize(q: np.ndarray, scales: bytes, shape: tuple[int, ...]) -> np.ndarray:
    s = np.frombuffer(scales, dtype="<f4").astype(np.float32)  # (R,)
    return (q.reshape(_rows(shape), shape[-1]).astype(np.float32) * s[:, None]).reshape(shape)


def _check_scales(encoding: Encoding, scales: bytes, shape: tuple[int, ...]) -> None:
    _check_size(f"{encoding.name} scales", len(scales), shape, 4 * _rows(shape))


def _unframe(frame: bytes, n: int, shape: tuple[int, ...]) -> bytes:
    """Decompress an lz4 frame expected to hold exactly `n` bytes, never inflating past n + 1."""
    decompressor = lz4.frame.LZ4FrameDecompressor()
    try:
        out = decompressor.decompress(frame, max_length=n + 1)
    except RuntimeError as exc:
        raise WireError(f"INT8_LZ4 payload is not a valid lz4 frame: {exc}") from exc
    if len(out) > n:
        raise WireError(f"INT8_LZ4 frame holds more than {n} bytes, shape {shape} needs {n}")
    if not decompressor.eof:
        raise WireError(f"INT8_LZ4 frame is truncated after {len(out)} bytes, shape {shape} "
                        f"needs {n}")
    if len(out) != n:
        raise WireError(f"INT8_LZ4 frame holds {len(out)} bytes, shape {shape} needs {n}")
    if decompressor.unused_data:
        raise WireError(f"INT8_LZ4 payload has {len(decompressor.unused_data)} bytes after "
                        "the end of the frame; expected none")
    return out


def _check_size(what: str, got: int, shape: tuple[int, ...], need: int) -> None:
    if got != need:
        raise WireError(f"{what} payload has {got} bytes, shape {shape} needs {need}")


def encoded_sizes(shape: tuple[int, ...], encodings: tuple[Encoding, ...] = (
        Encoding.FP32, Encoding.FP16, Encoding.INT8)) -> dict[str, int]:
    """Bytes of a tensor of `shape` in each encoding, before any compression: what the cost
    model charges for a boundary."""
    return {e.value: codec(e).nbytes(shape) for e in encodings}

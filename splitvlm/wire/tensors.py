"""Tensor codecs: a float32 boundary tensor <-> the bytes that cross a link.

    FP32      data = little-endian float32, 4 B/element
    FP16      data = little-endian float16, 2 B/element (|x| must fit fp16: <= 65504)
    INT8      data = int8, 1 B/element; scales = one little-endian float32 per token
              (a token is a row over all axes but the last), scale = max|row| / 127
    INT8_LZ4  the INT8 data inside an lz4 frame with a content checksum, chosen by `encode`
              only when the frame is smaller than the raw int8 bytes (scales stay raw)

Every tensor carries `digest` = content_hash(data + scales) as sent; `decode` checks it, the
sizes, the frame and the shape, and raises WireError on any mismatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import lz4.frame
import numpy as np

from splitvlm.plan.plan import Encoding
from splitvlm.wire.errors import WireError
from splitvlm.wire.hashing import content_hash

FP16_MAX = 65504.0
INT8_MAX = 127


@dataclass(frozen=True)
class WireTensor:
    """One encoded float32 tensor as it travels (maps 1:1 onto the `Tensor` proto message)."""

    encoding: Encoding  # FP32 | FP16 | INT8 | INT8_LZ4: what was actually done
    shape: tuple[int, ...]  # the float tensor's shape, e.g. (1, 9, 128)
    data: bytes  # the payload: elements, or the lz4 frame holding them
    scales: bytes  # INT8 / INT8_LZ4: one <f4 scale per token (row); otherwise b""
    digest: str  # content_hash(data + scales), hex

    @property
    def nbytes(self) -> int:
        """Bytes on the wire, headers aside."""
        return len(self.data) + len(self.scales)


def encode(array: np.ndarray, encoding: Encoding) -> WireTensor:
    """Encode a finite float32 array (ndim >= 1). INT8_LZ4 falls back to INT8 unless smaller."""
    _check_encoding(encoding)
    if not isinstance(array, np.ndarray) or array.dtype != np.float32:
        kind = array.dtype if isinstance(array, np.ndarray) else f"a {type(array).__name__} object"
        raise WireError(f"encode takes a float32 ndarray, got {kind}")
    if array.ndim < 1:
        raise WireError("encode takes an array of ndim >= 1, got a scalar")
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise WireError(f"array has {bad} non-finite values; only finite tensors can be sent")
    shape = tuple(int(d) for d in array.shape)
    if encoding is Encoding.FP32:
        return _pack(encoding, shape, array.astype("<f4").tobytes(), b"")
    if encoding is Encoding.FP16:
        peak = float(np.max(np.abs(array), initial=0.0))
        if peak > FP16_MAX:
            raise WireError(f"max |x| = {peak:g} overflows FP16 (max {FP16_MAX:g}); use FP32")
        return _pack(encoding, shape, array.astype("<f2").tobytes(), b"")
    values, scales = _quantize(array)
    if encoding is Encoding.INT8_LZ4:
        frame = lz4.frame.compress(values, content_checksum=True)
        if len(frame) < len(values):
            return _pack(Encoding.INT8_LZ4, shape, frame, scales)
    return _pack(Encoding.INT8, shape, values, scales)


def decode(t: WireTensor, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The float32 array `t` carries; WireError on any inconsistency."""
    _check_encoding(t.encoding)
    shape = _check_shape(t.shape, expected_shape)
    actual = content_hash(t.data, t.scales)
    if actual != t.digest:
        raise WireError(f"content hash mismatch: payload hashes to {actual}, header says "
                        f"{t.digest!r}")
    n = math.prod(shape)
    if t.encoding in (Encoding.FP32, Encoding.FP16):
        if t.scales:
            raise WireError(f"{t.encoding.name} tensor carries {len(t.scales)} scale bytes; "
                            "expected none")
        width = 4 if t.encoding is Encoding.FP32 else 2
        _check_size(t.encoding.name, len(t.data), shape, n * width)
        dtype = "<f4" if t.encoding is Encoding.FP32 else "<f2"
        out = np.frombuffer(t.data, dtype=dtype).astype(np.float32).reshape(shape)
    else:
        rows = math.prod(shape[:-1])  # tokens: one scale each
        _check_size(f"{t.encoding.name} scales", len(t.scales), shape, 4 * rows)
        if t.encoding is Encoding.INT8_LZ4:
            values = _unframe(t.data, n, shape)
        else:
            values = t.data
            _check_size("INT8", len(values), shape, n)
        out = _dequantize(values, t.scales, rows, shape)
    bad = out.size - int(np.count_nonzero(np.isfinite(out)))
    if bad:
        raise WireError(f"decoded tensor has {bad} non-finite values; expected all finite")
    return out


def _pack(encoding: Encoding, shape: tuple[int, ...], data: bytes, scales: bytes) -> WireTensor:
    return WireTensor(encoding, shape, data, scales, content_hash(data, scales))


def _quantize(array: np.ndarray) -> tuple[bytes, bytes]:
    """Symmetric per-token int8: (values, scales) as bytes; |x - q·s| <= s/2 per row."""
    last = array.shape[-1]
    rows = array.reshape(math.prod(array.shape[:-1]), last).astype(np.float64)  # (R, D)
    scale = (np.max(np.abs(rows), axis=1, initial=0.0) / INT8_MAX).astype(np.float32)  # (R,)
    scale[scale == 0] = 1.0  # all-zero rows (or an underflowing peak) quantize to zeros
    q = np.clip(np.rint(rows / scale.astype(np.float64)[:, None]), -INT8_MAX, INT8_MAX)
    return q.astype(np.int8).tobytes(), scale.astype("<f4").tobytes()


def _dequantize(values: bytes, scales: bytes, rows: int, shape: tuple[int, ...]) -> np.ndarray:
    q = np.frombuffer(values, dtype=np.int8).reshape(rows, shape[-1])  # (R, D)
    s = np.frombuffer(scales, dtype="<f4").astype(np.float32)  # (R,)
    return (q.astype(np.float32) * s[:, None]).reshape(shape)


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


def _check_encoding(encoding: object) -> None:
    if not isinstance(encoding, Encoding) or not encoding.is_tensor:
        raise WireError(f"encoding {encoding!r} is not a tensor encoding; expected one of "
                        "FP32, FP16, INT8, INT8_LZ4")


def _check_shape(shape: object, expected: tuple[int, ...] | None) -> tuple[int, ...]:
    if (not isinstance(shape, tuple) or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                       for d in shape)):
        raise WireError(f"shape {shape!r} is invalid; expected a non-empty tuple of sizes >= 0")
    if expected is not None and shape != tuple(expected):
        raise WireError(f"tensor shape {shape}, expected {tuple(expected)}")
    return shape


def _check_size(what: str, got: int, shape: tuple[int, ...], need: int) -> None:
    if got != need:
        raise WireError(f"{what} payload has {got} bytes, shape {shape} needs {need}")

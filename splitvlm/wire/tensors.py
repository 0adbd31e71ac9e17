"""A boundary tensor as it travels: `WireTensor`, and `encode` / `decode` through the codecs
of splitvlm.wire.codecs (which says what each encoding's bytes are).

Every tensor carries `digest` = content_hash(data + scales) as sent; `decode` checks it, the
sizes, the frame and the shape, and raises WireError on any mismatch (ChecksumMismatch, a
DataLoss, when the bytes do not hash to the digest: corrupted in transit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from splitvlm.errors import ChecksumMismatch, WireError
from splitvlm.wire.codecs import Encoding, codec
from splitvlm.wire.hashing import content_hash


@dataclass(frozen=True)
class WireTensor:
    """One encoded float32 tensor as it travels (maps 1:1 onto the `Tensor` proto message)."""

    encoding: Encoding  # a tensor encoding (wire.codecs): what was actually done
    shape: tuple[int, ...]  # the float tensor's shape, e.g. (1, 9, 128)
    data: bytes  # the payload: elements, or the lz4 frame holding them
    scales: bytes  # quantized codecs: one <f4 scale per token (row); otherwise b""
    digest: str  # content_hash(data + scales), hex

    @property
    def nbytes(self) -> int:
        """Bytes on the wire, headers aside."""
        return len(self.data) + len(self.scales)


def encode(array: np.ndarray, encoding: Encoding) -> WireTensor:
    """Encode a finite float32 array (ndim >= 1) in a tensor encoding (which may fall back:
    INT8_LZ4 is sent as INT8 unless the frame is smaller)."""
    chosen = codec(encoding)
    if not isinstance(array, np.ndarray) or array.dtype != np.float32:
        kind = array.dtype if isinstance(array, np.ndarray) else f"a {type(array).__name__} object"
        raise WireError(f"encode takes a float32 ndarray, got {kind}")
    if array.ndim < 1:
        raise WireError("encode takes an array of ndim >= 1, got a scalar")
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise WireError(f"array has {bad} non-finite values; only finite tensors can be sent")
    shape = tuple(int(d) for d in array.shape)
    applied, data, scales = chosen.encode(array)
    return WireTensor(applied, shape, data, scales, content_hash(data, scales))


def decode(t: WireTensor, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The float32 array `t` carries; WireError on any inconsistency."""
    chosen = codec(t.encoding)
    shape = _check_shape(t.shape, expected_shape)
    actual = content_hash(t.data, t.scales)
    if actual != t.digest:
        raise ChecksumMismatch(f"content hash mismatch: payload hashes to {actual}, header says "
                        f"{t.digest!r}")
    out = chosen.decode(t.data, t.scales, shape)
    bad = out.size - int(np.count_nonzero(np.isfinite(out)))
    if bad:
        raise WireError(f"decoded tensor has {bad} non-finite values; expected all finite")
    return out


def _check_shape(shape: object, expected: tuple[int, ...] | None) -> tuple[int, ...]:
    if (not isinstance(shape, tuple) or not shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                       for d in shape)):
        raise WireError(f"shape {shape!r} is invalid; expected a non-empty tuple of sizes >= 0")
    if expected is not None and shape != tuple(expected):
        raise WireError(f"tensor shape {shape}, expected {tuple(expected)}")
    return shape

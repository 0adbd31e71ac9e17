"""Round trips and every failure path of the tensor codecs."""

from __future__ import annotations

import dataclasses
import math

import lz4.frame
import numpy as np
import pytest

from splitvlm.wire import WireError, WireTensor, content_hash, decode, encode
from splitvlm.wire.codecs import Encoding

SHAPE = (1, 9, 128)  # (batch, tokens, dim)


def _random(shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _compressible() -> np.ndarray:
    x = np.zeros((1, 64, 128), np.float32)  # mostly all-zero rows
    x[0, :4] = _random((4, 128))
    return x


def _rehash(t: WireTensor, **changes: object) -> WireTensor:
    """`t` with fields replaced and a digest that matches, to reach the checks past the hash."""
    t = dataclasses.replace(t, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(t, digest=content_hash(t.data, t.scales))


def test_fp32_round_trip_is_exact() -> None:
    x = _random()
    t = encode(x, Encoding.FP32)
    assert (t.encoding, t.shape, t.scales, t.nbytes) == (Encoding.FP32, SHAPE, b"", 4 * x.size)
    y = decode(t, SHAPE)
    assert y.dtype == np.float32 and y.flags.writeable
    np.testing.assert_array_equal(y, x)


def test_fp16_round_trip_within_relative_1e_3() -> None:
    x = _random() * 100
    t = encode(x, Encoding.FP16)
    assert t.encoding is Encoding.FP16 and t.nbytes == 2 * x.size
    np.testing.assert_allclose(decode(t), x, rtol=1e-3, atol=0)


@pytest.mark.parametrize("shape", [SHAPE, (128,), (3, 5), (2, 3, 4, 7)])
def test_int8_error_at_most_half_a_scale_per_row(shape: tuple[int, ...]) -> None:
    x = _random(shape, seed=1) * np.float32(3.0)
    x.reshape(-1, shape[-1])[0] *= 1000  # rows of very different ranges
    t = encode(x, Encoding.INT8)
    rows = math.prod(shape[:-1])
    assert t.encoding is Encoding.INT8 and t.nbytes == x.size + 4 * rows
    scale = np.frombuffer(t.scales, "<f4")
    np.testing.assert_allclose(scale, np.abs(x.reshape(rows, -1)).max(axis=1) / 127, rtol=1e-6)
    err = np.abs(decode(t, shape) - x).reshape(rows, -1).max(axis=1)
    assert np.all(err <= scale / 2 * (1 + 1e-5))


def test_int8_zero_rows_get_scale_one_and_decode_to_zero() -> None:
    x = np.zeros((4, 16), np.float32)
    x[1] = np.linspace(-1, 1, 16)
    t = encode(x, Encoding.INT8)
    assert np.frombuffer(t.scales, "<f4")[[0, 2, 3]].tolist() == [1.0, 1.0, 1.0]
    y = decode(t)
    assert not y[[0, 2, 3]].any()
    assert y[1, 0] == -1.0 and y[1, -1] == 1.0  # the peak is exact


def test_int8_rounds_half_to_even() -> None:
    x = np.array([[127.0, 0.5, 1.5, 2.5, -0.5, -2.5]], np.float32)  # scale exactly 1.0
    q = np.frombuffer(encode(x, Encoding.INT8).data, np.int8)
    assert q.tolist() == [127, 0, 2, 2, 0, -2]


def test_lz4_chosen_when_it_shrinks_the_payload() -> None:
    x = _compressible()
    t = encode(x, Encoding.INT8_LZ4)
    plain = encode(x, Encoding.INT8)
    assert t.encoding is Encoding.INT8_LZ4
    assert len(t.data) < len(plain.data) and t.scales == plain.scales
    assert lz4.frame.get_frame_info(t.data)["content_checksum"]
    np.testing.assert_array_equal(decode(t, x.shape), decode(plain, x.shape))


def test_lz4_falls_back_to_int8_on_random_data() -> None:
    x = _random((1, 64, 128), seed=2)
    t = encode(x, Encoding.INT8_LZ4)
    assert t == encode(x, Encoding.INT8)


def test_empty_tensor_round_trips() -> None:
    for encoding in (Encoding.FP32, Encoding.FP16, Encoding.INT8, Encoding.INT8_LZ4):
        assert decode(encode(np.zeros((0, 8), np.float32), encoding)).shape == (0, 8)


def test_digest_covers_data_and_scales() -> None:
    t = encode(_random(), Encoding.INT8)
    assert t.digest == content_hash(t.data + t.scales) and len(t.digest) == 32


# --- encode rejects ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_encode_rejects_non_finite(value: float) -> None:
    x = _random()
    x[0, 3, 5] = value
    with pytest.raises(WireError, match="1 non-finite"):
        encode(x, Encoding.INT8)


@pytest.mark.parametrize("encoding", [Encoding.IMAGE, Encoding.PNG, Encoding.CACHE_REF, "fp16"])
def test_encode_rejects_non_tensor_encodings(encoding: Encoding) -> None:
    with pytest.raises(WireError, match="not a tensor encoding"):
        encode(_random(), encoding)


def test_encode_rejects_wrong_dtype_scalar_and_fp16_overflow() -> None:
    with pytest.raises(WireError, match="float32 ndarray, got float64"):
        encode(np.zeros(3), Encoding.FP32)
    with pytest.raises(WireError, match="float32 ndarray, got a list object"):
        encode([1.0], Encoding.FP32)  # type: ignore[arg-type]
    with pytest.raises(WireError, match="ndim >= 1"):
        encode(np.array(1.0, np.float32), Encoding.FP32)
    with pytest.raises(WireError, match="overflows FP16"):
        encode(np.array([7e4], np.float32), Encoding.FP16)


# --- decode rejects ---------------------------------------------------------------------------


def test_decode_rejects_bad_digest() -> None:
    t = encode(_random(), Encoding.FP16)
    flipped = bytes([t.data[0] ^ 1]) + t.data[1:]
    with pytest.raises(WireError, match="content hash mismatch"):
        decode(dataclasses.replace(t, data=flipped))
    with pytest.raises(WireError, match="content hash mismatch"):
        decode(dataclasses.replace(t, digest="0" * 32))


def test_decode_rejects_shape_problems() -> None:
    t = encode(_random(), Encoding.FP32)
    with pytest.raises(WireError, match=r"tensor shape \(1, 9, 128\), expected \(9, 128\)"):
        decode(t, (9, 128))
    for shape in [(), [1, 9, 128], (1, -9, 128), (1.0, 9, 128)]:
        with pytest.raises(WireError, match="is invalid"):
            decode(dataclasses.replace(t, shape=shape))  # type: ignore[arg-type]


def test_decode_rejects_unknown_encoding() -> None:
    t = encode(_random(), Encoding.FP32)
    with pytest.raises(WireError, match="not a tensor encoding"):
        decode(dataclasses.replace(t, encoding=Encoding.CACHE_REF))


def test_decode_rejects_wrong_sizes() -> None:
    t = encode(_random(), Encoding.INT8)
    with pytest.raises(WireError, match=r"INT8 payload has 1100 bytes, shape \(1, 9, 128\) "
                                        r"needs 1152"):
        decode(_rehash(t, data=t.data[:1100]))
    with pytest.raises(WireError, match="INT8 scales payload has 32 bytes.*needs 36"):
        decode(_rehash(t, scales=t.scales[:32]))
    with pytest.raises(WireError, match="INT8 payload has 1152 bytes.*needs 2304"):
        decode(_rehash(t, shape=(1, 9, 256)))
    f = encode(_random(), Encoding.FP32)
    with pytest.raises(WireError, match="FP32 payload has 4604 bytes.*needs 4608"):
        decode(_rehash(f, data=f.data[:-4]))
    with pytest.raises(WireError, match="FP32 tensor carries 4 scale bytes"):
        decode(_rehash(f, scales=b"\0\0\x80?"))
    h = encode(_random(), Encoding.FP16)
    with pytest.raises(WireError, match="FP32 payload has 2304 bytes.*needs 4608"):
        decode(_rehash(h, encoding=Encoding.FP32))


def test_decode_rejects_non_finite_payload() -> None:
    t = encode(np.ones((2, 4), np.float32), Encoding.INT8)
    bad_scales = np.array([1.0, np.inf], "<f4").tobytes()
    with pytest.raises(WireError, match="4 non-finite values"):
        decode(_rehash(t, scales=bad_scales))
    f = encode(np.ones((2, 4), np.float32), Encoding.FP32)
    with pytest.raises(WireError, match="1 non-finite"):
        decode(_rehash(f, data=np.array([np.nan] + [1.0] * 7, "<f4").tobytes()))


def test_decode_rejects_broken_lz4_frames() -> None:
    x = _compressible()
    t = encode(x, Encoding.INT8_LZ4)
    n = x.size
    corrupt = bytearray(t.data)
    corrupt[-1] ^= 0xFF  # the content checksum
    cases = {
        "not a valid lz4 frame.*contentChecksum": bytes(corrupt),
        "not a valid lz4 frame": b"garbage!" + t.data,
        f"truncated after .* needs {n}": t.data[:-4],
        "2 bytes after the end of the frame": t.data + b"xx",
        f"holds more than {n} bytes": lz4.frame.compress(bytes(n + 10), content_checksum=True),
        f"holds {n - 1} bytes.*needs {n}": lz4.frame.compress(bytes(n - 1), content_checksum=True),
    }
    for pattern, data in cases.items():
        with pytest.raises(WireError, match=pattern):
            decode(_rehash(t, data=data))


def test_wire_error_is_a_value_error() -> None:
    assert issubclass(WireError, ValueError)

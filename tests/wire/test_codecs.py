"""The codec registry: every tensor encoding, through the same contract (wire/codecs.py)."""

from __future__ import annotations

import numpy as np
import pytest

from splitvlm.wire import WireError, decode, encode
from splitvlm.wire.codecs import CODECS, PLANNED_ENCODINGS, TENSOR_ENCODINGS, Encoding, codec

SHAPES = [(1, 9, 128), (1, 64, 32), (3, 5), (7,)]


@pytest.mark.parametrize("encoding", TENSOR_ENCODINGS)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_within_the_codecs_resolution(encoding: Encoding, shape: tuple[int, ...]
                                                 ) -> None:
    x = (np.random.default_rng(0).standard_normal(shape) * 3).astype(np.float32)
    t = encode(x, encoding)
    y = decode(t, shape)
    assert y.dtype == np.float32 and y.shape == shape
    rows = x.reshape(-1, shape[-1])
    bound = codec(encoding).resolution * np.abs(rows).max(axis=1, keepdims=True) + 1e-6
    assert np.all(np.abs(rows - y.reshape(rows.shape)) <= bound)
    assert t.encoding in codec(encoding).arrives_as


@pytest.mark.parametrize("encoding", TENSOR_ENCODINGS)
def test_nbytes_is_what_an_uncompressed_tensor_sends(encoding: Encoding) -> None:
    x = np.random.default_rng(1).standard_normal((1, 9, 128)).astype(np.float32)
    chosen, t = codec(encoding), encode(x, encoding)
    if chosen.compressed:
        assert t.nbytes <= chosen.nbytes(x.shape)  # compressed only when that shrinks it
    else:
        assert t.nbytes == chosen.nbytes(x.shape)


@pytest.mark.parametrize("encoding", TENSOR_ENCODINGS)
def test_a_truncated_payload_is_rejected(encoding: Encoding) -> None:
    x = np.zeros((1, 9, 128), np.float32)  # compresses: lz4 frames are checked too
    t = encode(x, encoding)
    with pytest.raises(WireError):
        codec(t.encoding).decode(t.data[:-1], t.scales, t.shape)


def test_the_registry_names_only_tensor_encodings() -> None:
    assert set(CODECS) == {e for e in Encoding if e.is_tensor}
    assert not any(e.is_tensor for e in (Encoding.IMAGE, Encoding.PNG, Encoding.CACHE_REF))
    assert set(PLANNED_ENCODINGS) <= set(TENSOR_ENCODINGS)
    assert all(c.encoding is e for e, c in CODECS.items())
    with pytest.raises(WireError, match="not a tensor encoding; expected one of FP32"):
        codec(Encoding.PNG)


def test_int4_packs_two_values_a_byte() -> None:
    x = np.array([[7.0, -7.0, 3.0], [0.6, -1.0, 0.3]], np.float32)  # peaks 7 and 1
    t = encode(x, Encoding.INT4)
    assert len(t.data) == 3 and len(t.scales) == 2 * 4  # 6 values in 3 bytes; a scale a row
    assert t.data[0] == (7 | (0x9 << 4))  # 7, then -7 as two's complement 0x9
    np.testing.assert_allclose(decode(t, x.shape), [[7, -7, 3], [4 / 7, -1, 2 / 7]],
                               atol=1e-6)
    assert codec(Encoding.INT4).nbytes((1, 9, 32)) == 144 + 36  # the codes: 9 x 32 values

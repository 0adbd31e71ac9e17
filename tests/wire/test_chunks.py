"""split / Reassembler: payloads over 1 MiB, and every way a stream can go wrong."""

from __future__ import annotations

import os

import pytest

from splitvlm.wire import CHUNK_BYTES, Reassembler, WireError, split


def _reassemble(chunks: list[bytes], total: int) -> bytes:
    r = Reassembler()
    done = [r.feed(i, c, total) for i, c in enumerate(chunks)]
    assert done == [False] * (len(chunks) - 1) + [True]
    return r.result()


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, 2 * CHUNK_BYTES + 17])
def test_split_and_reassemble_round_trip(size: int) -> None:
    payload = os.urandom(size)
    chunks = split(payload)
    assert len(chunks) == max(1, -(-size // CHUNK_BYTES))
    assert all(len(c) == CHUNK_BYTES for c in chunks[:-1])
    assert _reassemble(chunks, size) == payload


def test_split_with_small_chunks() -> None:
    assert split(b"abcdefg", 3) == [b"abc", b"def", b"g"]
    assert split(b"", 3) == [b""]
    with pytest.raises(ValueError, match="chunk_bytes=0"):
        split(b"abc", 0)


def test_out_of_order_and_duplicate_chunks() -> None:
    r = Reassembler()
    with pytest.raises(WireError, match="out-of-order chunk 1; expected chunk 0"):
        r.feed(1, b"b", 3)
    r.feed(0, b"a", 3)
    with pytest.raises(WireError, match="duplicate chunk 0; expected chunk 1"):
        r.feed(0, b"a", 3)
    with pytest.raises(WireError, match="out-of-order chunk -1"):
        r.feed(-1, b"a", 3)


def test_overflow_and_changed_total() -> None:
    r = Reassembler()
    r.feed(0, b"ab", 3)
    with pytest.raises(WireError, match="to 4 bytes, past the declared 3"):
        r.feed(1, b"cd", 3)
    with pytest.raises(WireError, match="total of 4 bytes; earlier chunks declared 3"):
        r.feed(1, b"cd", 4)
    r.feed(1, b"c", 3)
    with pytest.raises(WireError, match="after the payload of 3 bytes was complete"):
        r.feed(2, b"", 3)
    assert r.result() == b"abc"


def test_size_cap_and_negative_total() -> None:
    with pytest.raises(WireError, match="declares 11 bytes, over the cap of 10"):
        Reassembler(max_bytes=10).feed(0, b"x", 11)
    with pytest.raises(WireError, match="declared total -1"):
        Reassembler().feed(0, b"", -1)
    with pytest.raises(ValueError, match="max_bytes=-1"):
        Reassembler(max_bytes=-1)


def test_result_while_incomplete() -> None:
    r = Reassembler()
    with pytest.raises(WireError, match="0 bytes no size declared in 0 chunks"):
        r.result()
    r.feed(0, b"ab", 5)
    assert not r.complete
    with pytest.raises(WireError, match="incomplete: 2 bytes of 5 in 1 chunks"):
        r.result()

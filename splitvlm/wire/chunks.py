"""Chunking: a payload over 1 MiB streams as a sequence of chunks, reassembled in order.

    sender:    for i, chunk in enumerate(split(payload)): send(i, chunk, len(payload))
    receiver:  r = Reassembler(); for msg in stream: r.feed(msg.index, msg.chunk, msg.total)
               payload = r.result()

Every chunk message declares the payload's total size; the receiver checks order, the declared
total, and a size cap before it buffers anything, so a bad stream costs at most `max_bytes`.
"""

from __future__ import annotations

from splitvlm.errors import WireError

CHUNK_BYTES = 1 << 20  # 1 MiB: payloads larger than this stream in chunks
MAX_PAYLOAD_BYTES = 64 << 20  # default cap on one reassembled payload


def split(payload: bytes, chunk_bytes: int = CHUNK_BYTES) -> list[bytes]:
    """`payload` cut into chunks of `chunk_bytes` (the last may be shorter); b"" gives [b""]."""
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes={chunk_bytes}; expected a positive number of bytes")
    if not payload:
        return [b""]
    view = memoryview(payload)
    return [bytes(view[i : i + chunk_bytes]) for i in range(0, len(payload), chunk_bytes)]


class Reassembler:
    """Collects the chunks of one payload, in order, up to `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes={max_bytes}; expected a number of bytes >= 0")
        self.max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._received = 0  # bytes so far
        self._total: int | None = None  # declared by the first chunk

    @property
    def complete(self) -> bool:
        return bool(self._parts) and self._received == self._total

    def feed(self, index: int, chunk: bytes, total_bytes: int) -> bool:
        """Add chunk number `index` (0-based) of a payload of `total_bytes`; True once complete."""
        self._check_total(total_bytes)
        expected = len(self._parts)
        if self.complete:
            raise WireError(f"chunk {index} arrived after the payload of {total_bytes} bytes "
                            f"was complete in {expected} chunks")
        if index != expected:
            what = "duplicate" if 0 <= index < expected else "out-of-order"
            raise WireError(f"{what} chunk {index}; expected chunk {expected}")
        if self._received + len(chunk) > total_bytes:
            raise WireError(f"chunk {index} brings the payload to {self._received + len(chunk)} "
                            f"bytes, past the declared {total_bytes}")
        self._parts.append(bytes(chunk))
        self._received += len(chunk)
        return self.complete

    def result(self) -> bytes:
        """The whole payload; WireError while chunks are missing."""
        if not self.complete:
            declared = "no size declared" if self._total is None else f"of {self._total}"
            raise WireError(f"payload incomplete: {self._received} bytes {declared} in "
                            f"{len(self._parts)} chunks")
        return b"".join(self._parts)

    def _check_total(self, total_bytes: int) -> None:
        if total_bytes < 0:
            raise WireError(f"declared total {total_bytes} bytes; expected >= 0")
        if total_bytes > self.max_bytes:
            raise WireError(f"payload declares {total_bytes} bytes, over the cap of "
                            f"{self.max_bytes}")
        if self._total is None:
            self._total = total_bytes
        elif total_bytes != self._total:
            raise WireError(f"chunk declares a total of {total_bytes} bytes; earlier chunks "
                            f"declared {self._total}")

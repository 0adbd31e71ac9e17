"""The one error the wire layer raises.

    ValueError
     └── WireError   a payload that cannot be trusted or decoded: bad hash, wrong size,
                     broken lz4 frame, shape mismatch, chunks out of order, over a size cap

A WireError is not recoverable by retrying the decode; the receiver rejects the message (a
server maps it to INVALID_ARGUMENT / DATA_LOSS) and the sender may resend.
"""

from __future__ import annotations


class WireError(ValueError):
    """A tensor or chunk stream failed validation; the message says what was expected."""

"""The wire layer: what a boundary tensor looks like between tiers.

    tensors.py   WireTensor, encode / decode (FP32, FP16, INT8 per-token scale, INT8 in lz4)
    chunks.py    split / Reassembler for payloads streamed in 1 MiB chunks
    hashing.py   content_hash (blake2b-128, used everywhere), feature_key (cache keys)
    errors.py    WireError (a ValueError) for every payload that fails validation

No grpc and no torch here: the proto conversion lives with the services.
"""

from splitvlm.wire.chunks import CHUNK_BYTES, MAX_PAYLOAD_BYTES, Reassembler, split
from splitvlm.wire.errors import WireError
from splitvlm.wire.hashing import content_hash, feature_key
from splitvlm.wire.tensors import WireTensor, decode, encode

__all__ = [
    "CHUNK_BYTES",
    "MAX_PAYLOAD_BYTES",
    "Reassembler",
    "WireError",
    "WireTensor",
    "content_hash",
    "decode",
    "encode",
    "feature_key",
    "split",
]

"""The wire layer: what a boundary tensor looks like between tiers.

    codecs.py    Encoding, and the codec of each tensor encoding (the registry: CODECS)
    tensors.py   WireTensor, encode / decode through the codecs, checked
    chunks.py    split / Reassembler for payloads streamed in 1 MiB chunks
    hashing.py   content_hash (blake2b-128, used everywhere), feature_key (cache keys)
    (errors: WireError and ChecksumMismatch, from splitvlm.errors)

No grpc and no torch here: the proto conversion lives with the services.
"""

from splitvlm.errors import WireError
from splitvlm.wire.chunks import CHUNK_BYTES, MAX_PAYLOAD_BYTES, Reassembler, split
from splitvlm.wire.codecs import CODECS, Encoding, codec
from splitvlm.wire.hashing import content_hash, feature_key
from splitvlm.wire.tensors import WireTensor, decode, encode

__all__ = [
    "CODECS",
    "Encoding",
    "codec",
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

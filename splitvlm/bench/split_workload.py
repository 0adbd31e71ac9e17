"""The `bench split` workload: camera originals and held-out-style questions, every type alike.

Request i asks a question of type QTYPES[i % 9] about a fresh scene drawn from seed stream
`BENCH_STREAM` (never used by training, the held-out set, the examples, the start-up
measurement or the other benchmarks). Each image is a camera original: rendered at 512x512
with sensor noise (sigma 4), sent as JPEG quality 90 (about 40 KB), as a deployed edge gets it.
"""

from __future__ import annotations

from dataclasses import dataclass

from splitvlm.data.camera import camera_image, encode_image
from splitvlm.data.questions import QTYPES, sample_qa
from splitvlm.data.sets import rng_for

BENCH_STREAM = 7
WARMUP_INDEX = 1_000_000  # warm-up requests come from the same stream, far from the measured


@dataclass(frozen=True)
class BenchRequest:
    index: int
    qtype: str
    question: str
    answer: str  # the generator's answer: correct = exact match after normalising
    image: bytes  # as a client sends it: bench split's are JPEGs of 512x512 camera originals


def bench_request(index: int) -> BenchRequest:
    qtype = QTYPES[index % len(QTYPES)]
    rng = rng_for(BENCH_STREAM, index)
    scene, qa = sample_qa(qtype, rng)
    return BenchRequest(index, qtype, qa.question, qa.answer,
                        encode_image(camera_image(scene, rng)))


def workload(n: int) -> list[BenchRequest]:
    """`n` requests, question types cycled (n = 36: four of each of the nine types)."""
    if n < 1:
        raise ValueError(f"n={n}; expected at least one request")
    return [bench_request(i) for i in range(n)]


def of_type(qtype: str, n: int) -> list[BenchRequest]:
    """`n` requests of one question type (distinct scenes), from the same stream."""
    if qtype not in QTYPES:
        raise ValueError(f"qtype={qtype!r}; expected one of {list(QTYPES)}")
    return [bench_request(k * len(QTYPES) + QTYPES.index(qtype)) for k in range(n)]


def warmup(n: int) -> list[BenchRequest]:
    return [bench_request(WARMUP_INDEX + i) for i in range(n)]

"""A fuzzed contract: Hypothesis generates every request message of EdgeService and
TierService — random and boundary field values, corrupt tensors, wrong shapes, broken lz4
frames, truncated chunk streams, bad cache references — against the three tiers as processes.
Every answer is a documented status, never UNKNOWN or INTERNAL; afterwards every server is
alive, answers a good request as before, and its feature cache holds no corrupted entry.

    SPLITVLM_FUZZ_EXAMPLES=20000 pytest tests/service/test_fuzz.py    # a longer run
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from splitvlm.data import sets
from splitvlm.data.camera import encode_image
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.executor import Payload
from splitvlm.executor.builders import visual_meta
from splitvlm.plan.named import named_plan
from splitvlm.processes import ProcessCluster, start_cluster
from splitvlm.service.convert import payload_to_pb, plan_to_pb
from splitvlm.stages import StageGraph
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire import encode
from splitvlm.wire.codecs import CODECS

EXAMPLES = int(os.environ.get("SPLITVLM_FUZZ_EXAMPLES", "1000"))
S = grpc.StatusCode
DOCUMENTED = {S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND, S.FAILED_PRECONDITION,
              S.PERMISSION_DENIED, S.DATA_LOSS, S.RESOURCE_EXHAUSTED, S.UNAVAILABLE,
              S.DEADLINE_EXCEEDED}  # never UNKNOWN or INTERNAL
MAX_PAYLOAD_BYTES = 64 << 10
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def cluster(checkpoints: Path) -> Iterator[ProcessCluster]:
    running = start_cluster(env={"SPLITVLM_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD_BYTES)})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def graph(checkpoints: Path) -> StageGraph:
    return visual_meta(checkpoints)[0]


SAMPLE = sets.held_out_set(per_type=1)[0]
PNG = encode_image(SAMPLE.image(), "PNG")
JPEG = encode_image(SAMPLE.image(512), "JPEG")
WORDS = [w for w in Tokenizer().words if not w.startswith("<")]
ints = st.one_of(st.integers(-3, 40), st.sampled_from([-(2**31), 2**31 - 1, 0, 24, 25]))
texts = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(WORDS), max_size=12).map(
    " ".join), st.sampled_from(["describe the image", "How many circles are there?", ""]))


def _mutated(data: bytes) -> st.SearchStrategy[bytes]:
    """`data`, truncated, with a byte flipped, or doubled."""
    return st.one_of(
        st.just(data), st.integers(0, max(len(data) - 1, 0)).map(lambda n: data[:n]),
        st.integers(0, max(len(data) - 1, 0)).map(
            lambda i: data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1:] if data else data),
        st.just(data + data))


images = st.one_of(_mutated(PNG), _mutated(JPEG), st.binary(max_size=200),
                   st.just(b""), st.just(bytes(MAX_PAYLOAD_BYTES + 1)))
plan_names = st.one_of(st.sampled_from(["", "auto", "auto:fixed", "edge-only", "fog-all",
                                        "cloud-all", "edge-vision+fog-lm", "split-3",
                                        "cascade-fog", "cascade-cloud@0.5", "cascade-fog@9",
                                        "split-99"]), st.text(max_size=120))


@st.composite
def ask_requests(draw: st.DrawFn) -> edge_pb2.AskRequest:
    return edge_pb2.AskRequest(
        image=draw(images), image_key=draw(st.one_of(st.just(""), st.text(max_size=40))),
        question=draw(texts), plan_name=draw(plan_names),
        policies=draw(st.lists(st.integers(0, 5), max_size=3)), preset=draw(st.integers(0, 6)),
        max_new_tokens=draw(ints), no_cache=draw(st.booleans()))


@st.composite
def tensors(draw: st.DrawFn, shape: tuple[int, ...]) -> wire_pb2.Payload:
    """A payload of a real tensor of `shape` (or another), then corrupted or not."""
    encoding = draw(st.sampled_from(list(CODECS)))
    value = np.random.default_rng(draw(st.integers(0, 9))).standard_normal(shape)
    payload = payload_to_pb(Payload(0, (t := encode(value.astype(np.float32), encoding)).encoding,
                                    tensor=t))
    corruption = draw(st.sampled_from(["none", "data", "scales", "digest", "shape",
                                       "encoding", "lz4"]))
    tensor = payload.tensor
    if corruption == "data":
        tensor.data = draw(_mutated(tensor.data))
    elif corruption == "scales":
        tensor.scales = draw(_mutated(tensor.scales))
    elif corruption == "digest":
        tensor.digest = draw(st.text(max_size=40))
    elif corruption == "shape":
        del tensor.shape[:]
        tensor.shape.extend(draw(st.lists(st.integers(-2, 10**9), max_size=5)))
    elif corruption == "encoding":
        payload.encoding = draw(st.integers(0, 12))
    elif corruption == "lz4":
        payload.encoding = wire_pb2.ENCODING_INT8_LZ4
        tensor.data = b"\x04\x22\x4d\x18" + draw(st.binary(max_size=64))
    return payload


MUTATIONS = ("plan", "payload", "body", "question", "tokens", "image_key", "payload_bytes",
             "policies", "request_id", "chunks", "headerless", "truncated")


@st.composite
def execute_calls(draw: st.DrawFn, graph: StageGraph) -> list[tier_pb2.ExecuteChunk]:
    """A well-formed Execute call, then none, one or two of its parts broken (MUTATIONS)."""
    name = draw(st.sampled_from(["edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all",
                                 "cloud-all", "split-2", "split-0"]))
    plan = named_plan(name, graph)
    cut = plan.cut(0)
    tensor = plan.encodings[0].is_tensor
    payload = (draw(tensors((1, *graph.boundary(cut).shape))) if tensor else
               payload_to_pb(Payload(cut, plan.encodings[0], image=PNG)))
    payload.cut = cut
    header = tier_pb2.ExecuteHeader(
        plan=plan_to_pb(plan, with_forecast=False), question=SAMPLE.qa.question,
        max_new_tokens=draw(st.integers(0, 24)))
    if tensor:
        header.plan.encodings[0] = payload.encoding  # the codec drawn (or a corrupt one)
    broken = draw(st.lists(st.sampled_from(MUTATIONS), max_size=2, unique=True))
    if "plan" in broken:
        header.plan.steps[draw(st.integers(0, len(header.plan.steps) - 1))].CopyFrom(
            wire_pb2.Step(tier=draw(st.integers(0, 4)), precision=draw(st.integers(0, 3)),
                          stages=wire_pb2.StageRange(start=draw(ints), stop=draw(ints))))
        if draw(st.booleans()):
            header.plan.encodings[:] = draw(st.lists(st.integers(0, 10), max_size=3))
    if "payload" in broken:
        payload.cut = draw(ints)
        if draw(st.booleans()):
            payload.cache_key = draw(st.text(max_size=64))  # the oneof: now a cache reference
            payload.encoding = draw(st.integers(0, 10))
    if "question" in broken:
        header.question = draw(texts)
    if "tokens" in broken:
        header.max_new_tokens = draw(ints)
    if "image_key" in broken:
        header.image_key = draw(st.text(max_size=70))
    if "policies" in broken:
        header.policies[:] = draw(st.lists(st.integers(0, 4), max_size=2))
    if "request_id" in broken:
        header.request_id = draw(st.text(max_size=70))
    body = (draw(st.binary(max_size=80)) if "body" in broken else payload.SerializeToString())
    header.payload_bytes = draw(ints) if "payload_bytes" in broken else len(body)
    size = draw(st.integers(1, max(len(body), 1))) if "chunks" in broken else len(body) or 1
    chunks = [tier_pb2.ExecuteChunk(chunk=body[i:i + size])
              for i in range(0, len(body), size)] or [tier_pb2.ExecuteChunk()]
    if "headerless" not in broken:
        chunks[0].header.CopyFrom(header)
    if "truncated" in broken:
        chunks = chunks[:draw(st.integers(0, len(chunks) - 1))]
    return chunks


def _code(call: object) -> grpc.StatusCode:
    try:
        list(call)  # type: ignore[call-overload]
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return S.OK


def test_every_ask_request_gets_a_documented_status(cluster: ProcessCluster) -> None:
    seen: Counter[grpc.StatusCode] = Counter()
    with grpc.insecure_channel(cluster.edge) as channel:
        stub = edge_pb2_grpc.EdgeServiceStub(channel)

        @FUZZ
        @given(ask_requests())
        def ask(request: edge_pb2.AskRequest) -> None:
            code = _code(stub.Ask(request, timeout=20))
            seen[code] += 1
            assert code in DOCUMENTED, (code, request)

        ask()
    assert {S.OK, S.INVALID_ARGUMENT, S.NOT_FOUND} <= set(seen), seen  # it reached them all
    _still_serving(cluster)


@pytest.mark.parametrize("tier", ["fog", "cloud"])
def test_every_execute_call_gets_a_documented_status(cluster: ProcessCluster, graph: StageGraph,
                                                     tier: str) -> None:
    seen: Counter[grpc.StatusCode] = Counter()
    with grpc.insecure_channel(cluster.tiers[tier].target) as channel:
        stub = tier_pb2_grpc.TierServiceStub(channel)

        @FUZZ
        @given(execute_calls(graph))
        def execute(chunks: list[tier_pb2.ExecuteChunk]) -> None:
            code = _code(stub.Execute(iter(chunks), timeout=20))
            seen[code] += 1
            assert code in DOCUMENTED, (code, chunks[:1])

        execute()
    assert {S.OK, S.INVALID_ARGUMENT, S.DATA_LOSS} <= set(seen), seen
    _still_serving(cluster)


def test_every_probe_and_status_gets_a_documented_status(cluster: ProcessCluster) -> None:
    with grpc.insecure_channel(cluster.tiers["fog"].target) as channel:
        stub = tier_pb2_grpc.TierServiceStub(channel)

        @FUZZ
        @given(st.binary(max_size=256), st.one_of(ints, st.just(9 << 20)))
        def probe(payload: bytes, reply_bytes: int) -> None:
            try:
                stub.Probe(tier_pb2.ProbeRequest(payload=payload, reply_bytes=reply_bytes),
                           timeout=10)
                stub.Status(tier_pb2.StatusRequest(), timeout=10)
            except grpc.RpcError as exc:
                assert exc.code() in DOCUMENTED, exc

        probe()
    _still_serving(cluster)


def _still_serving(cluster: ProcessCluster) -> None:
    """Every process alive, a good request answered, no corrupted cache entry at the fog."""
    assert all(t.proc.poll() is None for t in cluster.tiers.values())
    with grpc.insecure_channel(cluster.edge) as channel:
        events = list(edge_pb2_grpc.EdgeServiceStub(channel).Ask(edge_pb2.AskRequest(
            image=PNG, question=SAMPLE.qa.question, plan_name="edge-vision+fog-lm"),
            timeout=20))
    assert " ".join(e.token.text for e in events if e.HasField("token")) == SAMPLE.qa.answer
    with grpc.insecure_channel(cluster.tiers["fog"].target) as channel:
        status = tier_pb2_grpc.TierServiceStub(channel).Status(tier_pb2.StatusRequest())
    assert status.cache.corrupted == 0

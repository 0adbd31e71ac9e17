"""Bad input gets INVALID_ARGUMENT with a message that says what to fix, and the same server
answers the next good request: through the Edge API (the SDK) and the Tier API (raw chunks)."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

from splitvlm.data import sets
from splitvlm.data.camera import encode_image
from splitvlm.executor import Payload
from splitvlm.executor.builders import visual_meta
from splitvlm.plan.named import named_plan
from splitvlm.plan.plan import Plan, Step, Tier
from splitvlm.processes import ProcessCluster, start_cluster
from splitvlm.sdk import BadRequest, Client
from splitvlm.service.convert import payload_to_pb, plan_to_pb
from splitvlm.stages import MAX_ANSWER_TOKENS, StageGraph
from splitvlm.v1 import edge_pb2, edge_pb2_grpc, tier_pb2, tier_pb2_grpc, wire_pb2
from splitvlm.wire import WireTensor, content_hash, encode
from splitvlm.wire.codecs import Encoding

MAX_PAYLOAD_BYTES = 4096  # every tier's cap: an image or boundary payload larger is refused
PLAN = "edge-vision+fog-lm"


@pytest.fixture(scope="module")
def cluster(checkpoints: Path) -> Iterator[ProcessCluster]:
    running = start_cluster(env={"SPLITVLM_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD_BYTES)})
    yield running
    running.stop()
    for tier in running.tiers.values():  # ProcessCluster.stop leaves the pipes open
        if tier.proc.stdout is not None:
            tier.proc.stdout.close()


@pytest.fixture(scope="module")
def graph(checkpoints: Path) -> StageGraph:
    return visual_meta(checkpoints)[0]


@pytest.fixture(scope="module")
def sample() -> sets.Sample:
    return next(s for s in sets.held_out_set(per_type=1) if s.qa.qtype == "color")


# --- Edge API -------------------------------------------------------------------------------

EDGE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "undecodable image": ({"image": b"GIF89a not really"}, "cannot decode 17 image bytes"),
    "empty image": ({"image": b""}, "image is empty"),
    "empty question": ({"question": "  "}, "question is empty"),
    "unknown words": ({"question": "what colour is the blob ?"},
                      "unknown word(s) ['colour', 'blob']"),
    "oversized image": ({"image": bytes(MAX_PAYLOAD_BYTES + 1)}, "over the limit of 4096"),
    "unknown plan": ({"plan": "warp-drive"}, "unknown plan 'warp-drive'; named plans are"),
    "too many tokens": ({"max_new_tokens": 1000}, "max_new_tokens=1000; allowed 0..24"),
    "one token too many": ({"max_new_tokens": MAX_ANSWER_TOKENS + 1},
                           f"max_new_tokens={MAX_ANSWER_TOKENS + 1}; allowed 0.."),
    # the edge only relays the image; the cloud finds it undecodable and the status comes back
    "undecodable at the cloud": ({"image": b"\x89PNG junk", "plan": "cloud-all"},
                                 "cannot decode 9 image bytes"),
}


@pytest.mark.parametrize("case", EDGE_CASES, ids=list(EDGE_CASES))
def test_edge_rejects_bad_ask_then_answers(cluster: ProcessCluster, sample: sets.Sample,
                                           case: str) -> None:
    changes, message = EDGE_CASES[case]
    good: dict[str, Any] = {"image": encode_image(sample.image(), "PNG"),
                            "question": sample.qa.question, "plan": PLAN}
    with Client(cluster.edge) as client:
        with pytest.raises(BadRequest, match=re.escape(message)) as caught:
            ask: dict[str, Any] = {**good, **changes}
            client.ask(ask.pop("image"), ask.pop("question"), deadline_s=10, **ask)
        cause = caught.value.__cause__
        assert isinstance(cause, grpc.RpcError)
        assert cause.code() is grpc.StatusCode.INVALID_ARGUMENT
        answer = client.ask(good.pop("image"), good.pop("question"), deadline_s=10, **good)
    assert answer.plan.name.startswith(PLAN)  # "+cache" once the fog holds the image


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels and stops after its header (a bomb's start)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


S = grpc.StatusCode
# AskRequest fields as any client may send them (the SDK would refuse some itself)
RAW_EDGE_CASES: dict[str, tuple[dict[str, Any], grpc.StatusCode, str]] = {
    "unknown policy": ({"policies": [9]}, S.INVALID_ARGUMENT, "policies is unknown Policy 9"),
    "unknown preset": ({"preset": 9}, S.INVALID_ARGUMENT, "preset is unknown Preset 9"),
    "negative token limit": ({"max_new_tokens": -1}, S.INVALID_ARGUMENT,
                             "max_new_tokens=-1; allowed 0..24"),
    "unknown image key": ({"image": b"", "image_key": "f" * 32}, S.NOT_FOUND,
                          "is not held by this edge"),
    "plan name too long": ({"plan_name": "x" * 500}, S.INVALID_ARGUMENT,
                           "plan_name is 500 characters; at most 100"),
    "question too long": ({"question": "red " * 300}, S.INVALID_ARGUMENT,
                          "question is 1200 characters; the limit is 1000"),
    "control characters": ({"question": "what\x00color is it ?"}, S.INVALID_ARGUMENT,
                           "unknown word(s)"),
    "too many pixels": ({"image": png_header(9_000, 9_000)}, S.INVALID_ARGUMENT,
                        "image is 9000x9000 = 81 megapixels, over the limit of 50"),
    "a bomb of a header": ({"image": png_header(40_000, 40_000)}, S.INVALID_ARGUMENT,
                           "image is over the limit of 50 megapixels"),
    "unknown cascade tier": ({"plan_name": "cascade-edge"}, S.INVALID_ARGUMENT,
                             "unknown plan 'cascade-edge'"),
    "split past the encoder": ({"plan_name": "split-99"}, S.INVALID_ARGUMENT,
                               "unknown plan 'split-99'"),
    "cascade threshold out of range": ({"plan_name": "cascade-fog@7"}, S.INVALID_ARGUMENT,
                                       "cascade threshold=7.0; expected 0..1"),
}


@pytest.mark.parametrize("case", RAW_EDGE_CASES, ids=list(RAW_EDGE_CASES))
def test_every_ask_field_gets_its_documented_status(cluster: ProcessCluster,
                                                    sample: sets.Sample, case: str) -> None:
    changes, code, message = RAW_EDGE_CASES[case]
    fields: dict[str, Any] = {"image": encode_image(sample.image(), "PNG"),
                              "question": sample.qa.question, "plan_name": PLAN, **changes}
    with grpc.insecure_channel(cluster.edge) as channel:
        stub = edge_pb2_grpc.EdgeServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.Ask(edge_pb2.AskRequest(**fields), timeout=10))
        assert caught.value.code() is code, caught.value.details()
        assert message in (caught.value.details() or "")
        good = edge_pb2.AskRequest(image=encode_image(sample.image(), "PNG"),
                                   question=sample.qa.question, plan_name=PLAN)
        assert list(stub.Ask(good, timeout=10))[-1].HasField("answer")


def test_the_answer_token_limit_is_advertised_and_checked_before_any_stage_runs(
        cluster: ProcessCluster, sample: sets.Sample) -> None:
    with grpc.insecure_channel(cluster.edge) as channel:
        stub = tier_pb2_grpc.TierServiceStub(channel)
        before = stub.Status(tier_pb2.StatusRequest())
        assert before.max_answer_tokens == MAX_ANSWER_TOKENS
        assert before.downstream.max_answer_tokens == MAX_ANSWER_TOKENS  # the fog's, seen
        with Client(cluster.edge) as client, pytest.raises(BadRequest):
            client.ask(encode_image(sample.image(), "PNG"), sample.qa.question, plan=PLAN,
                       max_new_tokens=MAX_ANSWER_TOKENS + 1, no_cache=True)
        assert stub.Status(tier_pb2.StatusRequest()).vision_runs == before.vision_runs
        with Client(cluster.edge) as client:  # the limit itself is allowed, on every tier
            answer = client.ask(encode_image(sample.image(), "PNG"), sample.qa.question,
                                plan="edge-vision+cloud-lm", max_new_tokens=MAX_ANSWER_TOKENS,
                                no_cache=True)
        assert answer.text and answer.plan.name == "edge-vision+cloud-lm"


# --- Tier API, straight to the fog and the cloud -------------------------------------------

Chunks = list[tier_pb2.ExecuteChunk]
E = Tier.EDGE


def chunks(plan: wire_pb2.Plan, payload: wire_pb2.Payload) -> Chunks:
    """One Execute call's messages: the header with the first chunk, as GrpcForwarder sends."""
    body = payload.SerializeToString()
    header = tier_pb2.ExecuteHeader(plan=plan, question="describe the image", max_new_tokens=4,
                                    payload_bytes=len(body))
    return [tier_pb2.ExecuteChunk(header=header, chunk=body)]


def pixels_plan(pixels: np.ndarray | bytes, *steps: Step) -> Chunks:
    """A two-step plan with PNG pixels (or these bytes) at the hand-off."""
    image = pixels if isinstance(pixels, bytes) else encode_image(pixels, "PNG")
    png = Payload(steps[0].stop, Encoding.PNG, image=image)
    return chunks(plan_to_pb(Plan(steps, (Encoding.PNG,), "custom")), payload_to_pb(png))


def good(graph: StageGraph, pixels: np.ndarray | bytes, tier: Tier) -> Chunks:
    """The edge downscaled the image; `tier` runs the rest (the fog-all plan, or its cloud twin)."""
    return pixels_plan(pixels, Step(E, 0, 1), Step(tier, 1, graph.n_stages))


def visual_tokens(graph: StageGraph, tier: Tier, tensor: WireTensor,
                  shape: tuple[int, ...] | None = None) -> Chunks:
    """Visual tokens at cut `prefill` for `tier`'s LM (the tensor's shape said as `shape`)."""
    plan = named_plan(f"edge-vision+{tier}-lm", graph)
    payload = payload_to_pb(Payload(graph.prefill, tensor.encoding, tensor=tensor))
    if shape is not None:
        payload.tensor.ClearField("shape")
        payload.tensor.shape.extend(shape)
    if tensor.encoding is not Encoding.FP16:
        plan = Plan(plan.steps, (tensor.encoding,), plan.name)
    return chunks(plan_to_pb(plan), payload)


def int8(shape: tuple[int, ...], trim: int) -> WireTensor:
    t = encode(np.ones(shape, np.float32), Encoding.INT8)
    scales = t.scales[:len(t.scales) - trim]
    return WireTensor(t.encoding, t.shape, t.data, scales, content_hash(t.data, scales))


def lz4_junk(shape: tuple[int, ...]) -> WireTensor:
    t = encode(np.zeros(shape, np.float32), Encoding.INT8_LZ4)  # zeros: lz4 applies
    assert t.encoding is Encoding.INT8_LZ4
    data = b"\x04\x22\x4d\x18" + b"\xff" * 20  # a frame's magic, then nonsense
    return WireTensor(t.encoding, t.shape, data, t.scales, content_hash(data, t.scales))


def with_header(messages: Chunks, change: Callable[[tier_pb2.ExecuteHeader], object]) -> Chunks:
    change(messages[0].header)
    return messages


def at_cut(messages: Chunks, cut: int) -> Chunks:
    payload = wire_pb2.Payload.FromString(messages[0].chunk)
    payload.cut = cut
    return chunks(messages[0].header.plan, payload)


def fp16(shape: tuple[int, ...], trim: int = 0, digest: str = "") -> WireTensor:
    t = encode(np.zeros(shape, np.float32), Encoding.FP16)
    data = t.data[:len(t.data) - trim]
    return WireTensor(t.encoding, t.shape, data, b"", digest or content_hash(data, b""))


def unknown_encoding(messages: Chunks, where: str) -> Chunks:
    plan, payload = messages[0].header.plan, wire_pb2.Payload.FromString(messages[0].chunk)
    bad: Any = 99  # no such enum value; proto3 enums stay open
    if where == "plan":
        plan.encodings[0] = bad
    else:
        payload.encoding = bad
    return chunks(plan, payload)


def edit(messages: Chunks, **header: object) -> Chunks:
    """The first message with header fields (or `chunk`) replaced."""
    if "chunk" in header:
        messages[0].chunk = header.pop("chunk")  # type: ignore[assignment]
    for name, value in header.items():
        setattr(messages[0].header, name, value)
    return messages


def headless(messages: Chunks) -> Chunks:
    return [tier_pb2.ExecuteChunk(chunk=messages[0].chunk), *messages]


Build = Callable[[StageGraph, np.ndarray, Tier], Chunks]
# messages are regexes, formatted with g = the stage graph
TIER_CASES: dict[str, tuple[Build, str]] = {
    "wrong shape": (
        lambda g, p, t: visual_tokens(g, t, fp16((1, 5, g.visual_dim))),
        r"tensor shape \(1, 5, {g.visual_dim}\), expected \(1, {g.n_visual}, {g.visual_dim}\)"),
    "wrong byte count": (
        lambda g, p, t: visual_tokens(g, t, fp16((1, g.n_visual, g.visual_dim), trim=2)),
        r"FP16 payload has \d+ bytes, shape .* needs \d+"),
    "bad digest": (
        lambda g, p, t: visual_tokens(g, t, fp16((1, g.n_visual, g.visual_dim), digest="0" * 32)),
        "content hash mismatch"),
    "gap in stages": (
        lambda g, p, t: pixels_plan(p, Step(E, 0, 1), Step(t, 2, g.n_stages)),
        "covers 2..{g.n_stages}; expected to start at stage 1"),
    "stop past the end": (
        lambda g, p, t: pixels_plan(p, Step(E, 0, 1), Step(t, 1, g.n_stages + 2)),
        "the graph has {g.n_stages}"),
    "png at a token cut": (
        lambda g, p, t: pixels_plan(p, Step(E, 0, 3), Step(t, 3, g.n_stages)),
        "encoding png cannot carry the tokens at cut 3"),
    "unknown encoding in plan": (
        lambda g, p, t: unknown_encoding(good(g, p, t), "plan"),
        r"plan.encodings\[0\] is unknown Encoding 99; expected one of"),
    "unknown encoding in payload": (
        lambda g, p, t: unknown_encoding(good(g, p, t), "payload"),
        "payload.encoding is unknown Encoding 99"),
    "declared over the cap": (
        lambda g, p, t: edit(good(g, p, t), payload_bytes=MAX_PAYLOAD_BYTES + 1),
        "payload declares 4097 bytes, over the cap of 4096"),
    "short of declared size": (
        lambda g, p, t: edit(good(g, p, t), payload_bytes=1000), "payload incomplete"),
    "no header": (
        lambda g, p, t: headless(good(g, p, t)), "the first Execute message must carry"),
    "no messages": (lambda g, p, t: [], "Execute call carried no messages"),
    "garbled payload": (
        lambda g, p, t: edit(good(g, p, t), payload_bytes=3, chunk=b"\xff" * 3),
        "cannot parse the payload"),
    "undecodable png": (lambda g, p, t: good(g, b"junk", t), "cannot decode 4 image bytes"),
    "png of the wrong size": (
        lambda g, p, t: good(g, p[::2, ::2], t),
        r"PNG pixels are .*; the model takes \({g.image_size}, {g.image_size}, 3\)"),
    "empty question": (lambda g, p, t: edit(good(g, p, t), question=" "), "question is empty"),
    "question too long for the LM": (
        lambda g, p, t: edit(good(g, p, t), question="red " * 100), "too long"),
    "negative token limit": (
        lambda g, p, t: edit(good(g, p, t), max_new_tokens=-1),
        "header.max_new_tokens=-1; allowed 0..24"),
    "over the token limit": (
        lambda g, p, t: edit(good(g, p, t), max_new_tokens=MAX_ANSWER_TOKENS + 1),
        "header.max_new_tokens=25; allowed 0..24"),
    "request id too long": (
        lambda g, p, t: edit(good(g, p, t), request_id="r" * 65),
        "header.request_id is 65 characters; at most 64"),
    "unknown policy": (
        lambda g, p, t: with_header(good(g, p, t), lambda h: h.policies.append(9)),
        "header.policies is unknown Policy 9"),
    "no plan": (
        lambda g, p, t: with_header(good(g, p, t), lambda h: h.ClearField("plan")),
        "the Execute header carries no plan"),
    "unknown tier in a step": (
        lambda g, p, t: with_header(good(g, p, t),
                                    lambda h: setattr(h.plan.steps[1], "tier", 7)),
        r"plan.steps\[1\].tier is unknown Tier 7"),
    "unknown precision": (
        lambda g, p, t: with_header(good(g, p, t),
                                    lambda h: setattr(h.plan.steps[0], "precision", 5)),
        r"plan.steps\[0\].precision is unknown Precision 5"),
    "no steps": (
        lambda g, p, t: with_header(good(g, p, t), lambda h: h.plan.ClearField("steps")),
        "a plan starts with an edge step"),
    "escalation threshold not a number": (
        lambda g, p, t: with_header(good(g, p, t), lambda h: h.plan.escalation.CopyFrom(
            wire_pb2.Escalation(tier=wire_pb2.TIER_CLOUD, encoding=wire_pb2.ENCODING_FP16,
                                threshold=float("nan")))),
        "a cascade's plan runs everything on the edge first|threshold=nan"),
    "negative tensor shape": (
        lambda g, p, t: visual_tokens(g, t, fp16((1, g.n_visual, g.visual_dim)),
                                      shape=(1, -g.n_visual, g.visual_dim)),
        r"shape \(1, -9, 128\) is invalid"),
    "int8 scales of the wrong size": (
        lambda g, p, t: visual_tokens(g, t, int8((1, g.n_visual, g.visual_dim), trim=4)),
        r"INT8 scales payload has \d+ bytes"),
    "corrupt lz4 frame": (
        lambda g, p, t: visual_tokens(g, t, lz4_junk((1, g.n_visual, g.visual_dim))),
        "INT8_LZ4 payload is not a valid lz4 frame"),
    "payload at the wrong cut": (
        lambda g, p, t: at_cut(good(g, p, t), 3), "payload is at cut 3 but"),
    "pixels against their policy": (
        lambda g, p, t: with_header(good(g, p, t), lambda h: h.policies.append(
            wire_pb2.POLICY_PIXELS_STAY_ON_EDGE)),
        "policy pixels_stay_on_edge: plan custom sends the pixels"),
}

# every case is INVALID_ARGUMENT but these (the bytes, not the request, are at fault)
TIER_CODES = {"bad digest": grpc.StatusCode.DATA_LOSS,
              "pixels against their policy": grpc.StatusCode.PERMISSION_DENIED}


def execute(target: str, messages: Chunks) -> list[tier_pb2.ExecuteEvent]:
    with grpc.insecure_channel(target) as channel:
        return list(tier_pb2_grpc.TierServiceStub(channel).Execute(iter(messages), timeout=10))


@pytest.mark.parametrize("tier", [Tier.FOG, Tier.CLOUD], ids=str)
@pytest.mark.parametrize("case", TIER_CASES, ids=list(TIER_CASES))
def test_tier_rejects_bad_execute_then_answers(cluster: ProcessCluster, graph: StageGraph,
                                               sample: sets.Sample, case: str,
                                               tier: Tier) -> None:
    build, message = TIER_CASES[case]
    target = cluster.tiers[tier.value].target
    with pytest.raises(grpc.RpcError) as caught:
        execute(target, build(graph, sample.image(), tier))
    expected = TIER_CODES.get(case, grpc.StatusCode.INVALID_ARGUMENT)
    assert caught.value.code() is expected, caught.value.details()
    details = caught.value.details() or ""
    assert re.search(message.format(g=graph), details), details
    events = execute(target, good(graph, sample.image(), tier))
    assert events[-1].HasField("result")

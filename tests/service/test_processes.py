"""Three tiers as separate processes: every named plan answers as the in-process model does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
import torch
from grpc_health.v1 import health_pb2, health_pb2_grpc

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import Sample, held_out_set
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.model import zoo
from splitvlm.plan.named import plan_names
from splitvlm.plan.plan import Link
from splitvlm.processes import ProcessCluster, start_cluster
from splitvlm.sdk import AnswerEvent, Client, PlanEvent, TokenEvent
from splitvlm.stages import StageGraph

N_QUESTIONS = 20


@pytest.fixture(scope="module")
def cluster(checkpoints: Path) -> Iterator[ProcessCluster]:
    running = start_cluster(env={"SPLITVLM_EDGE_PRECISION": "fp32"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return held_out_set(per_type=3)[:N_QUESTIONS]  # every question type


def reference(checkpoints: Path, lm_tier: str, samples: list[Sample]) -> list[str]:
    """The in-process model: torch fp32 vision and the plan's LM, no services."""
    tok = Tokenizer()
    visual, lm = zoo.load_visual(checkpoints), zoo.load_lm(lm_tier, checkpoints)
    pixels = torch.from_numpy(np.stack([s.image() for s in samples]))
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    with torch.no_grad():
        ids = lm.generate(visual(pixels), prompts, tok.pad_id, tok.eos_id)
    return [tok.decode(row) for row in ids]


def test_health_serving_on_all_tiers(cluster: ProcessCluster) -> None:
    for tp in cluster.tiers.values():
        with grpc.insecure_channel(tp.target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, tp.tier


def test_every_named_plan_matches_in_process_model(
    cluster: ProcessCluster, checkpoints: Path, samples: list[Sample]
) -> None:
    graph = StageGraph.from_visual_config(zoo.read_meta(checkpoints / "visual")["config"])
    expected = {t: reference(checkpoints, t, samples) for t in zoo.LM_TIERS}
    with Client(cluster.edge) as client:
        for name in plan_names(graph):
            for sample, want in zip(samples, expected[lm_tier_of(name)], strict=True):
                image = encode_image(sample.image(), "PNG")
                answer = client.ask(image, sample.qa.question, plan=name, deadline_s=30)
                assert answer.text == want, (name, sample.qa.question)
                assert answer.plan.name == name
                assert answer.plan.lm_tier.value == lm_tier_of(name)


def lm_tier_of(plan_name: str) -> str:
    if plan_name == "edge-only":
        return "edge"
    return "fog" if plan_name in ("edge-vision+fog-lm", "fog-all") else "cloud"


def test_stream_yields_plan_tokens_then_answer(
    cluster: ProcessCluster, samples: list[Sample]
) -> None:
    caption = next(s for s in samples if s.qa.qtype == "caption")
    with Client(cluster.edge) as client:
        events = list(client.stream(encode_image(caption.image(), "PNG"), caption.qa.question,
                                    plan="edge-vision+cloud-lm", no_cache=True))
    first, last = events[0], events[-1]
    assert isinstance(first, PlanEvent) and isinstance(last, AnswerEvent)
    assert first.plan.name == "edge-vision+cloud-lm" and first.plan.predicted is None  # named
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) > 3  # a caption streams word by word
    assert " ".join(tokens) == last.answer.text
    assert last.answer.plan == first.plan and last.answer.request_id
    links = {li.link: li.bytes for li in last.answer.links}
    assert set(links) == {Link.EDGE_FOG, Link.FOG_CLOUD} and links[Link.EDGE_FOG] > 0
    assert [t.name for t in last.answer.timings] == ["preprocess", "patch_embed..project.up",
                                                     "prefill..decode"]  # (no_cache: the
    # edge encodes the image although an earlier test asked about it)

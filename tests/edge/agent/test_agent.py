"""`splitvlm agent` as a process beside real edge, fog and cloud processes: frames in through
SubmitFrame, a watched directory and a video file; answers out through Subscribe and the
results file; backpressure, near-duplicates, SIGHUP, SIGTERM and SIGKILL."""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import pytest

from splitvlm.data.camera import encode_image
from splitvlm.data.video import moving_scenes, write_video
from splitvlm.processes import ProcessCluster, start_tier
from splitvlm.v1 import agent_pb2

from .harness import QUESTIONS, Agent, frames, grpc_source, results, write_config

Start = Callable[..., Agent]


def test_frames_in_answers_out(tmp_path: Path, agents: Start) -> None:
    agent = agents(write_config(tmp_path / "a.toml", tmp_path, grpc_source(ring=16)))
    seen: list[agent_pb2.AgentResult] = []
    ended: list[grpc.StatusCode] = []  # how the stream ended (read in this thread, below)
    stream = agent.stub.Subscribe(agent_pb2.SubscribeRequest(sources=["app"]))

    def read() -> None:
        try:
            seen.extend(stream)
        except grpc.RpcError as exc:  # cancelled below
            ended.append(exc.code())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)  # subscribed before the frames go in
    reply = agent.submit(frames(6, scene_s=0.2))  # a new scene every second frame
    assert (reply.accepted, reply.first_frame, reply.last_frame) == (6, 0, 5)
    status = agent.wait_for(lambda s: s.sources[0].answered == 12)
    assert status.pending == 0 and status.sources[0].accepted == 6
    stream.cancel()
    reader.join(5)
    assert ended == [grpc.StatusCode.CANCELLED]
    written = results(tmp_path)
    assert len(written) == 12 and len(seen) == 12
    assert {(int(r["frame"]), r["question"]) for r in written} == {
        (f, q) for f in range(6) for q in QUESTIONS}
    assert all(r["text"] and not r["degraded"] and not r["error"] for r in written)
    assert all(0 < float(r["latency_s"]) < 30 for r in written)  # type: ignore[arg-type]


def test_bad_frames_and_unknown_sources_are_refused_by_name(tmp_path: Path,
                                                            agents: Start) -> None:
    agent = agents(write_config(tmp_path / "a.toml", tmp_path, grpc_source()))
    with pytest.raises(grpc.RpcError) as caught:
        agent.submit([frames(1)[0], b"not an image"])
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "frame 1" in caught.value.details() and "1 frame(s) before it were accepted" in (
        caught.value.details())
    with pytest.raises(grpc.RpcError) as caught:
        agent.submit(frames(1), source="door")
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "no source 'door'" in caught.value.details() and "['app']" in caught.value.details()
    agent.wait_for(lambda s: s.sources[0].answered == 2)  # the good frame is answered


def test_a_full_queue_pushes_back_and_loses_nothing_accepted(tmp_path: Path,
                                                             agents: Start) -> None:
    agent = agents(write_config(tmp_path / "a.toml", tmp_path,
                                grpc_source(ring=2, near_duplicate=0.0)))
    with pytest.raises(grpc.RpcError) as caught:
        agent.submit(frames(40, scene_s=0.1))
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    pushback = dict(caught.value.trailing_metadata())["grpc-retry-pushback-ms"]
    assert int(pushback) > 0
    status = agent.wait_for(lambda s: s.pending == 0)
    source = status.sources[0]
    assert source.refused == 1 and 2 <= source.accepted < 40
    assert source.answered == 2 * source.accepted and source.errors == 0


def test_a_static_scene_is_encoded_once_and_answers_as_every_frame(
        tmp_path: Path, agents: Start, cluster: ProcessCluster) -> None:
    still = frames(20, scene_s=math.inf, drift=0.0)  # one scene, the camera's noise only
    answers = {}
    for reuse in (True, False):
        state = tmp_path / str(reuse)
        edge = start_tier("edge", cluster.tiers["fog"].target)  # holds no tokens of `still`
        agent = agents(write_config(tmp_path / f"{reuse}.toml", state, grpc_source(
            ring=32, near_duplicate=4.0 if reuse else 0.0)), edge=edge.target)
        agent.submit(still)
        status = agent.wait_for(lambda s: s.sources[0].answered == 40)
        answers[reuse] = {(r["frame"], r["question"]): r["text"] for r in results(state)}
        source = status.sources[0]
        if reuse:
            assert (source.reused, source.encoded) == (19, 1)
        else:
            assert (source.reused, source.encoded) == (0, 20)
        agent.stop()
        edge.kill()
    assert answers[True] == answers[False]


def test_directory_and_video_sources(tmp_path: Path, agents: Start) -> None:
    watched, video = tmp_path / "incoming", tmp_path / "clip.mp4"
    watched.mkdir()
    shots = [p for p, _ in moving_scenes(np.random.default_rng(3), 2.0, 10, 0.5)]
    assert write_video(video, shots, fps=10) == 20
    sources = (f'[[source]]\nname = "dir"\nkind = "directory"\npath = "{watched}"\n'
               'questions = ["describe the image"]\nring = 8\n\n'
               f'[[source]]\nname = "cam"\nkind = "video"\npath = "{video}"\n'
               'questions = ["describe the image"]\nrealtime = false\nring = 2\n')
    agent = agents(write_config(tmp_path / "a.toml", tmp_path, sources))
    time.sleep(0.5)  # the watch is set up
    for i in range(3):
        (watched / f"tmp-{i}").write_bytes(encode_image(shots[5 * i], "PNG"))
        (watched / f"tmp-{i}").rename(watched / f"frame-{i}.png")  # appears whole
    (watched / "notes.txt").write_text("not a frame")
    status = agent.wait_for(lambda s: s.pending == 0 and s.sources[0].answered == 3
                            and s.sources[1].seen == 20)
    by_name = {s.name: s for s in status.sources}
    assert by_name["dir"].seen == 3 and by_name["dir"].answered == 3
    cam = by_name["cam"]  # decoded faster than answered: the ring dropped the oldest
    assert cam.seen == 20 and cam.dropped > 0 and cam.answered == cam.accepted
    assert cam.accepted + cam.dropped + cam.skipped == 20


def test_sighup_reloads_the_sources_without_dropping_work(tmp_path: Path,
                                                          agents: Start) -> None:
    config = write_config(tmp_path / "a.toml", tmp_path, grpc_source(ring=64))
    agent = agents(config)
    agent.submit(frames(8, scene_s=0.1))
    write_config(config, tmp_path, grpc_source(ring=64, questions=["describe the image"])
                 + grpc_source("second", ["how many circles are there ?"]))
    agent.process.proc.send_signal(signal.SIGHUP)
    agent.wait_for(lambda s: len(s.sources) == 2)
    agent.submit(frames(2, seed=5), source="second")
    agent.submit(frames(2, seed=6, scene_s=0.1))
    agent.wait_for(lambda s: s.pending == 0 and len(results(tmp_path)) >= 20)
    assert agent.process.proc.poll() is None  # the same process
    written = results(tmp_path)
    old = [r for r in written if r["source"] == "app" and int(r["frame"]) < 8]
    assert len(old) == 16  # what was accepted under the old config, answered in full
    new = [r for r in written if r["source"] == "app" and int(r["frame"]) >= 8]
    assert {r["question"] for r in new} == {"describe the image"} and len(new) == 2
    assert len([r for r in written if r["source"] == "second"]) == 2
    assert len(written) == 20
    # a bad config (its first source broken, its second gone) is refused whole: the old one
    # stays, both sources, and the agent keeps answering under it
    write_config(config, tmp_path, grpc_source(ring=64).replace('kind = "grpc"',
                                                                'kind = "camera"', 1))
    agent.process.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert len(agent.status().sources) == 2
    agent.submit(frames(1, seed=7), source="second")
    agent.wait_for(lambda s: s.pending == 0 and len(results(tmp_path)) >= 21)
    assert agent.process.proc.poll() is None


def test_sigterm_drains_every_accepted_frame(tmp_path: Path, agents: Start) -> None:
    agent = agents(write_config(tmp_path / "a.toml", tmp_path,
                                grpc_source(ring=64, near_duplicate=0.0)))
    reply = agent.submit(frames(24, scene_s=0.1))
    assert agent.stop(signal.SIGTERM) == 0
    written = results(tmp_path)
    assert len(written) == 2 * reply.accepted == 48
    assert {int(r["frame"]) for r in written} == set(range(24))


def test_accepted_and_unconfirmed_work_survives_a_sigkill(
        tmp_path: Path, agents: Start, cluster: ProcessCluster) -> None:
    config = write_config(tmp_path / "a.toml", tmp_path, grpc_source(
        ring=16, questions=["describe the image"], confirm_upstream=True,
        preset="most-accurate"))
    lonely = start_tier("edge", "127.0.0.1:9")  # its fog is unreachable: degraded answers
    try:
        agent = agents(config, edge=lonely.target)
        agent.submit(frames(3, scene_s=0.1))
        status = agent.wait_for(lambda s: s.awaiting_confirmation == 3)
        assert status.sources[0].degraded == 3
        assert all(r["degraded"] for r in results(tmp_path))
    finally:
        lonely.kill()
    agent.submit(frames(2, seed=9, scene_s=0.1))  # accepted; the edge is gone: not answered
    time.sleep(0.5)
    assert agent.status().pending == 2
    assert agent.stop(signal.SIGKILL) == -signal.SIGKILL
    again = agents(config)  # the cluster's edge, whose fog is up
    status = again.wait_for(lambda s: s.pending == 0 and s.awaiting_confirmation == 0)
    written = results(tmp_path)
    confirmed = [r for r in written if r["confirmed"]]
    assert sorted(int(r["frame"]) for r in confirmed) == [0, 1, 2]
    assert not any(r["degraded"] for r in confirmed)
    late = [r for r in written if int(r["frame"]) >= 3]
    assert sorted(int(r["frame"]) for r in late) == [3, 4] and all(r["text"] for r in late)


def test_a_fog_started_after_the_agent_is_found_within_5_s(tmp_path: Path,
                                                           agents: Start) -> None:
    """The edge beside the agent browses mDNS (discover = true): the agent's answers are
    degraded until a fog starts and advertises, then answered upstream within 5 s."""
    loopback = {"SPLITVLM_MDNS_INTERFACES": "127.0.0.1"}
    cloud = start_tier("cloud")
    edge = start_tier("edge", env={**loopback, "SPLITVLM_DISCOVER": "true"})
    fog = None
    try:
        agent = agents(write_config(tmp_path / "a.toml", tmp_path, grpc_source(
            ring=4, questions=["describe the image"], preset="most-accurate")), edge=edge.target)
        shots = frames(200, scene_s=0.1)
        agent.submit(shots[:2])
        agent.wait_for(lambda s: s.sources[0].answered == 2)
        assert all(r["degraded"] for r in results(tmp_path))  # no fog yet
        fog = start_tier("fog", cloud.target, env={**loopback, "SPLITVLM_ADVERTISE": "true"})
        serving = time.time()
        for shot in shots[2:]:
            agent.submit([shot])
            time.sleep(0.1)
            upstream = [r for r in results(tmp_path) if not r["degraded"]]
            if upstream:
                break
        assert upstream, "no answer came from upstream"
        found = min(float(r["answered_unix_s"]) for r in upstream) - serving
        assert found < 5.0, f"the fog was used {found:.1f} s after it started serving"
    finally:
        for tier in (fog, edge, cloud):
            if tier is not None:
                tier.kill()

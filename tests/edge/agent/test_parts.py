"""The agent's parts on their own: the ring, near-duplicates, the journal, the config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.agent.config import AgentConfig, load_agent_config
from edge.agent.frames import Ring
from edge.agent.journal import Journal, JournalFull
from edge.agent.main import agent_graph
from edge.agent.nearby import KeyFrame, KeyFrames, perceptual_hash
from splitvlm.data.camera import camera_image, downscale
from splitvlm.data.scenes import sample_scene
from splitvlm.errors import ConfigError
from splitvlm.model.hf import load


async def test_the_ring_drops_the_oldest_and_never_blocks() -> None:
    ring = Ring[int](3)
    dropped = [ring.put(i) for i in range(10)]
    assert dropped == [None, None, None, 0, 1, 2, 3, 4, 5, 6] and ring.dropped == 7
    assert [await ring.get() for _ in range(3)] == [7, 8, 9]
    waiting = asyncio.ensure_future(ring.get())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    ring.put(10)
    assert await waiting == 10
    ring.put(11)
    ring.close()
    assert await ring.get() == 11 and await ring.get() is None


def frame(scene_seed: int, noise_seed: int) -> np.ndarray:
    scene = sample_scene(np.random.default_rng(scene_seed))
    return downscale(camera_image(scene, np.random.default_rng(noise_seed), 128), 64)


def key_frame(pixels: np.ndarray) -> KeyFrame:
    return KeyFrame(pixels, b"png", perceptual_hash(pixels))


def test_sensor_noise_is_a_near_duplicate_and_another_scene_is_not() -> None:
    keys = KeyFrames(threshold=4.0)

    def match(pixels: np.ndarray, within: KeyFrames = keys) -> KeyFrame | None:
        return within.match(pixels, perceptual_hash(pixels))

    first = key_frame(frame(1, 0))
    keys.add(first)
    again = frame(1, 1)  # the same scene, other noise: other bytes, other content hash
    assert not np.array_equal(again, first.pixels)
    assert match(again) is first
    assert match(frame(2, 0)) is None
    keys.add(key_frame(frame(2, 0)))
    assert match(frame(1, 2)) is first  # a scene that comes back still matches
    assert match(again, KeyFrames(threshold=0.0)) is None  # reuse off


def test_the_perceptual_hash_barely_moves_with_noise() -> None:
    a, b, other = perceptual_hash(frame(3, 0)), perceptual_hash(frame(3, 1)), perceptual_hash(
        frame(4, 0))
    assert bin(a ^ b).count("1") <= 6 < bin(a ^ other).count("1")


def test_the_journal_keeps_what_was_accepted_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, max_pending=4)
    ids = journal.accept("cam", 0, b"png0", 1.0, ["q1", "q2"])
    more = journal.accept("cam", 1, b"png1", 2.0, ["q1", "q2"], reused=True)
    journal.answered(ids[0])
    journal.to_confirm(ids[1])
    with pytest.raises(JournalFull):
        journal.accept("cam", 2, b"png2", 3.0, ["q1", "q2"])  # 3 pending + 2 > 4
    journal.db.close()  # as a killed process leaves it: nothing more written
    reopened = Journal(path, max_pending=4)
    assert len(reopened) == 3
    asks = reopened.pending("ask")
    assert [(j.id, j.seq, j.question, j.png, j.reused) for j in asks] == [
        (more[0], 1, "q1", b"png1", True), (more[1], 1, "q2", b"png1", True)]
    assert [j.id for j in reopened.pending("confirm")] == [ids[1]]
    for job in [*asks, *reopened.pending("confirm")]:
        reopened.answered(job.id)
    assert len(reopened) == 0
    assert reopened.db.execute("SELECT COUNT(*) FROM frames").fetchone()[0] == 0


def test_config_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"

    def load(text: str) -> None:
        path.write_text(text)
        load_agent_config(path, env={})

    source = '[[source]]\nname = "cam"\nkind = "grpc"\nquestions = ["describe the image"]\n'
    load("[agent]\ninsecure = true\n" + source)
    for text, message in [
        ("[agent]\ninsecure = true\nport = 'x'\n" + source, "port"),
        ("[agent]\ninsecure = true\nedgy = 1\n" + source, "edgy"),
        ("[agent]\n" + source, "tls_ca"),
        ("[agent]\ninsecure = true\n" + source.replace("grpc", "camera"), "kind"),
        ("[agent]\ninsecure = true\n" + source.replace("describe", "paint"), "paint"),
        ("[agent]\ninsecure = true\n" + source + 'every = "sometimes"\n', "every"),
        ("[agent]\ninsecure = true\n" + source + 'preset = "quick"\n', "preset"),
        ("[agent]\ninsecure = true\n" + source + source, "repeat"),
        ("[agent]\ninsecure = true\n" + source.replace('kind = "grpc"', 'kind = "video"'),
         "path"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load(text)
    # an edge serving a Hugging Face VLM takes free text: the edge checks it, not the agent
    load('[agent]\ninsecure = true\nmodel_dir = "models/smolvlm"\n'
         + source.replace("describe", "paint"))
    with pytest.raises(ConfigError, match="empty"):
        load('[agent]\ninsecure = true\nmodel_dir = "models/smolvlm"\n'
             + source.replace('"describe the image"', '"  "'))


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\ninsecure = true\nport = 1\n[[source]]\nname = "cam"\n'
                    'kind = "grpc"\nquestions = ["describe the image"]\n')
    config = load_agent_config(path, env={"SPLITVLM_AGENT_PORT": "7", "SPLITVLM_PORT": "9"})
    assert config.port == 7 and config.sources[0].every_n == 1


def test_the_shipped_example_config_loads() -> None:
    deploy = Path(__file__).resolve().parents[3] / "deploy" / "agent.toml"
    config = load_agent_config(deploy, env={})
    assert [s.kind for s in config.sources] == ["directory", "video", "grpc"]
    assert [s.every_n for s in config.sources] == [0, 5, 1]


def test_the_agent_sizes_frames_for_the_model_its_edge_serves(
        tmp_path: Path, tiny_dir: Callable[[str], Path]) -> None:
    path = tmp_path / "agent.toml"
    source = '[[source]]\nname = "cam"\nkind = "grpc"\nquestions = ["what is here?"]\n'
    path.write_text(f'[agent]\ninsecure = true\nmodel_dir = "{tiny_dir("qwen2_vl")}"\n'
                    + source)
    graph = agent_graph(load_agent_config(path, env={}))
    assert graph == load(tiny_dir("qwen2_vl")).graph
    assert graph.image_size != agent_graph(AgentConfig((), insecure=True)).image_size

"""Running the agent as a process in tests: configs, the process, its results."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np

from splitvlm.data.camera import encode_image
from splitvlm.data.video import moving_scenes
from splitvlm.processes import TierProcess, start_agent
from splitvlm.v1 import agent_pb2, agent_pb2_grpc

QUESTIONS = ["how many circles are there ?", "describe the image"]


def write_config(path: Path, state: Path, sources: str, **agent: object) -> Path:
    lines = ["[agent]", "insecure = true", f'state_dir = "{state}"',
             f'results_file = "{state / "results.jsonl"}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in agent.items()]
    path.write_text("\n".join(lines) + "\n\n" + sources)
    return path


def grpc_source(name: str = "app", questions: list[str] = QUESTIONS, **fields: object) -> str:
    lines = ["[[source]]", f'name = "{name}"', 'kind = "grpc"',
             f"questions = {json.dumps(questions)}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n\n"


class Agent:
    """A running `splitvlm agent` and a channel to its AgentService."""

    def __init__(self, config: Path, edge: str) -> None:
        self.config = config
        self.process: TierProcess = start_agent(str(config), {"SPLITVLM_AGENT_EDGE": edge,
                                                             "SPLITVLM_LOG_LEVEL": "info"})
        self.channel = grpc.insecure_channel(self.process.target)
        self.stub = agent_pb2_grpc.AgentServiceStub(self.channel)

    def submit(self, images: list[bytes], source: str = "app") -> agent_pb2.SubmitReply:
        return self.stub.SubmitFrame(iter([agent_pb2.Frame(source=source, image=i)
                                           for i in images]), timeout=30)

    def status(self) -> agent_pb2.AgentStatus:
        return self.stub.Status(agent_pb2.AgentStatusRequest(), timeout=10)

    def wait_for(self, done: Callable[[agent_pb2.AgentStatus], bool],
                 timeout_s: float = 60) -> agent_pb2.AgentStatus:
        give_up = time.monotonic() + timeout_s
        while not done(status := self.status()):
            assert time.monotonic() < give_up, f"not reached in {timeout_s} s: {status}"
            time.sleep(0.1)
        return status

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 60) -> int:
        self.channel.close()
        if self.process.proc.poll() is None:
            self.process.proc.send_signal(sig)
        code = self.process.proc.wait(timeout_s)
        if self.process.proc.stdout is not None:
            self.process.proc.stdout.close()
        return code


def results(state: Path) -> list[dict[str, object]]:
    path = state / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def frames(n: int, seed: int = 0, scene_s: float = 0.5, fps: float = 10.0,
           drift: float = 1.0) -> list[bytes]:
    """n camera frames (JPEG): scenes that change every `scene_s` seconds at `fps`."""
    shots = moving_scenes(np.random.default_rng(seed), n / fps, fps, scene_s, drift=drift)
    return [encode_image(pixels, "JPEG") for pixels, _ in shots]

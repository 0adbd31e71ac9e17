"""The agent's configuration: `[agent]` and one `[[source]]` table per frame source, then
`SPLITVLM_AGENT_<FIELD>` environment overrides of `[agent]`; ConfigError names the bad field.

    [agent]
    edge = "127.0.0.1:50051"
    state_dir = "/var/lib/splitvlm-agent"

    [[source]]
    name = "door"
    kind = "video"                 # "directory", "video" or "grpc"
    path = "/dev/shm/door.mp4"
    questions = ["how many circles are there ?", "describe the image"]
    every = "scene"                # "frame", a number N (every Nth frame) or "scene"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from splitvlm.config import from_environment, read_toml, typed
from splitvlm.errors import ConfigError, QuestionError
from splitvlm.executor.text import ShapesText
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset

ENV_PREFIX = "SPLITVLM_AGENT_"
KINDS = ("directory", "video", "grpc")
EVERY_SCENE = 0  # SourceConfig.every_n for "scene"


@dataclass(frozen=True)
class SourceConfig:
    name: str
    """Names the source in results, logs and SubmitFrame."""
    kind: str
    """"directory" (new image files in `path`), "video" (a file or stream URL in `path`,
    decoded with PyAV) or "grpc" (frames from local apps through AgentService.SubmitFrame)."""
    questions: tuple[str, ...]
    """The standing questions asked about each frame the source selects."""
    path: str = ""
    """The directory to watch, or the video file / URL."""
    every: str = "frame"
    """Which frames are asked about: "frame" (each), a number N (every Nth), or "scene" (a
    frame that is not a near-duplicate of the last one asked about)."""
    deadline_s: float = 2.0
    """Each question's deadline (the planner places the request to meet it)."""
    plan: str = "auto"
    """"auto" (the planner) or a named plan (splitvlm plans)."""
    preset: str = ""
    """The planner's objective: fastest, balanced, most-accurate, battery; "" the edge's."""
    policies: tuple[str, ...] = ()
    """pixels_stay_on_edge, offline (docs/operations.md)."""
    confirm_upstream: bool = False
    """Degraded answers (the edge's LM, for want of a fog) are kept on disk and asked again
    when a fog is back; the confirmed answer is delivered with `confirmed = true`."""
    ring: int = 1
    """Frames held while the pipeline is busy; when full the oldest is dropped (the camera is
    never blocked; with 1, the frame asked about next is the freshest). Frames of a "grpc"
    source are refused instead (RESOURCE_EXHAUSTED)."""
    near_duplicate: float = 4.0
    """Mean absolute pixel difference (0..255, at model resolution) under which a frame asks
    about the last key frame's image (its visual tokens are reused); 0 turns reuse off."""
    realtime: bool = True
    """Video: deliver frames at the stream's rate (a file plays as a camera would)."""
    loop: bool = False
    """Video: start again at the end of the file."""
    workers: int = 1
    """Frames of this source asked about at once."""

    def __post_init__(self) -> None:
        where = f"source {self.name!r}"
        if not self.name:
            raise ConfigError("a [[source]] has no name")
        if self.kind not in KINDS:
            raise ConfigError(f"{where}: kind={self.kind!r} must be one of {KINDS}")
        if self.kind != "grpc" and not self.path:
            raise ConfigError(f"{where}: kind={self.kind!r} needs path")
        if not self.questions or not all(q.strip() for q in self.questions):
            raise ConfigError(f"{where}: questions is empty (or holds an empty one); give the "
                              "standing questions")
        self.every_n  # noqa: B018 - validates
        if self.preset and self.preset not in [p.value for p in Preset]:
            raise ConfigError(f"{where}: preset={self.preset!r} must be one of "
                              f"{[p.value for p in Preset]}")
        for policy in self.policies:
            if policy not in [p.value for p in Policy]:
                raise ConfigError(f"{where}: policy {policy!r} must be one of "
                                  f"{[p.value for p in Policy]}")
        for name in ("ring", "workers"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}: {name}={getattr(self, name)} must be positive")
        if self.deadline_s <= 0 or self.near_duplicate < 0:
            raise ConfigError(f"{where}: deadline_s must be > 0 and near_duplicate >= 0")

    @property
    def every_n(self) -> int:
        """1 for every frame, N for every Nth, EVERY_SCENE for scene changes."""
        if self.every == "frame":
            return 1
        if self.every == "scene":
            return EVERY_SCENE
        try:
            n = int(self.every)
        except ValueError:
            n = 0
        if n <= 0:
            raise ConfigError(f"source {self.name!r}: every={self.every!r} must be 'frame', "
                              "a positive number of frames, or 'scene'")
        return n


@dataclass(frozen=True)
class AgentConfig:
    sources: tuple[SourceConfig, ...]
    edge: str = "127.0.0.1:50051"
    """HOST:PORT of the edge service (splitvlm serve edge) the agent asks."""
    host: str = "127.0.0.1"
    """Where the agent's own service (SubmitFrame, Subscribe, Status) listens: local apps."""
    port: int = 50061
    """Its port; 0 picks a free one (printed at start-up)."""
    state_dir: str = "agent-state"
    """The on-disk journal (SQLite): accepted frames until answered, degraded answers until
    confirmed. Survives restarts and SIGKILL."""
    results_file: str = ""
    """Also append every result here as a JSON line (a sink for tools without gRPC)."""
    max_pending: int = 10000
    """Questions accepted and not yet answered, plus answers awaiting confirmation, at most;
    past it new frames are dropped (counted) rather than the disk filled."""
    grace_s: float = 30.0
    """On SIGTERM: how long accepted frames get to be answered; what is left stays on disk
    and is answered after the next start."""
    insecure: bool = False
    """Plaintext to the edge (an edge with insecure = true); otherwise TLS with tls_ca."""
    tls_ca: str = ""
    """The site CA (PEM) the edge's certificate is signed by."""
    token_file: str = ""
    """A file holding a bearer token the edge accepts."""
    tls_cert: str = ""
    """A client certificate of the site (with tls_key), for an edge with client_certs."""
    tls_key: str = ""
    model_dir: str = ""
    """The Hugging Face VLM the edge serves (its `serve --model DIR`; only its config files
    are read): frames go to the edge at that model's resolution, and standing questions are
    free text, which the edge checks. Empty: the shipped family, whose vocabulary
    (docs/questions.md) the questions are checked against here, at load."""

    def __post_init__(self) -> None:
        if not self.model_dir:
            shapes = ShapesText()
            for source in self.sources:
                for question in source.questions:
                    try:
                        shapes.check(question)
                    except QuestionError as exc:
                        raise ConfigError(f"source {source.name!r}: question {question!r}: "
                                          f"{exc} (model_dir = the model, for an edge that "
                                          "serves a Hugging Face VLM)") from exc
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port={self.port} must be in 0..65535")
        if ":" not in self.edge:
            raise ConfigError(f"edge={self.edge!r} must be HOST:PORT")
        if self.max_pending <= 0 or self.grace_s < 0:
            raise ConfigError("max_pending must be positive and grace_s >= 0")
        if not self.insecure and not self.tls_ca:
            raise ConfigError("TLS to the edge is the default and tls_ca is not set: point it "
                              "at the site's ca.pem (with token_file or tls_cert/tls_key), or "
                              "set insecure = true for an edge that runs plaintext")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ConfigError(f"source names repeat: {names}")


def load_agent_config(path: Path, env: Mapping[str, str] | None = None,
                      **overrides: Any) -> AgentConfig:
    """The file, then SPLITVLM_AGENT_<FIELD> variables, then `overrides`."""
    env = os.environ if env is None else env
    doc = read_toml(path, "the agent config")
    unknown = set(doc) - {"agent", "source"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; the agent's config has "
                          "[agent] and [[source]] tables")
    values: dict[str, Any] = dict(doc.get("agent", {}))
    values.update(from_environment((f.name for f in fields(AgentConfig) if f.name != "sources"),
                                   ENV_PREFIX, env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    tables = doc.get("source", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: write each source as a [[source]] table")
    sources = tuple(typed(SourceConfig, t, f"{path} [[source]] #{i + 1}")
                    for i, t in enumerate(tables))
    if "sources" in values:
        raise ConfigError(f"{path}: write sources as [[source]] tables, not agent.sources")
    config: AgentConfig = typed(AgentConfig, values, f"{path} [agent]", sources=sources)
    return config

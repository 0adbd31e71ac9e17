"""The stage graph: stage names, cut points and the boundary tensor at every cut.

    cut 0         1        2             2+L        3+L            4+L       (5+L)
    image ─preprocess─ pixels ─patch_embed─ tokens ─vision[i]…─ tokens ─project.down─ codes
          ─project.up─ visual ─prefill+decode─▶ answer tokens

The graph is built from one list of stage specs (`STAGE_SPECS`, the vision block repeated
`depth` times): each spec says what its stage makes, and every index, cut and boundary is read
off that list. Nothing outside this module does arithmetic on stage indices; it asks the graph
(`graph.prefill`, `graph.block_cut(k)`, `graph.tensor_cuts`, ...).

A cut k sits before stage k: cut 0 is the raw image bytes, the last cut (`prefill`) the visual
tokens in LM space. `prefill` and `decode` run together on one tier (the KV cache never
crosses a link). No torch here: the edge plans with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

MAX_ANSWER_TOKENS = 24
"""The most answer tokens any tier decodes for one request (the default too): 9 visual tokens +
the longest question + <ans> + 24 fit the shipped LMs' 64 positions. Every tier reads it from
here, the edge checks it before any stage runs, and each tier's status advertises it."""


class StageKind(StrEnum):
    PREPROCESS = "preprocess"
    PATCH_EMBED = "patch_embed"
    VISION = "vision"
    PROJECT_DOWN = "project.down"
    PROJECT_UP = "project.up"
    PREFILL = "prefill"
    DECODE = "decode"


class BoundaryKind(StrEnum):
    """What a stage makes, i.e. the tensor at the cut after it."""

    IMAGE = "image"  # encoded image bytes, any resolution (only at cut 0)
    PIXELS = "pixels"  # (S, S, 3) uint8 at model resolution
    TOKENS = "tokens"  # (N, Dv) float32 vision tokens
    CODES = "codes"  # (N', r) float32: the low-rank projector's bottleneck
    VISUAL = "visual"  # (N', Dl) float32 visual tokens in LM space
    CACHE = "cache"  # the LM's KV cache: never crosses a link, so no cut
    ANSWER = "answer"  # answer token ids


@dataclass(frozen=True)
class StageSpec:
    kind: StageKind
    makes: BoundaryKind
    repeated: bool = False  # once per vision block


STAGE_SPECS: tuple[StageSpec, ...] = (
    StageSpec(StageKind.PREPROCESS, BoundaryKind.PIXELS),
    StageSpec(StageKind.PATCH_EMBED, BoundaryKind.TOKENS),
    StageSpec(StageKind.VISION, BoundaryKind.TOKENS, repeated=True),
    StageSpec(StageKind.PROJECT_DOWN, BoundaryKind.CODES),
    StageSpec(StageKind.PROJECT_UP, BoundaryKind.VISUAL),
    StageSpec(StageKind.PREFILL, BoundaryKind.CACHE),
    StageSpec(StageKind.DECODE, BoundaryKind.ANSWER),
)
VISUAL_KINDS = frozenset({StageKind.PATCH_EMBED, StageKind.VISION, StageKind.PROJECT_DOWN,
                          StageKind.PROJECT_UP})  # what a visual runner executes
LM_KINDS = frozenset({StageKind.PREFILL, StageKind.DECODE})  # one tier runs both


@dataclass(frozen=True)
class Stage:
    index: int
    kind: StageKind
    makes: BoundaryKind
    block: int | None = None  # vision block number, for kind VISION

    @property
    def name(self) -> str:
        return f"vision[{self.block}]" if self.kind is StageKind.VISION else self.kind.value


@dataclass(frozen=True)
class Boundary:
    """The tensor at a cut, per image. dtype 'bytes' is the encoded image (cut 0)."""

    cut: int
    kind: BoundaryKind
    shape: tuple[int, ...]
    dtype: str  # bytes | uint8 | float32

    @property
    def name(self) -> str:
        return self.kind.value

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def is_tensor(self) -> bool:
        """A float tensor, which the tensor codecs carry."""
        return self.dtype == "float32"

    def nbytes(self) -> int:
        """Raw bytes: uint8 pixels, or float32 elements (image bytes are data-dependent). The
        encoded sizes are the codecs' (splitvlm.wire.codecs: codec(encoding).nbytes(shape))."""
        return self.elements * (4 if self.is_tensor else 1)


@dataclass(frozen=True)
class StageGraph:
    image_size: int  # S
    n_tokens: int  # N vision tokens
    vision_dim: int  # Dv
    depth: int  # L vision blocks
    n_visual: int  # N' visual tokens after projection
    code_dim: int  # width after project.down (r, or Dv without a bottleneck)
    visual_dim: int  # Dl

    @classmethod
    def from_visual_config(cls, cfg: dict[str, Any]) -> StageGraph:
        """From the visual side's JSON config (checkpoint `visual.json` -> `config`)."""
        vision, proj = cfg["vision"], cfg["projector"]
        bottleneck = proj["kind"] in ("lowrank", "resampler") and proj.get("rank")
        n_tokens = (vision["image_size"] // vision["patch_size"]) ** 2
        return cls(
            image_size=vision["image_size"], n_tokens=n_tokens, vision_dim=vision["dim"],
            depth=vision["depth"],
            n_visual=proj["n_queries"] if proj["kind"] == "resampler" else n_tokens,
            code_dim=proj["rank"] if bottleneck else vision["dim"], visual_dim=proj["out_dim"],
        )

    @cached_property
    def stages(self) -> tuple[Stage, ...]:
        out: list[Stage] = []
        for spec in STAGE_SPECS:
            blocks: list[int | None] = list(range(self.depth)) if spec.repeated else [None]
            out += [Stage(len(out) + i, spec.kind, spec.makes, b) for i, b in enumerate(blocks)]
        return tuple(out)

    @cached_property
    def n_stages(self) -> int:
        return len(self.stages)

    def index_of(self, kind: StageKind, block: int | None = None) -> int:
        """The index of the stage of `kind` (and vision `block`)."""
        for stage in self.stages:
            if stage.kind is kind and stage.block == block:
                return stage.index
        raise ValueError(f"no stage {kind}{'' if block is None else f'[{block}]'} in a graph "
                         f"of depth {self.depth}")

    @cached_property
    def preprocess(self) -> int:
        """Index of the `preprocess` stage (image bytes -> pixels)."""
        return self.index_of(StageKind.PREPROCESS)

    @cached_property
    def patch_embed(self) -> int:
        """Index of `patch_embed`; also the cut where the pixels are."""
        return self.index_of(StageKind.PATCH_EMBED)

    @cached_property
    def project_up(self) -> int:
        """Index of `project.up`; also the cut where the low-rank codes are."""
        return self.index_of(StageKind.PROJECT_UP)

    @cached_property
    def prefill(self) -> int:
        """Index of the `prefill` stage; also the last cut (the visual tokens)."""
        return self.index_of(StageKind.PREFILL)

    @cached_property
    def decode(self) -> int:
        """Index of the `decode` stage (which runs on prefill's tier)."""
        return self.index_of(StageKind.DECODE)

    @property
    def visual_stages(self) -> range:
        """patch_embed .. project.up: what a visual runner executes, pixels to visual tokens."""
        return range(self.patch_embed, self.prefill)

    @property
    def lm_stages(self) -> range:
        """prefill and decode: the stages one LM tier runs together."""
        return range(self.prefill, self.n_stages)

    @property
    def cuts(self) -> range:
        """Every cut a plan may place between tiers: 0 (image) .. `prefill` (visual tokens)."""
        return range(self.prefill + 1)

    @property
    def tensor_cuts(self) -> range:
        """The cuts whose boundary is a float tensor (after patch_embed .. the visual tokens)."""
        return range(self.patch_embed + 1, self.prefill + 1)

    def block_cut(self, blocks: int) -> int:
        """The cut after patch_embed and the first `blocks` vision blocks (0..depth)."""
        if not 0 <= blocks <= self.depth:
            raise ValueError(f"blocks={blocks}; the encoder has 0..{self.depth}")
        return self.patch_embed + 1 + blocks

    def index(self, name: str) -> int:
        for stage in self.stages:
            if stage.name == name:
                return stage.index
        raise ValueError(
            f"unknown stage {name!r}; stages are {[s.name for s in self.stages]}"
        )

    def boundary(self, cut: int) -> Boundary:
        """The tensor entering stage `cut` (per image, no batch dimension)."""
        if cut not in self.cuts:
            raise ValueError(f"cut={cut} out of range; cuts are 0..{self.prefill}")
        if cut == 0:
            return Boundary(0, BoundaryKind.IMAGE, (), "bytes")
        kind = self.stages[cut - 1].makes
        s = self.image_size
        shape, dtype = {
            BoundaryKind.PIXELS: ((s, s, 3), "uint8"),
            BoundaryKind.TOKENS: ((self.n_tokens, self.vision_dim), "float32"),
            BoundaryKind.CODES: ((self.n_visual, self.code_dim), "float32"),
            BoundaryKind.VISUAL: ((self.n_visual, self.visual_dim), "float32"),
        }[kind]
        return Boundary(cut, kind, shape, dtype)

    def describe(self, start: int, stop: int) -> str:
        """'vision[2]..decode' for a stage range [start, stop); '-' when empty."""
        return describe_range([s.name for s in self.stages], start, stop)


def describe_range(names: Sequence[str], start: int, stop: int) -> str:
    """'vision[2]..decode' for the stages [start, stop) of a graph whose names are `names`;
    '-' when empty; 'start..stop' when the names do not cover it."""
    if start >= stop:
        return "-"
    if not 0 <= start < stop <= len(names):
        return f"{start}..{stop}"
    return names[start] if stop - start == 1 else f"{names[start]}..{names[stop - 1]}"

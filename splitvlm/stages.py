"""The stage graph: stage names, cut points and the boundary tensor at every cut.

    cut 0         1        2             2+L        3+L            4+L       (5+L)
    image ─preprocess─ pixels ─patch_embed─ tokens ─vision[i]…─ tokens ─project.down─ codes
          ─project.up─ visual ─prefill+decode─▶ answer tokens

A cut k sits before stage k: cut 0 is the raw image bytes, cut `n_cuts - 1` the visual tokens in
LM space. `prefill` and `decode` run together on one tier (the KV cache never crosses a link).
No torch here: the edge plans with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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


@dataclass(frozen=True)
class Stage:
    index: int
    kind: StageKind
    block: int | None = None  # vision block number, for kind VISION

    @property
    def name(self) -> str:
        return f"vision[{self.block}]" if self.kind is StageKind.VISION else self.kind.value


@dataclass(frozen=True)
class Boundary:
    """The tensor at a cut, per image. dtype 'bytes' is the encoded image (cut 0)."""

    cut: int
    name: str  # image | pixels | tokens | codes | visual
    shape: tuple[int, ...]
    dtype: str  # bytes | uint8 | float32

    @property
    def elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def nbytes(self) -> int:
        """Raw bytes: uint8 pixels, or float32 elements (image bytes are data-dependent). The
        encoded sizes are the codecs' (splitvlm.wire.codecs: codec(encoding).nbytes(shape))."""
        return self.elements * (4 if self.dtype == "float32" else 1)


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

    @property
    def stages(self) -> tuple[Stage, ...]:
        kinds: list[tuple[StageKind, int | None]] = [
            (StageKind.PREPROCESS, None), (StageKind.PATCH_EMBED, None)]
        kinds += [(StageKind.VISION, i) for i in range(self.depth)]
        kinds += [(StageKind.PROJECT_DOWN, None), (StageKind.PROJECT_UP, None)]
        kinds += [(StageKind.PREFILL, None), (StageKind.DECODE, None)]
        return tuple(Stage(i, kind, block) for i, (kind, block) in enumerate(kinds))

    @property
    def n_stages(self) -> int:
        return self.depth + 6

    @property
    def preprocess(self) -> int:
        """Index of the `preprocess` stage (image bytes -> pixels): the first."""
        return 0

    @property
    def prefill(self) -> int:
        """Index of the `prefill` stage; also the last cut (the visual tokens)."""
        return self.depth + 4

    @property
    def cuts(self) -> range:
        """Every cut a plan may place between tiers: 0 (image) .. `prefill` (visual tokens)."""
        return range(self.prefill + 1)

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
        s = self.image_size
        if cut == 0:
            return Boundary(0, "image", (), "bytes")
        if cut == 1:
            return Boundary(1, "pixels", (s, s, 3), "uint8")
        if cut <= self.depth + 2:
            return Boundary(cut, "tokens", (self.n_tokens, self.vision_dim), "float32")
        if cut == self.depth + 3:
            return Boundary(cut, "codes", (self.n_visual, self.code_dim), "float32")
        return Boundary(cut, "visual", (self.n_visual, self.visual_dim), "float32")

    def describe(self, start: int, stop: int) -> str:
        """'vision[2]..decode' for a stage range [start, stop); '-' when empty."""
        if start >= stop:
            return "-"
        names = [s.name for s in self.stages]
        return names[start] if stop - start == 1 else f"{names[start]}..{names[stop - 1]}"

"""Objective weights, the named presets, and the planner's configuration.

    objective = latency * latency_s + energy * energy_j - accuracy * expected_accuracy

with latency in seconds, edge energy in joules and accuracy in [0, 1] (1 pt = 0.01). A preset's
exchange rates read off directly, e.g. `balanced` pays 50 ms of latency for 1 pt of accuracy:

| preset        | latency | energy | accuracy | reads as                                          |
|---------------|---------|--------|----------|---------------------------------------------------|
| fastest       | 1       | 0      | 0.001    | latency only; 1 pt = 10 us, a tie-breaker         |
| balanced      | 1       | 0.01   | 5        | 1 pt = 50 ms; 1 J of edge energy = 10 ms          |
| most-accurate | 1       | 0      | 1000     | 1 pt = 10 s: accuracy first, latency breaks ties  |
| battery       | 0.1     | 1      | 2        | in joules: 1 s = 100 mJ, 1 pt = 20 mJ             |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum


def _check(owner: str, name: str, value: float, low: float, *, strict: bool = False) -> None:
    bad = not math.isfinite(value) or value < low or (strict and value == low)
    if bad:
        bound = ">" if strict else ">="
        raise ValueError(f"{owner}.{name}={value!r}; expected a finite number {bound} {low}")


@dataclass(frozen=True)
class Weights:
    """Weights of the objective (all >= 0, not all zero)."""

    latency: float = 1.0  # per second of predicted end-to-end latency
    energy: float = 0.0  # per joule the edge spends (compute + radio)
    accuracy: float = 0.0  # per unit of expected accuracy (1.0 = 100 pts)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check("Weights", f.name, getattr(self, f.name), 0.0)
        if self.latency == self.energy == self.accuracy == 0:
            raise ValueError("Weights are all zero; the objective would not rank plans")


class Preset(StrEnum):
    FASTEST = "fastest"
    BALANCED = "balanced"
    MOST_ACCURATE = "most-accurate"
    BATTERY = "battery"


PRESETS: dict[Preset, Weights] = {
    Preset.FASTEST: Weights(latency=1.0, energy=0.0, accuracy=1e-3),
    Preset.BALANCED: Weights(latency=1.0, energy=0.01, accuracy=5.0),
    Preset.MOST_ACCURATE: Weights(latency=1.0, energy=0.0, accuracy=1000.0),
    Preset.BATTERY: Weights(latency=0.1, energy=1.0, accuracy=2.0),
}


def preset(name: str) -> Weights:
    try:
        return PRESETS[Preset(name)]
    except ValueError:
        raise ValueError(f"preset={name!r}; expected one of "
                         f"{[p.value for p in Preset]}") from None


@dataclass(frozen=True)
class PlannerConfig:
    """Constants of the cost model; defaults are documented guesses, overridable by config."""

    edge_active_w: float = 5.0
    """Watts the edge device draws while computing (a phone / Jetson-class SoC under load)."""
    edge_radio_w: float = 1.0
    """Watts the edge's radio draws while one of its hand-offs is in flight (a Wi-Fi class
    radio transmitting; cellular draws more). A hand-off costs this times its predicted
    seconds, so the same bytes cost more energy on a slower link, as airtime does."""
    lz4_ratio: float = 0.9
    """INT8_LZ4 payload / INT8 payload: int8 activations are near-random, lz4 saves little."""
    cache_ref_bytes: int = 64
    """Bytes of a CACHE_REF hand-off besides the question (content hash + encoder version)."""
    preset: str = "balanced"
    """Preset used when a request names neither a preset nor weights."""
    mape_window: int = 256
    """Recent requests over which the prediction error (MAPE of latency) is reported."""

    def __post_init__(self) -> None:
        _check("PlannerConfig", "edge_active_w", self.edge_active_w, 0.0)
        _check("PlannerConfig", "edge_radio_w", self.edge_radio_w, 0.0)
        _check("PlannerConfig", "lz4_ratio", self.lz4_ratio, 0.0, strict=True)
        if self.lz4_ratio > 1:
            raise ValueError(f"PlannerConfig.lz4_ratio={self.lz4_ratio!r}; expected <= 1 "
                             "(lz4 is used only when it shrinks the payload)")
        _check("PlannerConfig", "cache_ref_bytes", self.cache_ref_bytes, 0.0)
        _check("PlannerConfig", "mape_window", self.mape_window, 1.0)
        preset(self.preset)

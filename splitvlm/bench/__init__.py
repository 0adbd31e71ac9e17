"""`splitvlm bench NAME`: each benchmark prints its baseline and our figure from one run.

    wire    bytes and cloud-LM accuracy per boundary encoding (fp32 baseline)
    split   fixed plans vs the adaptive planner vs the oracle, per network profile
    cache   multi-turn dialogues with and without the feature cache
    batch   continuous batching vs one request at a time
    cascade edge-only, cloud LM, planner, planner with cascades: accuracy vs edge share
    overload ten times the sustainable rate: refused with a delay, the rest all answered
    faults  the first request after the fog is killed or frozen, against edge-only
    agent   a camera video through the agent, the fog killed and back: drops, reuse, outage
    hf      Hugging Face VLMs split at every cut: tokens against transformers' generate
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

BENCHES = ("wire", "split", "cache", "batch", "cascade", "overload", "faults", "agent", "hf")


def run_bench(name: str, as_json: bool, plot: str, extra: list[str]) -> int:
    if name not in BENCHES:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {BENCHES}")
    module = importlib.import_module(f"splitvlm.bench.{name}")
    result: dict[str, Any] = module.run(extra)
    if plot:
        module.plot(result, plot)
        print(f"plot written to {plot}", file=sys.stderr)
    print(json.dumps(result, indent=2) if as_json else module.render(result))
    return 0

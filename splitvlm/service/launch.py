"""Which module builds which tier's server (imported lazily: the edge never loads torch)."""

from __future__ import annotations

import importlib

from splitvlm.plan.plan import Tier
from splitvlm.service.server import Build


def builder_for(tier: Tier) -> Build:
    module = importlib.import_module(f"{tier.value}.server")
    build: Build = module.build
    return build

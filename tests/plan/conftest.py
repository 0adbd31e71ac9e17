"""Shared fixtures: the default stage graph and its candidate set (built once)."""

from __future__ import annotations

import pytest

from splitvlm.plan.candidates import CandidateSet
from splitvlm.stages import StageGraph

from .worlds import GRAPH


@pytest.fixture(scope="session")
def graph() -> StageGraph:
    return GRAPH


@pytest.fixture(scope="session")
def candidates() -> CandidateSet:
    return CandidateSet(GRAPH)

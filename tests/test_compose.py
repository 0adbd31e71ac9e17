"""compose.yaml against the services it runs, without Docker: every SPLITVLM_* variable is a
config field (the services ignore a name they do not know, so a misspelt one would be silently
lost), each service's environment makes a valid config, ports agree between a tier's setting,
its image, its healthcheck, what it publishes and the next hop the tier before it dials, and
the healthcheck is `splitvlm health`. `make cluster-check` runs the file for real."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.agent.config import ENV_PREFIX as AGENT_PREFIX
from edge.agent.config import AgentConfig, load_agent_config
from splitvlm.config import ENV_PREFIX, ServiceConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
TIERS = ("edge", "fog", "cloud")
NEXT = {"edge": "fog", "fog": "cloud"}
AGENT_CONFIG = "/etc/splitvlm/agent.toml"


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


def image_ports() -> dict[str, int]:
    """SPLITVLM_PORT that each target of the Dockerfile sets."""
    ports, target = {}, ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if m := re.match(r"FROM \S+ AS (\S+)", line):
            target = m.group(1)
        if m := re.search(r"ENV SPLITVLM_PORT=(\d+)", line):
            ports[target] = int(m.group(1))
    return ports


def published(service: str) -> dict[int, int]:
    """Container port -> host port, from `ports:` (HOST_IP:HOST:CONTAINER)."""
    return {int(p.split(":")[-1]): int(p.split(":")[-2]) for p in SERVICES[service]["ports"]}


def health_port(service: str) -> int:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "splitvlm", "health"], f"{service}: {test}"
    return int(test[-1].rsplit(":", 1)[1])


def test_every_variable_is_a_config_field() -> None:
    service_fields = {ENV_PREFIX + f.name.upper() for f in fields(ServiceConfig)}
    agent_fields = {AGENT_PREFIX + f.name.upper() for f in fields(AgentConfig)
                    if f.name != "sources"}
    for service in SERVICES:
        for name in env(service):
            known = agent_fields if name.startswith(AGENT_PREFIX) else service_fields
            assert name in known, f"{service}: {name} is no config field"


@pytest.mark.parametrize("tier", TIERS)
def test_a_tier_s_environment_is_a_valid_config_and_its_ports_agree(tier: str) -> None:
    config = load_config(tier, env=env(tier))
    assert config.port == image_ports()[tier] == health_port(tier)
    if tier == "edge":
        assert config.port in published(tier)  # the clients' way in
    if config.metrics_port:
        assert config.metrics_port in published(tier)
    if tier in NEXT:
        host, port = config.next_hop.rsplit(":", 1)
        assert host == NEXT[tier] and int(port) == load_config(NEXT[tier], env=env(host)).port
    assert {"SPLITVLM_TLS_CA", "SPLITVLM_TLS_CERT", "SPLITVLM_TLS_KEY"} <= set(env(tier))


def test_the_agent_s_config_is_valid_and_asks_the_edge() -> None:
    agent = SERVICES["agent"]
    assert agent["command"][-1] == AGENT_CONFIG
    mounted = {v.split(":")[1]: v.split(":")[0] for v in agent["volumes"]}
    config = load_agent_config(ROOT / mounted[AGENT_CONFIG], env=env("agent"))
    assert config.port == health_port("agent") and config.port in published("agent")
    assert config.edge == f"edge:{load_config('edge', env=env('edge')).port}"
    assert config.state_dir in mounted, "the agent's journal must be on a volume"
    assert [s.path for s in config.sources if s.kind == "directory"][0] in mounted


def test_each_service_waits_for_the_one_before_it_to_be_healthy() -> None:
    waits = {"fog": "cloud", "edge": "fog", "agent": "edge"}
    for service, before in waits.items():
        assert SERVICES[service]["depends_on"][before] == {"condition": "service_healthy"}
    for service in ("cloud", *waits):
        assert "healthcheck" in SERVICES[service], service


def test_named_volumes_are_declared() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in COMPOSE["volumes"], f"{name}: volume {source} undeclared"

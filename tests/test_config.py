"""Service configuration: file, environment, overrides; errors name the field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from splitvlm.config import load_config
from splitvlm.plan.plan import Precision, Tier
from splitvlm.service.server import loop_factory


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "fog.toml"
    path.write_text('[service]\ntier = "fog"\nport = 6000\ncache_bytes = 1000\n')
    cfg = load_config(None, path, env={"SPLITVLM_PORT": "7000", "SPLITVLM_INSECURE": "true"},
                      next_hop="h:1")
    assert (cfg.tier, cfg.port, cfg.cache_bytes, cfg.next_hop) == (Tier.FOG, 7000, 1000, "h:1")
    edge = load_config("edge", env={"SPLITVLM_EDGE_PRECISION": "FP32",
                                    "SPLITVLM_INSECURE": "yes"})
    assert edge.edge_precision is Precision.FP32


@pytest.mark.parametrize(("env", "message"), [
    ({"SPLITVLM_PORT": "x"}, "port='x'"),
    ({"SPLITVLM_PORT": "70000"}, "port=70000"),
    ({"SPLITVLM_THREADS": "0"}, "threads=0"),
    ({"SPLITVLM_NEXT_HOP": "nohost"}, "next_hop='nohost'"),
    ({"SPLITVLM_EDGE_PRECISION": "fp8"}, "edge_precision='fp8'"),
    ({"SPLITVLM_EVENT_LOOP": "trio"}, "event_loop='trio'"),
    ({"SPLITVLM_MDNS_INTERFACES": "127.0.0.1,eth0"}, "'eth0' is not an IPv4 address"),
    ({"SPLITVLM_ADVERTISE": "true"}, "advertise = true, but no tier calls the edge"),
])
def test_bad_values_name_the_field(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        load_config("edge", env=env)


def test_discovery_fields() -> None:
    fog = load_config("fog", env={"SPLITVLM_ADVERTISE": "true", "SPLITVLM_INSECURE": "true",
                                  "SPLITVLM_MDNS_INTERFACES": "127.0.0.1, 10.0.0.2"})
    assert fog.advertise and fog.interfaces == ["127.0.0.1", "10.0.0.2"]
    edge = load_config("edge", env={"SPLITVLM_DISCOVER": "yes", "SPLITVLM_INSECURE": "true"})
    assert edge.discover and not edge.next_hop and edge.interfaces == []
    with pytest.raises(ValueError, match="the cloud tier is the last one"):
        load_config("cloud", env={"SPLITVLM_DISCOVER": "true", "SPLITVLM_INSECURE": "true"})


def test_unknown_field_and_missing_tier(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text("[service]\nprot = 1\n")
    with pytest.raises(ValueError, match="unknown config field.*prot"):
        load_config("edge", path, env={})
    with pytest.raises(ValueError, match="tier is not set"):
        load_config(None, env={})


def test_event_loop_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvloop

    assert loop_factory("asyncio") is None
    assert loop_factory("auto") is loop_factory("uvloop") is uvloop.new_event_loop
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as where it is not installed
    assert loop_factory("auto") is None
    with pytest.raises(ValueError, match="uvloop is not installed"):  # the CLI prints it
        loop_factory("uvloop")


def test_a_config_file_for_another_tier_is_refused() -> None:
    from splitvlm.errors import ConfigError

    deploy = Path(__file__).resolve().parents[1] / "deploy"
    with pytest.raises(ConfigError, match=r"tier='edge' in .*edge.toml, but the command serves "
                                          "fog"):
        load_config("fog", deploy / "edge.toml", env={})
    assert load_config("fog", deploy / "fog.toml", env={}).tier is Tier.FOG


def test_tls_is_the_default() -> None:
    from splitvlm.errors import ConfigError

    with pytest.raises(ConfigError, match="TLS is the default and tls_ca, tls_cert, tls_key are "
                                          "not set: make a site with `splitvlm certs init"):
        load_config("fog", env={})
    with pytest.raises(ConfigError, match="the edge needs tokens_file"):
        load_config("edge", env={"SPLITVLM_TLS_CA": "ca.pem", "SPLITVLM_TLS_CERT": "e.pem",
                                 "SPLITVLM_TLS_KEY": "e.key"})
    with pytest.raises(ConfigError, match="insecure='maybe'"):
        load_config("fog", env={"SPLITVLM_INSECURE": "maybe"})
    assert load_config("fog", env={"SPLITVLM_INSECURE": "1"}).insecure

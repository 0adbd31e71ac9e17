"""Service configuration: a TOML file, then `SPLITVLM_*` environment overrides, validated.

    [service]            # in FILE.toml; every key optional
    tier = "fog"
    port = 50052
    next_hop = "127.0.0.1:50053"

    SPLITVLM_PORT=6000 splitvlm serve fog --config fog.toml   # env beats the file
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from splitvlm.errors import ConfigError
from splitvlm.plan.plan import Precision, Tier

ENV_PREFIX = "SPLITVLM_"
EVENT_LOOPS = ("auto", "uvloop", "asyncio")


@dataclass(frozen=True)
class ServiceConfig:
    tier: Tier
    """Which tier this process serves: edge, fog or cloud."""
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 0
    """Port to listen on; 0 picks a free one (printed at start-up)."""
    unix_socket: str = ""
    """Also listen on this unix socket path (reachable across network namespaces)."""
    next_hop: str = ""
    """HOST:PORT of the next tier (edge -> fog, fog -> cloud); empty on the cloud (or with
    discover = true, where a next_hop given is one more candidate beside those discovered)."""
    advertise: bool = False
    """Announce this tier on mDNS (zeroconf, `_splitvlm._tcp.local.`) once it listens, with
    its visual model, LM and load, for the tier before it to discover (fog, cloud)."""
    discover: bool = False
    """Find the next tier on mDNS instead of (or beside) next_hop: those whose visual model
    matches this tier's, picked by RTT and advertised load, failed over between (edge, fog)."""
    mdns_interfaces: str = ""
    """Comma-separated IPv4 addresses of the interfaces mDNS uses; empty: all of them."""
    checkpoint_dir: str = ""
    """Weights and ONNX graphs; empty means the shipped ones (splitvlm/checkpoints)."""
    model_dir: str = ""
    """A Hugging Face VLM saved in a local directory (LLaVA, Idefics3/SmolVLM, Qwen2-VL; the
    [hf] extra) to serve instead of the shipped family; nothing is fetched from a hub. Every
    tier of a cluster serves the same visual model (the LMs' tiers may differ in name only)."""
    max_concurrent_rpcs: int = 64
    """Calls of any kind a tier holds at once (gRPC's own cap); more are RESOURCE_EXHAUSTED."""
    max_inflight: int = 32
    """Edge: Ask requests served at once; more are refused at once, RESOURCE_EXHAUSTED with a
    retry delay (grpc-retry-pushback-ms: the recent mean service time)."""
    max_payload_bytes: int = 16 << 20
    """Largest image or boundary payload accepted; larger is INVALID_ARGUMENT."""
    grace_s: float = 5.0
    """On SIGTERM, in-flight calls get this long to finish."""
    edge_precision: Precision = Precision.INT8
    """Edge only: the precision of its ONNX vision in named plans."""
    cache_bytes: int = 64 << 20
    """Fog only: byte budget of the feature cache (L2)."""
    edge_cache_bytes: int = 4 << 20
    """Edge only: byte budget of the visual tokens it keeps of images it encoded (a frame
    that repeats, a second question about an image: no second vision run)."""
    threads: int = 2
    """Compute threads (torch / ONNX Runtime intra-op)."""
    max_batch: int = 32
    """Fog/cloud LM engine: requests decoded together."""
    max_waiting: int = 256
    """Fog/cloud LM engine: queued requests before RESOURCE_EXHAUSTED."""
    insecure: bool = False
    """Plaintext and no authentication (logged as a warning at start-up). Otherwise (the
    default) TLS with tls_cert / tls_key / tls_ca (`splitvlm certs init DIR` makes them)."""
    tls_ca: str = ""
    """The site CA's certificate (PEM): peers' certificates must be signed by it."""
    tls_cert: str = ""
    """This tier's certificate (PEM); its common name is the tier's name."""
    tls_key: str = ""
    """This tier's private key (PEM)."""
    tokens_file: str = ""
    """Edge: bearer tokens its Ask accepts, one per line."""
    client_certs: bool = False
    """Edge: require a certificate of the site from every client (then a client certificate
    is enough for Ask). The fog and the cloud always require one (the tier before them)."""
    metrics_port: int = 0
    """HTTP port of the Prometheus endpoint (/metrics) on `host`; 0: no endpoint."""
    otlp_endpoint: str = ""
    """OTLP/gRPC collector (HOST:PORT) the tier exports its request traces to; "": tracing off
    (the trace context is still passed on, so a traced tier after this one joins the trace)."""
    event_loop: str = "auto"
    """The asyncio event loop: "uvloop" (~10 % less CPU per streamed token than the standard
    loop), "asyncio", or "auto": uvloop where it is installed."""

    def __post_init__(self) -> None:
        for name in ("port", "metrics_port"):
            if not 0 <= getattr(self, name) <= 65535:
                raise ConfigError(f"{name}={getattr(self, name)} must be in 0..65535")
        for name in ("max_concurrent_rpcs", "max_inflight", "max_payload_bytes", "cache_bytes",
                     "edge_cache_bytes", "threads",
                     "max_batch", "max_waiting"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be positive")
        if self.grace_s < 0:
            raise ConfigError(f"grace_s={self.grace_s} must be >= 0")
        if self.event_loop not in EVENT_LOOPS:
            raise ConfigError(f"event_loop={self.event_loop!r} must be one of {EVENT_LOOPS}")
        self._check_mdns()
        if self.next_hop and ":" not in self.next_hop:
            raise ConfigError(f"next_hop={self.next_hop!r} must be HOST:PORT")
        missing = [n for n in ("tls_ca", "tls_cert", "tls_key") if not getattr(self, n)]
        if not self.insecure and missing:
            raise ConfigError(f"TLS is the default and {', '.join(missing)} are not set: make a "
                              "site with `splitvlm certs init DIR` and point the config at it "
                              "(tls_ca = DIR/ca.pem, tls_cert = DIR/TIER.pem, tls_key = "
                              "DIR/TIER.key), or set insecure = true for plaintext")
        if (self.tier is Tier.EDGE and not self.insecure and not self.tokens_file
                and not self.client_certs):
            raise ConfigError("the edge needs tokens_file (bearer tokens its Ask accepts; "
                              "`splitvlm certs init DIR` writes DIR/tokens) or client_certs = "
                              "true")

    def _check_mdns(self) -> None:
        for address in self.interfaces:
            try:
                ipaddress.IPv4Address(address)
            except ValueError as exc:
                raise ConfigError(f"mdns_interfaces={self.mdns_interfaces!r}: {address!r} is "
                                  "not an IPv4 address") from exc
        if self.discover and self.tier is Tier.CLOUD:
            raise ConfigError("discover = true, but the cloud tier is the last one: there is "
                              "no next tier to discover")
        if self.advertise and self.tier is Tier.EDGE:
            raise ConfigError("advertise = true, but no tier calls the edge's TierService: "
                              "clients are given the edge's address")

    @property
    def interfaces(self) -> list[str]:
        """mdns_interfaces as a list; empty: every interface."""
        return [a.strip() for a in self.mdns_interfaces.split(",") if a.strip()]

    @property
    def checkpoints(self) -> Path:
        from splitvlm.checkpoints import CHECKPOINT_DIR

        return Path(self.checkpoint_dir) if self.checkpoint_dir else CHECKPOINT_DIR


KINDS: dict[str, Any] = {"Tier": Tier, "Precision": Precision, "int": int, "float": float,
                         "str": str, "bool": bool, "tuple[str, ...]": tuple}


def _coerce(name: str, kind: Any, value: Any) -> Any:
    try:
        if kind in (Tier, Precision):
            return kind(str(value).lower())
        if kind is int and not isinstance(value, bool):
            return int(value)
        if kind is float and not isinstance(value, bool):
            return float(value)
        if kind is bool:
            return _boolean(value)
        if kind is tuple:  # a TOML list, or a comma-separated environment string
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ValueError(f"{value!r} is not a list of strings")
            return tuple(str(v).strip() for v in items if str(v).strip())
        if kind is str and isinstance(value, str | int | float):
            return str(value)
        raise ValueError(f"{value!r} is not a {getattr(kind, '__name__', kind)}")
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r}: {exc}") from exc


def typed(cls: Any, values: Mapping[str, Any], where: str, **given: Any) -> Any:
    """A `cls` dataclass from raw values (a TOML table, environment strings) and fields
    `given` typed already: an unknown field or a value of the wrong kind is a ConfigError
    naming it and `where` it came from."""
    types = {f.name: str(f.type) for f in fields(cls) if f.name not in given}
    unknown = set(values) - set(types)
    if unknown:
        raise ConfigError(f"unknown config field(s) {sorted(unknown)} in {where}; "
                          f"known: {sorted(types)}")
    coerced = {k: _coerce(f"{where}: {k}" if where else k, KINDS[types[k]], v)
               for k, v in values.items()}
    try:
        return cls(**coerced, **given)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where}: {exc}") from exc


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (true/false)")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; ConfigError naming `what` and why it cannot be read."""
    try:
        return tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc


def from_environment(names: Iterable[str], prefix: str, env: Mapping[str, str]
                     ) -> dict[str, str]:
    """The values `env` gives the fields `names` as PREFIX<FIELD> variables."""
    return {name: env[prefix + name.upper()] for name in names if prefix + name.upper() in env}


def load_config(tier: str | None, path: Path | None = None,
                env: Mapping[str, str] | None = None, **overrides: Any) -> ServiceConfig:
    """File, then environment, then explicit overrides; ConfigError names the bad field."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path is not None:
        doc = read_toml(path, "the config file")
        values.update(doc.get("service", doc))
    file_tier = values.get("tier")
    types = {f.name for f in fields(ServiceConfig)}
    unknown = set(values) - types
    if unknown:
        raise ConfigError(f"unknown config field(s) {sorted(unknown)} in {path}; "
                         f"known: {sorted(types)}")
    values.update(from_environment(types, ENV_PREFIX, env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    if tier is not None:
        if file_tier is not None and str(file_tier).lower() != str(tier).lower():
            raise ConfigError(f"tier={file_tier!r} in {path}, but the command serves "
                              f"{tier}: give the {tier}'s config file")
        values["tier"] = tier
    if "tier" not in values:
        raise ConfigError("tier is not set: give it on the command line or as tier = ...")
    config: ServiceConfig = typed(ServiceConfig, values, "")
    return config

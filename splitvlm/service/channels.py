"""Channels from a tier to the next one, plaintext or TLS as its config says.

    channel = open_channel(config, "10.0.0.7:50052")                  # a configured next_hop
    channel = open_channel(config, "10.0.0.7:50052", expect=Tier.FOG)  # a discovered one

A discovered peer is reached at whatever address it advertised, which its certificate need not
name; `expect` checks its certificate against the tier's name instead (`splitvlm certs init`
puts it in every tier's certificate), so any certificate of the site for that tier is accepted.
"""

from __future__ import annotations

import grpc

from splitvlm.config import ServiceConfig
from splitvlm.plan.plan import Tier
from splitvlm.service.credentials import channel_credentials

MESSAGE_HEADROOM = 1 << 20  # protobuf framing on top of the payload cap
RECONNECT_MS = 250  # a lost next tier is tried again after this long ...
MAX_RECONNECT_MS = 1000  # ... backing off to at most this: gRPC's default (2 minutes) would
# leave a fog that came back unused for as long as it had been away


def channel_options(config: ServiceConfig) -> list[tuple[str, int]]:
    limit = config.max_payload_bytes + MESSAGE_HEADROOM
    return [("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]


def open_channel(config: ServiceConfig, target: str, expect: Tier | None = None
                 ) -> grpc.aio.Channel:
    """A channel to `target` (HOST:PORT); `expect`: the tier its certificate must name."""
    options: list[tuple[str, int | str]] = [
        *channel_options(config), ("grpc.lb_policy_name", "round_robin"),  # a name with
        # several addresses (a headless Service: dns:///splitvlm-cloud-headless:50053) is
        # balanced over, not pinned to its first
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_MS),
        ("grpc.min_reconnect_backoff_ms", RECONNECT_MS),
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_MS)]
    if config.insecure:
        return grpc.aio.insecure_channel(target, options=options)
    if expect is not None:
        options.append(("grpc.ssl_target_name_override", expect.value))
    return grpc.aio.secure_channel(target, channel_credentials(config), options=options)

"""Who is calling: a tier's certificate, a client's certificate or bearer token; and who may.

    TierService.Execute on the fog    only the edge's certificate (CN "edge")
    TierService.Execute on the cloud  only the fog's (CN "fog")
    TierService.Execute on the edge   nobody: requests enter through EdgeService.Ask
    TierService.Status / Probe        any certificate of the site (a tier, an operator)
    EdgeService.Ask                   a bearer token the edge holds, or a client certificate
                                      (CN "client:NAME")

With `insecure = true` a tier checks nothing (and says so at start-up). Without a client
certificate the fog and the cloud refuse the connection itself (TLS requires one there).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

import grpc

from splitvlm.errors import PermissionDenied, Unauthenticated
from splitvlm.plan.plan import TIERS, Tier
from splitvlm.trust.certs import CLIENT_PREFIX
from splitvlm.trust.files import read_site_file

AUTHORIZATION = "authorization"  # metadata: "Bearer <token>"


def caller_tier(tier: Tier) -> Tier | None:
    """The only tier whose Execute calls `tier` takes (None: none may)."""
    return None if tier is Tier.EDGE else TIERS[tier.order - 1]


def peer_common_name(context: grpc.aio.ServicerContext) -> str | None:
    """The verified client certificate's common name, None without one."""
    auth = context.auth_context()
    names = auth.get("x509_common_name") or []
    return names[0].decode() if names else None


class Guard:
    """A tier's checks of its callers (see the module docstring)."""

    def __init__(self, tier: Tier, tokens: Iterable[str] = (), insecure: bool = False,
                 verified_peers: bool = True) -> None:
        """`verified_peers`: the server requires and verifies client certificates (else a
        caller has none, and only a token can prove who it is)."""
        self.tier, self.insecure, self.verified_peers = tier, insecure, verified_peers
        self._tokens = [t.encode() for t in tokens if t]

    def check_execute(self, context: grpc.aio.ServicerContext) -> None:
        if self.insecure:
            return
        allowed = caller_tier(self.tier)
        peer = peer_common_name(context)
        if allowed is None:
            raise PermissionDenied(f"the {self.tier} tier takes requests through "
                                   "EdgeService.Ask, not TierService.Execute")
        if peer != allowed.value:
            raise PermissionDenied(f"the {self.tier} tier takes Execute only from the "
                                   f"{allowed} tier; the caller's certificate is "
                                   f"{peer or 'missing'}")

    def check_peer(self, context: grpc.aio.ServicerContext) -> None:
        """Status and Probe: any certificate of the site, or (the edge) a client's token."""
        if self.insecure or peer_common_name(context) is not None:
            return
        if self.verified_peers:
            raise Unauthenticated("Status and Probe need a certificate of the site")
        self.check_client(context)

    def check_client(self, context: grpc.aio.ServicerContext) -> None:
        """EdgeService.Ask: a bearer token or a client certificate."""
        if self.insecure:
            return
        peer = peer_common_name(context)
        if peer is not None and peer.startswith(CLIENT_PREFIX):
            return
        token = _bearer(context)
        if token is None:
            raise Unauthenticated("Ask needs a bearer token (metadata 'authorization: Bearer "
                                  "TOKEN') or a client certificate of the site")
        if not any(hmac.compare_digest(token, known) for known in self._tokens):
            raise Unauthenticated("the bearer token is not one this edge accepts")


def _bearer(context: grpc.aio.ServicerContext) -> bytes | None:
    for key, value in context.invocation_metadata() or ():
        if key == AUTHORIZATION and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip().encode()
    return None


def read_tokens(path: Path | None) -> list[str]:
    """Bearer tokens from a file, one per line ('#' comments); ConfigError if unreadable."""
    if path is None:
        return []
    lines = read_site_file(path, "tokens_file").decode().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]

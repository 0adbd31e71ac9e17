"""TLS for a tier's server and for its channel to the next tier, from its config.

    server_credentials(config)    the tier's certificate; clients must present one of the site
                                  (always on the fog and the cloud; on the edge with
                                  client_certs = true)
    channel_credentials(config)   the site CA to check the next tier, this tier's certificate
                                  to be checked by it
    guard(config)                 who may call what (splitvlm.trust.identity.Guard)
"""

from __future__ import annotations

from pathlib import Path

import grpc

from splitvlm.config import ServiceConfig
from splitvlm.plan.plan import Tier
from splitvlm.trust.files import read_site_file
from splitvlm.trust.identity import Guard, read_tokens


def _read(config: ServiceConfig, field: str) -> bytes:
    return read_site_file(getattr(config, field), field)


def requires_client_certs(config: ServiceConfig) -> bool:
    return config.tier is not Tier.EDGE or config.client_certs


def server_credentials(config: ServiceConfig) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(_read(config, "tls_key"), _read(config, "tls_cert"))],
        root_certificates=_read(config, "tls_ca"),
        require_client_auth=requires_client_certs(config))


def channel_credentials(config: ServiceConfig) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=_read(config, "tls_ca"),
                                        private_key=_read(config, "tls_key"),
                                        certificate_chain=_read(config, "tls_cert"))


def guard(config: ServiceConfig) -> Guard:
    tokens = read_tokens(Path(config.tokens_file) if config.tokens_file else None)
    return Guard(config.tier, tokens, config.insecure,
                 verified_peers=requires_client_certs(config))

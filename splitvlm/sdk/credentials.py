"""How a client proves itself to the edge: the site CA to check the edge, and a bearer token or
a client certificate (both from `splitvlm certs init DIR`).

    Client(target, Credentials.site("certs/"))              # certs/ca.pem + certs/client.token
    Client(target, Credentials(ca="ca.pem", token="..."))
    Client(target)                                          # plaintext: an insecure edge only
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from splitvlm.trust.files import read_site_file


@dataclass(frozen=True)
class Credentials:
    ca: str | Path
    """The site CA's certificate (PEM): the edge's certificate must be signed by it."""
    token: str = ""
    """A bearer token the edge accepts (its tokens_file)."""
    cert: str | Path = ""
    """A client certificate (PEM) of the site, with `key`, for an edge that takes those."""
    key: str | Path = ""

    @classmethod
    def site(cls, directory: str | Path, token: bool = True) -> Credentials:
        """From a `splitvlm certs init` directory: its CA, and its client token (token=True)
        or its client certificate."""
        d = Path(directory)
        if token:
            return cls(d / "ca.pem", read_site_file(d / "client.token", "token").decode().strip())
        return cls(d / "ca.pem", cert=d / "client.pem", key=d / "client.key")

    def channel_credentials(self) -> grpc.ChannelCredentials:
        tls = grpc.ssl_channel_credentials(
            root_certificates=read_site_file(self.ca, "ca"),
            private_key=read_site_file(self.key, "key") if self.key else None,
            certificate_chain=read_site_file(self.cert, "cert") if self.cert else None)
        if not self.token:
            return tls
        return grpc.composite_channel_credentials(
            tls, grpc.access_token_call_credentials(self.token))

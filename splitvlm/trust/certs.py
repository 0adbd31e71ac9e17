"""`splitvlm certs init DIR`: a site CA, a certificate per tier, a client certificate and a
client token, made with the `cryptography` package.

    DIR/ca.pem  ca.key                 the site CA (keep ca.key off the tiers)
    DIR/{edge,fog,cloud}.pem  .key     each tier's certificate: CN = the tier's name, SANs = its
                                       hosts (default: the tier's name, localhost, 127.0.0.1)
    DIR/client.pem  client.key         a client certificate (CN = client:NAME) for the edge's Ask
    DIR/tokens                         bearer tokens the edge accepts, one per line
    DIR/client.token                   the first of them, for a client

A tier's identity is its certificate's common name; a tier accepts `Execute` only from the tier
before it (splitvlm.trust.identity). Keys are EC P-256; certificates last CERT_DAYS.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from splitvlm.errors import ConfigError
from splitvlm.plan.plan import TIERS

CA_DAYS = 3650
CERT_DAYS = 365
CLIENT_PREFIX = "client:"  # a client certificate's common name starts with it
DEFAULT_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Site:
    """The files of a site made by `init_site`."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    @property
    def tokens(self) -> Path:
        return self.directory / "tokens"

    @property
    def client_token(self) -> Path:
        return self.directory / "client.token"


def init_site(directory: Path, hosts: Mapping[str, Sequence[str]] | None = None,
              client: str = "default", ca_name: str = "splitvlm site CA") -> Site:
    """Make the files above in `directory` (created; ConfigError if it holds a CA already)."""
    site = Site(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if site.ca.exists():
        raise ConfigError(f"{site.ca} exists: this directory has a site CA already; use "
                          "another directory (or remove it to start over)")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(_name(ca_name), _name(ca_name), ca_key.public_key(), ca_key,
                           CA_DAYS, ca=True)
    _write(site.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(site.key("ca"), ca_key)
    for tier in TIERS:
        names = list(dict.fromkeys([tier.value, *(hosts or {}).get(tier.value, ()),
                                    *DEFAULT_HOSTS]))
        _issue(site, tier.value, tier.value, names, ca_cert, ca_key, server=True)
    _issue(site, "client", CLIENT_PREFIX + client, [], ca_cert, ca_key, server=False)
    token = secrets.token_urlsafe(32)
    _write(site.tokens, f"{token}\n".encode())
    _write(site.client_token, f"{token}\n".encode())
    return site


def _issue(site: Site, file: str, common_name: str, hosts: Sequence[str],
           ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, server: bool) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name(common_name), ca_cert.subject, key.public_key(), ca_key,
                        CERT_DAYS, ca=False, hosts=hosts, server=server)
    _write(site.cert(file), cert.public_bytes(serialization.Encoding.PEM))
    _write_key(site.key(file), key)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
                 signer: ec.EllipticCurvePrivateKey, days: int, ca: bool,
                 hosts: Sequence[str] = (), server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH]
                                                      if server else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)

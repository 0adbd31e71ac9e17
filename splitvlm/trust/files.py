"""Reading a site's files (certificates, keys, tokens: `splitvlm certs init`), for a tier and for
a client alike: an unreadable one is a ConfigError naming the setting and the path."""

from __future__ import annotations

from pathlib import Path

from splitvlm.errors import ConfigError


def read_site_file(path: str | Path, setting: str) -> bytes:
    """The bytes of `path`, which the setting `setting` names (e.g. "tls_ca")."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting}={str(path)!r}: cannot read it ({exc.strerror})") from exc

"""A certificate, key or token file that cannot be read is a ConfigError naming the setting and
the path, for a tier and for a client alike (never a bare OSError or a TLS failure later)."""

from __future__ import annotations

from pathlib import Path

import pytest

from splitvlm.config import ServiceConfig
from splitvlm.errors import ConfigError
from splitvlm.plan.plan import Tier
from splitvlm.sdk import Credentials
from splitvlm.service.credentials import channel_credentials, guard
from splitvlm.trust.certs import init_site


def test_a_tier_names_the_setting_it_cannot_read(tmp_path: Path) -> None:
    site = init_site(tmp_path / "site")
    missing = str(tmp_path / "nowhere.pem")
    config = ServiceConfig(Tier.FOG, tls_ca=missing, tls_cert=str(site.cert("fog")),
                           tls_key=str(site.key("fog")))
    with pytest.raises(ConfigError, match=r"tls_ca='.*nowhere\.pem': cannot read it"):
        channel_credentials(config)
    with pytest.raises(ConfigError, match="tokens_file=.*: cannot read it"):
        guard(ServiceConfig(Tier.EDGE, insecure=True, tokens_file=missing))


def test_a_client_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ca='.*ca\.pem': cannot read it"):
        Credentials(tmp_path / "ca.pem").channel_credentials()
    with pytest.raises(ConfigError, match="token=.*client.token'"):
        Credentials.site(tmp_path)

"""The three tiers as processes with TLS between them (the default) and tokens at the edge:
a client with the site's CA and a token is answered through the fog and the cloud; without a
token, or with one the edge does not hold, Ask is UNAUTHENTICATED."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from splitvlm.plan.plan import Tier
from splitvlm.processes import TierProcess, start_tier
from splitvlm.sdk import Client, Credentials, Unauthenticated
from splitvlm.trust.certs import Site, init_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scene-0.jpg"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return init_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def tls_cluster(site: Site, checkpoints: Path) -> Iterator[str]:
    """The three tiers as processes, TLS between them, tokens at the edge."""
    running: list[TierProcess] = []
    try:
        for tier, hop in (("cloud", ""), ("fog", "cloud"), ("edge", "fog")):
            env = {"SPLITVLM_INSECURE": "false", "SPLITVLM_TLS_CA": str(site.ca),
                   "SPLITVLM_TLS_CERT": str(site.cert(tier)),
                   "SPLITVLM_TLS_KEY": str(site.key(tier)),
                   "SPLITVLM_TOKENS_FILE": str(site.tokens)}
            running.append(start_tier(tier, running[-1].target if hop else "", env))
        yield running[-1].target
    finally:
        for tier in reversed(running):
            tier.proc.terminate()
            tier.proc.wait(15)
            if tier.proc.stdout is not None:
                tier.proc.stdout.close()


def test_the_three_tiers_answer_over_mtls_to_a_client_with_a_token(
        site: Site, tls_cluster: str) -> None:
    image = EXAMPLE.read_bytes()
    with Client(tls_cluster, Credentials.site(site.directory)) as client:
        answer = client.ask(image, "describe the image", plan="edge-vision+cloud-lm")
    assert answer.text and answer.plan.lm_tier is Tier.CLOUD  # through the fog to the cloud
    for credentials, message in (
            (Credentials(site.ca), "Ask needs a bearer token"),
            (Credentials(site.ca, "not-a-token"), "not one this edge accepts")):
        with Client(tls_cluster, credentials) as client, pytest.raises(Unauthenticated,
                                                                       match=message):
            client.ask(image, "describe the image", plan="edge-only")

"""The command line's exit codes: 0 done, 1 a request that failed, 2 a usage or config error;
`splitvlm health ADDR`, the grpc.health.v1 Check a container's HEALTHCHECK runs: exit 0 when the
tier is SERVING, 1 otherwise (down, draining, or refusing the caller's TLS)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from splitvlm.cli import EXIT_FAILED, EXIT_USAGE, main
from splitvlm.config import ServiceConfig
from splitvlm.embedded import embedded_cluster
from splitvlm.executor import Executor
from splitvlm.executor.builders import visual_meta
from splitvlm.executor.compute import TierCompute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import Running, TierBundle, create_server
from splitvlm.trust.certs import Site, init_site

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_config_for_another_tier_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "fog", "--config", str(ROOT / "deploy" / "edge.toml")]) == EXIT_USAGE
    assert "tier='edge'" in capsys.readouterr().err


def test_a_missing_image_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "--insecure", "--edge", "127.0.0.1:1", "no-such.jpg",
                 "describe the image"])
    assert code == EXIT_USAGE
    assert "no-such.jpg" in capsys.readouterr().err


def test_a_request_that_fails_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    image = str(ROOT / "examples" / "scene-0.jpg")
    code = main(["ask", "--insecure", "--edge", f"127.0.0.1:{_closed_port()}", image,
                 "describe the image",
                 "--deadline", "5"])
    assert code == EXIT_FAILED
    assert "NotAvailable" in capsys.readouterr().err


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ask", "--edge"])
    assert caught.value.code == EXIT_USAGE


def test_ask_needs_credentials_or_insecure(capsys: pytest.CaptureFixture[str]) -> None:
    image = str(ROOT / "examples" / "scene-0.jpg")
    assert main(["ask", "--edge", "127.0.0.1:1", image, "describe the image"]) == EXIT_USAGE
    assert "give --site DIR" in capsys.readouterr().err


async def health(*argv: str) -> int:
    """`splitvlm health ...` off the event loop that serves the tiers."""
    return await asyncio.to_thread(main, ["health", *argv])


async def test_every_tier_of_a_cluster_is_serving(
        checkpoints: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with embedded_cluster(checkpoints, transport="grpc") as cluster:
        for tier in Tier:
            assert await health(cluster.target(tier), "--insecure") == 0
            assert f"{cluster.target(tier)} SERVING" in capsys.readouterr().out


async def test_a_closed_port_is_unhealthy(unused_tcp_port: int,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    address = f"127.0.0.1:{unused_tcp_port}"
    assert await health(address, "--insecure", "--timeout", "0.5") == EXIT_FAILED
    assert capsys.readouterr().err.startswith(f"{address} UNAVAILABLE")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return init_site(tmp_path_factory.mktemp("site"))


@pytest_asyncio.fixture
async def tls_fog(site: Site, checkpoints: Path) -> AsyncIterator[tuple[Running, str]]:
    """The fog's server with TLS, over an executor without models (health needs none)."""
    config = ServiceConfig(Tier.FOG, tls_ca=str(site.ca), tls_cert=str(site.cert("fog")),
                           tls_key=str(site.key("fog")))
    graph, version = visual_meta(checkpoints)
    running, port = await create_server(
        config, TierBundle(Executor(Tier.FOG, TierCompute(graph, version))))
    yield running, f"127.0.0.1:{port}"
    await running.stop(0)


async def test_tls_needs_a_certificate_of_the_site(
        tls_fog: tuple[Running, str], site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    _, address = tls_fog
    assert await health(address, "--site", str(site.directory)) == 0
    assert await health(address, "--ca", str(site.ca), "--timeout", "1") == EXIT_FAILED
    # none given: the tier's own settings, as beside it in its container
    monkeypatch.setenv("SPLITVLM_TLS_CA", str(site.ca))
    monkeypatch.setenv("SPLITVLM_TLS_CERT", str(site.cert("fog")))
    monkeypatch.setenv("SPLITVLM_TLS_KEY", str(site.key("fog")))
    assert await health(address) == 0


async def test_a_draining_tier_is_unhealthy(tls_fog: tuple[Running, str], site: Site,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    running, address = tls_fog
    await running.health.enter_graceful_shutdown()
    assert await health(address, "--site", str(site.directory)) == EXIT_FAILED
    assert f"{address} NOT_SERVING" in capsys.readouterr().err

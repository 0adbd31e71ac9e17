"""mTLS between tiers and tokens for clients, on real TLS over loopback: a tier takes Execute
only from the tier before it (by the peer certificate's name), a certificate of another site or
none at all is refused at the handshake, and Ask needs a token the edge holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.executor.builders import visual_meta
from splitvlm.executor.compute import TierCompute
from splitvlm.plan.plan import Tier
from splitvlm.service.server import TierBundle, create_server
from splitvlm.trust.certs import Site, init_site
from splitvlm.v1 import tier_pb2, tier_pb2_grpc

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = grpc.StatusCode


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return init_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return init_site(tmp_path_factory.mktemp("other"))


def tls_config(site: Site, tier: Tier, **overrides: object) -> ServiceConfig:
    extra = {"tokens_file": str(site.tokens)} if tier is Tier.EDGE else {}
    return ServiceConfig(tier, tls_ca=str(site.ca), tls_cert=str(site.cert(tier.value)),
                         tls_key=str(site.key(tier.value)), **extra, **overrides)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ports(site: Site, checkpoints: Path) -> AsyncIterator[dict[Tier, int]]:
    """Each tier's TierService with TLS, over an executor without models (enough to answer
    Status, and to tell an Execute refused by identity from one refused for its body)."""
    graph, version = visual_meta(checkpoints)
    running, out = [], {}
    for tier in Tier:
        server, out[tier] = await create_server(
            tls_config(site, tier), TierBundle(Executor(tier, TierCompute(graph, version))))
        running.append(server)
    yield out
    for server in running:
        await server.stop(0)


def as_identity(site: Site, name: str | None) -> grpc.ChannelCredentials:
    if name is None:
        return grpc.ssl_channel_credentials(root_certificates=site.ca.read_bytes())
    return grpc.ssl_channel_credentials(site.ca.read_bytes(), site.key(name).read_bytes(),
                                        site.cert(name).read_bytes())


async def execute(port: int, credentials: grpc.ChannelCredentials) -> grpc.StatusCode:
    """An Execute with an empty body: its status says whether the caller got past identity."""
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        call = tier_pb2_grpc.TierServiceStub(channel).Execute(iter([]), timeout=5)
        try:
            async for _ in call:
                pass
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return S.OK


async def status(port: int, credentials: grpc.ChannelCredentials) -> grpc.StatusCode:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        try:
            await tier_pb2_grpc.TierServiceStub(channel).Status(tier_pb2.StatusRequest(),
                                                                timeout=5)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return S.OK


@pytest.mark.parametrize(("tier", "caller", "expected"), [
    (Tier.FOG, "edge", S.INVALID_ARGUMENT),  # let in; its empty body is then refused
    (Tier.FOG, "cloud", S.PERMISSION_DENIED),
    (Tier.FOG, "fog", S.PERMISSION_DENIED),
    (Tier.FOG, "client", S.PERMISSION_DENIED),
    (Tier.CLOUD, "fog", S.INVALID_ARGUMENT),
    (Tier.CLOUD, "edge", S.PERMISSION_DENIED),
    (Tier.CLOUD, "client", S.PERMISSION_DENIED),
    (Tier.EDGE, "client", S.PERMISSION_DENIED),  # requests enter through Ask
], ids=lambda v: getattr(v, "value", v) if not isinstance(v, grpc.StatusCode) else v.name)
async def test_a_tier_takes_execute_only_from_the_tier_before_it(
        site: Site, ports: dict[Tier, int], tier: Tier, caller: str,
        expected: grpc.StatusCode) -> None:
    assert await execute(ports[tier], as_identity(site, caller)) is expected


@pytest.mark.parametrize("tier", [Tier.FOG, Tier.CLOUD], ids=str)
async def test_fog_and_cloud_refuse_a_caller_without_a_site_certificate(
        site: Site, other_site: Site, ports: dict[Tier, int], tier: Tier) -> None:
    assert await status(ports[tier], as_identity(site, "edge")) is S.OK
    assert await status(ports[tier], as_identity(site, None)) is S.UNAVAILABLE  # none
    foreign = grpc.ssl_channel_credentials(site.ca.read_bytes(),
                                           other_site.key("edge").read_bytes(),
                                           other_site.cert("edge").read_bytes())
    assert await status(ports[tier], foreign) is S.UNAVAILABLE  # another site's


async def test_a_client_does_not_trust_a_tier_of_another_site(
        other_site: Site, ports: dict[Tier, int]) -> None:
    assert await status(ports[Tier.EDGE], as_identity(other_site, "client")) is S.UNAVAILABLE

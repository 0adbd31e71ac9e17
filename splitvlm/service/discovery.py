"""Tiers found on mDNS (zeroconf): a fog (or cloud) advertises itself, the tier before it
browses for it and keeps those it can use.

    advertiser = await advertise(config, port, executor)          # advertise = true
    browser = await Browser.start(config, pool, visual_version)   # discover = true
    await advertiser.close(); await browser.close()               # goodbye; stop browsing

One service type, `_splitvlm._tcp.local.`; an instance per tier process, named for its tier,
host and port. Its TXT record (the `Advert`):

    tier    fog | cloud          which tier answers there
    proto   v1                   the wire protocol (splitvlm/v1)
    visual  1ef89ad544855f7b     the visual model's version hash (checkpoints/visual.json): the
                                 feature keys and cached visual tokens are keyed by it, so a
                                 browser keeps only peers whose hash is its own
    lms     fog                  the LM(s) it serves, comma-separated
    load    3                    requests executing there now (its LM's queue included),
                                 refreshed every LOAD_REFRESH_S while it changes

The browser hands what it keeps to a `Failover` pool (splitvlm.service.failover), which picks
among them; a peer that leaves mDNS (its goodbye on shutdown) leaves the pool. A killed one
sends none: python-zeroconf keeps its pointer record at least 1125 s, and the pool keeps it
out of preference, probed every few seconds, until then (or until it answers again).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from splitvlm.config import ServiceConfig
from splitvlm.executor import Executor
from splitvlm.plan.plan import TIERS, Tier

if TYPE_CHECKING:
    from splitvlm.service.failover import Failover

SERVICE_TYPE = "_splitvlm._tcp.local."
PROTO = "v1"
LOAD_REFRESH_S = 2.0
RESOLVE_TIMEOUT_MS = 3000
ANY_ADDRESS = ("", "0.0.0.0", "::")
log = logging.getLogger("splitvlm.discovery")


class AdvertError(ValueError):
    """A TXT record that is not a splitvlm advert (a field missing or malformed)."""


@dataclass(frozen=True)
class Advert:
    """One advertised tier, as its TXT record and address records say."""

    name: str  # the mDNS instance name, e.g. "fog-host-50052._splitvlm._tcp.local."
    tier: str
    proto: str
    visual: str
    lms: tuple[str, ...]
    load: int
    addresses: tuple[str, ...]  # IPv4, as advertised
    port: int

    @property
    def target(self) -> str:
        """HOST:PORT to call it at: its first advertised address that is not loopback (a peer
        on another host cannot reach that), else its first."""
        routable = [a for a in self.addresses if not ipaddress.ip_address(a).is_loopback]
        return f"{(routable or list(self.addresses))[0]}:{self.port}"

    def properties(self) -> dict[str, str]:
        return {"tier": self.tier, "proto": self.proto, "visual": self.visual,
                "lms": ",".join(self.lms), "load": str(self.load)}


def parse_advert(name: str, properties: dict[str, str | None], addresses: list[str],
                 port: int | None) -> Advert:
    """An Advert from a resolved service; AdvertError naming what is wrong."""
    missing = [k for k in ("tier", "proto", "visual", "lms", "load") if not properties.get(k)]
    if missing:
        raise AdvertError(f"{name}: TXT lacks {', '.join(missing)}")
    if not addresses or not port:
        raise AdvertError(f"{name}: no IPv4 address or port")
    load = str(properties["load"])
    if not load.isdigit():
        raise AdvertError(f"{name}: load={load!r} is not a count of requests")
    return Advert(name, str(properties["tier"]), str(properties["proto"]),
                  str(properties["visual"]),
                  tuple(m for m in str(properties["lms"]).split(",") if m), int(load),
                  tuple(addresses), port)


def mismatch(advert: Advert, tier: Tier, visual: str) -> str | None:
    """Why a browser looking for `tier` with visual model `visual` cannot use `advert`
    (None: it can)."""
    if advert.tier != tier.value:
        return f"it is a {advert.tier} tier, not a {tier}"
    if advert.proto != PROTO:
        return f"it speaks protocol {advert.proto}, not {PROTO}"
    if advert.visual != visual:
        return (f"its visual model is {advert.visual}, not {visual} (features and cached "
                "visual tokens would not match)")
    return None


def zeroconf_for(config: ServiceConfig) -> AsyncZeroconf:
    """Zeroconf on config.mdns_interfaces (empty: all), IPv4."""
    interfaces = config.interfaces
    return AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only) if interfaces \
        else AsyncZeroconf(ip_version=IPVersion.V4Only)


def advertised_addresses(config: ServiceConfig) -> list[str]:
    """The address the server listens on; for 0.0.0.0, the interfaces' addresses."""
    if config.host not in ANY_ADDRESS:
        return [socket.gethostbyname(config.host)]
    if config.interfaces:
        return config.interfaces
    import ifaddr

    return [str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips
            if ip.is_IPv4]  # loopback among them, for a browser on this host


async def advertise(config: ServiceConfig, port: int, executor: Executor) -> Advertiser:
    """`executor`'s tier on mDNS, listening at `port` (serve() calls it once it listens)."""
    host = socket.gethostname().split(".")[0] or "host"
    compute = executor.compute
    advert = Advert(f"{config.tier}-{host}-{port}.{SERVICE_TYPE}", config.tier.value, PROTO,
                    compute.visual_version, (compute.lm_name,) if compute.lm_name else (), 0,
                    tuple(advertised_addresses(config)), port)
    return await Advertiser.start(zeroconf_for(config), advert, lambda: executor.active)


class Advertiser:
    """One advert on mDNS: registered, its load kept fresh (`load()`: requests executing now,
    those queued at the LM included), withdrawn with a goodbye on close."""

    def __init__(self, zc: AsyncZeroconf, advert: Advert, load: Callable[[], int]) -> None:
        self.zc, self.advert, self.load = zc, advert, load
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, zc: AsyncZeroconf, advert: Advert, load: Callable[[], int]
                    ) -> Advertiser:
        """Registered (mDNS probes the name first: a second or two) and kept fresh."""
        advertiser = cls(zc, advert, load)
        try:
            await advertiser._publish(register=True)
        except BaseException:
            await zc.async_close()
            raise
        log.info("advertising %s at %s on mDNS: %s", advert.name, advert.target,
                 advert.properties())
        advertiser._task = asyncio.get_running_loop().create_task(advertiser._refresh())
        return advertiser

    def _info(self) -> AsyncServiceInfo:
        a = self.advert
        return AsyncServiceInfo(SERVICE_TYPE, a.name, port=a.port, properties=a.properties(),
                                server=a.name.removesuffix(SERVICE_TYPE) + "local.",
                                parsed_addresses=list(a.addresses))

    async def _publish(self, register: bool = False) -> None:
        publish = self.zc.async_register_service if register else self.zc.async_update_service
        await (await publish(self._info()))  # scheduled, then sent

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(LOAD_REFRESH_S)
            load = self.load()
            if load != self.advert.load:
                self.advert = replace(self.advert, load=load)
                await self._publish()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await (await self.zc.async_unregister_service(self._info()))
        await self.zc.async_close()


class Browser:
    """Peers of the next tier on mDNS, checked (`mismatch`) and handed to a Failover pool."""

    def __init__(self, zc: AsyncZeroconf, pool: Failover, tier: Tier, visual: str) -> None:
        self.zc, self.pool, self.tier, self.visual = zc, pool, tier, visual
        self._pending: set[asyncio.Task[None]] = set()
        self._ignored: dict[str, str] = {}  # name -> why, logged once
        self._browser: AsyncServiceBrowser | None = None

    @classmethod
    async def start(cls, config: ServiceConfig, pool: Failover, visual: str) -> Browser:
        browser = cls(zeroconf_for(config), pool, TIERS[config.tier.order + 1], visual)
        await browser.begin()
        return browser

    async def begin(self) -> None:
        """Browse from now on (the first queries go out at once)."""
        self._browser = AsyncServiceBrowser(self.zc.zeroconf, SERVICE_TYPE,
                                            handlers=[self._changed])
        log.info("browsing mDNS for %s tiers (%s) with visual model %s", self.tier,
                 SERVICE_TYPE, self.visual)

    def _changed(self, zeroconf: Zeroconf, service_type: str, name: str,
                 state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            self._ignored.pop(name, None)
            self.pool.remove(name, "it left mDNS")
            return
        task = asyncio.get_running_loop().create_task(self._resolve(name))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _resolve(self, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self.zc.zeroconf, RESOLVE_TIMEOUT_MS):
            log.warning("%s is on mDNS but did not resolve within %d ms", name,
                        RESOLVE_TIMEOUT_MS)
            return
        try:
            advert = parse_advert(name, info.decoded_properties,
                                  info.parsed_addresses(IPVersion.V4Only), info.port)
        except AdvertError as exc:
            self._ignore(name, str(exc))
            return
        why = mismatch(advert, self.tier, self.visual)
        if why is not None:
            self._ignore(name, why)
            return
        self._ignored.pop(name, None)
        self.pool.offer(advert.name, advert.target, advert.load)

    def _ignore(self, name: str, why: str) -> None:
        if self._ignored.get(name) != why:
            log.info("ignoring %s: %s", name, why)
        self._ignored[name] = why
        self.pool.remove(name, why)

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        if self._browser is not None:
            await self._browser.async_cancel()
        await self.zc.async_close()

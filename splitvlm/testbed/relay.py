"""A TCP relay that delays every byte by a fixed one-way delay, in both directions.

netem is unavailable in this kernel, so link delay is emulated at the application level: each
chunk read from one side is written to the other `delay_s` after it was read. A round trip
through the relay therefore costs 2 x delay_s on top of the wire. Order is preserved (one FIFO
per direction), a half-close (EOF) is forwarded after the same delay, and each direction
buffers at most `queue_chunks` x `chunk_bytes` before it stops reading (back-pressure).

The TCP handshake itself is not delayed; only data and FIN are.

    python -m splitvlm.testbed.relay --listen 10.231.1.2:50052 --target 127.0.0.1:50052 \
        --delay-s 0.03
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

READY_LINE = "relay listening on"


@dataclass(frozen=True)
class RelayConfig:
    """Where the relay listens, where it forwards, and how much it delays."""

    listen_host: str
    listen_port: int
    """0 picks a free port (see the server's sockets)."""
    target_host: str
    target_port: int
    delay_s: float
    """One-way delay added to each direction."""
    chunk_bytes: int = 64 * 1024
    """Largest read from a socket."""
    queue_chunks: int = 64
    """Chunks in flight per direction before reading pauses (bounds memory)."""

    def __post_init__(self) -> None:
        if not 0 <= self.delay_s <= 60:
            raise ValueError(f"delay_s must be in [0, 60], got {self.delay_s!r}")
        for field in ("listen_port", "target_port"):
            port = getattr(self, field)
            if not 0 <= port <= 65535:
                raise ValueError(f"{field} must be in [0, 65535], got {port!r}")
        if self.chunk_bytes < 1 or self.queue_chunks < 1:
            raise ValueError(
                f"chunk_bytes and queue_chunks must be >= 1, got "
                f"{self.chunk_bytes!r}, {self.queue_chunks!r}"
            )


async def _read_side(
    reader: asyncio.StreamReader,
    queue: asyncio.Queue[tuple[float, bytes]],
    cfg: RelayConfig,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        data = await reader.read(cfg.chunk_bytes)
        await queue.put((loop.time() + cfg.delay_s, data))  # b"" marks EOF
        if not data:
            return


async def _write_side(
    writer: asyncio.StreamWriter, queue: asyncio.Queue[tuple[float, bytes]]
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due, data = await queue.get()
        wait_s = due - loop.time()
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        if not data:
            if writer.can_write_eof():
                writer.write_eof()
            return
        writer.write(data)
        await writer.drain()


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cfg: RelayConfig
) -> None:
    """Copy one direction with the delay, until EOF has been delivered."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=cfg.queue_chunks)
    async with asyncio.TaskGroup() as group:
        group.create_task(_read_side(reader, queue, cfg))
        group.create_task(_write_side(writer, queue))


async def _relay_connection(
    client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, cfg: RelayConfig
) -> None:
    try:
        target_r, target_w = await asyncio.open_connection(cfg.target_host, cfg.target_port)
    except OSError as exc:
        log.warning("relay: cannot reach %s:%d: %s", cfg.target_host, cfg.target_port, exc)
        await _close_all([client_w], abort=True)
        return
    abort = True  # unless both directions finish with EOF
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_pump(client_r, target_w, cfg))
            group.create_task(_pump(target_r, client_w, cfg))
        abort = False
    except* OSError as group_exc:  # a reset on either side ends both
        log.info("relay: connection ended by %r", group_exc.exceptions[0])
    finally:
        await _close_all([client_w, target_w], abort)


async def _close_all(writers: list[asyncio.StreamWriter], abort: bool) -> None:
    for writer in writers:
        if abort:
            writer.transport.abort()
        else:
            writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


class DelayRelay:
    """A listening relay that owns its connections: `aclose()` ends them all.

        async with DelayRelay(cfg) as relay:
            connect to ("127.0.0.1", relay.port)
    """

    def __init__(self, cfg: RelayConfig) -> None:
        self.cfg = cfg
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Start listening; returns the bound port."""
        self._server = await asyncio.start_server(
            self._handle, self.cfg.listen_host, self.cfg.listen_port
        )
        return self.port

    @property
    def port(self) -> int:
        """The port the relay listens on (useful with listen_port=0)."""
        if self._server is None:
            raise RuntimeError("relay not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await _relay_connection(reader, writer, self.cfg)
        finally:
            self._connections.discard(task)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def aclose(self) -> None:
        """Stop listening and abort every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> DelayRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def serve(cfg: RelayConfig) -> None:
    """Run the relay until cancelled, announcing readiness on stdout."""
    relay = DelayRelay(cfg)
    port = await relay.start()
    print(f"{READY_LINE} {cfg.listen_host}:{port} -> {cfg.target_host}:{cfg.target_port}"
          f" delay_s={cfg.delay_s}", flush=True)  # fmt: skip
    try:
        await relay.serve_forever()
    finally:
        await relay.aclose()


def parse_hostport(text: str) -> tuple[str, int]:
    """"HOST:PORT" -> (host, port); ValueError names the bad text."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m splitvlm.testbed.relay", description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT to accept on")
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay-s", type=float, required=True, help="one-way delay, seconds")
    args = parser.parse_args(argv)
    try:
        listen, target = parse_hostport(args.listen), parse_hostport(args.target)
        cfg = RelayConfig(*listen, *target, delay_s=args.delay_s)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())

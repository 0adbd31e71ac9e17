"""The delaying relay on loopback: it adds the delay each way and keeps every byte in order."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from splitvlm.testbed.relay import READY_LINE, DelayRelay, RelayConfig


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    """A loopback echo server whose connections are all closed on teardown."""
    writers: list[asyncio.StreamWriter] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            return
        finally:
            await _closed(writer)

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)


def _relay(target_port: int, delay_s: float) -> DelayRelay:
    return DelayRelay(RelayConfig("127.0.0.1", 0, "127.0.0.1", target_port, delay_s))


async def _closed(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except ConnectionError:
        pass


async def test_round_trip_costs_twice_the_delay(echo_port: int) -> None:
    async with _relay(echo_port, 0.050) as relay:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        rtts = []
        for _ in range(4):
            start = time.perf_counter()
            writer.write(b"p")
            await writer.drain()
            assert await reader.readexactly(1) == b"p"
            rtts.append(time.perf_counter() - start)
        await _closed(writer)
    assert 0.095 <= min(rtts) and max(rtts) <= 0.160, rtts


async def test_one_megabyte_arrives_intact_and_half_close_is_forwarded(echo_port: int) -> None:
    payload = os.urandom(1 << 20)
    async with _relay(echo_port, 0.020) as relay:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)

        async def send() -> None:
            for i in range(0, len(payload), 10_000):
                writer.write(payload[i : i + 10_000])
                await writer.drain()
            writer.write_eof()  # the echo server only closes once this EOF reaches it

        sender = asyncio.create_task(send())
        echoed = await asyncio.wait_for(reader.read(), timeout=10)  # until the echoed EOF
        await sender
        await _closed(writer)
    assert echoed == payload


async def test_unreachable_target_closes_the_client() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    dead_port = int(probe.sockets[0].getsockname()[1])
    probe.close()
    await probe.wait_closed()
    async with _relay(dead_port, 0.0) as relay:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        try:
            data = await asyncio.wait_for(reader.read(), timeout=5)
        except ConnectionResetError:
            data = b""
        await _closed(writer)
    assert data == b""


def test_module_runs_as_a_command_and_announces_readiness() -> None:
    argv = [sys.executable, "-m", "splitvlm.testbed.relay", "--listen", "127.0.0.1:0",
            "--target", "127.0.0.1:9", "--delay-s", "0.01"]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith(READY_LINE)
        finally:
            proc.terminate()
            proc.wait(timeout=5)


def test_bad_hostport_is_a_usage_error() -> None:
    argv = [sys.executable, "-m", "splitvlm.testbed.relay", "--listen", "nowhere",
            "--target", "127.0.0.1:9", "--delay-s", "0.01"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and "HOST:PORT" in done.stderr

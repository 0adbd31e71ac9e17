"""The whole testbed, for real: namespaces, tbf, relays, the edge cgroup, and a clean down.

Needs root, iproute2 and cgroup v1 `cpu`; skipped with the reason otherwise. Uses its own
prefix so that a testbed brought up by hand (prefix "svtb") is never touched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from splitvlm import testbed as tb
from splitvlm.testbed.procs import is_alive
from splitvlm.testbed.state import STATE_NAME

REASON = tb.root_reason()
pytestmark = [
    pytest.mark.root,
    pytest.mark.timeout(90),
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]

PREFIX = "svtbt"
PORTS = {"edge": 41001, "fog": 41002, "cloud": 41003}
PROFILE = tb.Profile(
    "test",
    edge_fog=tb.LinkSpec(bandwidth_bps=2e6, delay_s=0.040),
    fog_cloud=tb.LinkSpec(bandwidth_bps=50e6, delay_s=0.010),
    edge_cpu_quota=0.25,
)

ECHO_SERVER = """
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo) as server:
    server.serve_forever()
"""

# Best round trip of 5 one-byte pings, then the time to echo `nbytes` (sent and received at
# once, each direction over its own shaped half of the link).
PROBE_CLIENT = """
import json, socket, sys, threading, time
host, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port), timeout=20)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
rtts = []
for _ in range(5):
    start = time.perf_counter()
    sock.sendall(b"x")
    assert sock.recv(1) == b"x"
    rtts.append(time.perf_counter() - start)
payload = bytes(range(256)) * (nbytes // 256)
start = time.perf_counter()
sender = threading.Thread(target=sock.sendall, args=(payload,))
sender.start()
got = bytearray()
while len(got) < len(payload) and (chunk := sock.recv(65536)):
    got += chunk
elapsed = time.perf_counter() - start
sender.join()
sock.close()
print(json.dumps({"rtt_s": min(rtts), "transfer_s": elapsed, "intact": bytes(got) == payload}))
"""

CONNECT_CLIENT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
    print("connected")
except OSError as exc:
    print(type(exc).__name__)
"""

BUSY_CLIENT = """
import time
wall0, cpu0 = time.perf_counter(), time.process_time()
while time.perf_counter() - wall0 < 0.6:
    pass
print((time.process_time() - cpu0) / (time.perf_counter() - wall0))
"""


def _services() -> dict[str, list[str]]:
    return {
        "edge": ["sleep", "300"],
        "fog": [sys.executable, "-c", ECHO_SERVER, str(PORTS["fog"])],
        "cloud": [sys.executable, "-c", ECHO_SERVER, str(PORTS["cloud"])],
    }


def _bed() -> tb.Testbed:
    ports = {"fog": PORTS["fog"], "cloud": PORTS["cloud"]}  # `sleep` on the edge listens nowhere
    return tb.Testbed(PROFILE, _services(), ports, prefix=PREFIX)


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def _in_ns(bed: tb.Testbed, tier: str, argv: list[str]) -> list[str]:
    """`argv` in the tier's namespace but outside the edge cgroup: network timings here should
    not include CPU throttling."""
    return ["ip", "netns", "exec", bed.topology.ns(tier), *argv]


def _leftovers() -> list[str]:
    namespaces = _run(["ip", "netns", "list"]).splitlines()
    links = _run(["ip", "-o", "link", "show"]).splitlines()
    found = [line for line in namespaces if line.startswith(f"{PREFIX}-")]
    found += [line for line in links if f"{PREFIX}-" in line]
    found += [str(p) for p in Path("/sys/fs/cgroup/cpu").glob(f"{PREFIX}-*")]
    found += [str(p) for p in Path("/run/splitvlm-testbed").glob(f"{PREFIX}/**/*")]
    return found


@pytest.fixture(autouse=True, scope="module")
def _nothing_left_behind() -> Iterator[None]:
    tb.testbed_down(PREFIX)  # a crashed earlier run
    try:
        yield
    finally:
        tb.testbed_down(PREFIX)


@pytest.fixture(scope="module")
def bed() -> Iterator[tb.Testbed]:
    with _bed() as up:
        yield up


def test_status_reports_links_processes_and_quota(bed: tb.Testbed) -> None:
    status: dict[str, Any] = bed.status()
    assert status["up"] and status["edge_cpu_quota_us"] == 25_000
    assert all(p["alive"] for p in status["processes"])
    assert {(p["role"], p["tier"]) for p in status["processes"]} == {
        ("relay", "fog"), ("relay", "cloud"),
        ("service", "edge"), ("service", "fog"), ("service", "cloud"),
    }  # fmt: skip
    for qdisc in status["qdiscs"]["edge_fog"].values():
        assert "tbf" in qdisc and "rate 2Mbit" in qdisc
    assert bed.fog_endpoint == f"10.231.1.2:{PORTS['fog']}"
    with pytest.raises(tb.TestbedBusyError):
        _bed().up()


def test_edge_to_fog_is_shaped_and_delayed(bed: tb.Testbed) -> None:
    host, port = bed.fog_endpoint.split(":")
    nbytes = 250 * 1024
    probe = json.loads(_run(_in_ns(bed, "edge", [sys.executable, "-c", PROBE_CLIENT,
                                                  host, port, str(nbytes)])))  # fmt: skip
    assert probe["intact"]
    assert 0.075 <= probe["rtt_s"] <= 0.140, probe  # 2 x 40 ms through the fog's relay
    # 250 KiB at 2 Mbit/s is 1.02 s per direction (both run at once)
    assert 0.8 <= probe["transfer_s"] <= 5.0, probe


def test_fog_reaches_cloud_but_edge_does_not(bed: tb.Testbed) -> None:
    host, port = bed.cloud_endpoint.split(":")
    probe = json.loads(_run(_in_ns(bed, "fog", [sys.executable, "-c", PROBE_CLIENT,
                                                 host, port, "65536"])))  # fmt: skip
    assert probe["intact"] and 0.018 <= probe["rtt_s"] <= 0.080, probe
    edge_try = _run(_in_ns(bed, "edge", [sys.executable, "-c", CONNECT_CLIENT, host, port]))
    assert edge_try != "connected"  # the fog does not route; only its services relay


def test_edge_runs_in_its_cgroup_at_a_quarter_core(bed: tb.Testbed) -> None:
    cg = Path(f"/sys/fs/cgroup/cpu/{PREFIX}-edge")
    assert (cg / "cpu.cfs_period_us").read_text().strip() == "100000"
    assert (cg / "cpu.cfs_quota_us").read_text().strip() == "25000"
    (edge,) = [p for p in bed.status()["processes"] if p["tier"] == "edge"]
    assert f":cpu:/{PREFIX}-edge" in Path(f"/proc/{edge['pid']}/cgroup").read_text()
    share = float(_run(bed.exec_argv("edge", [sys.executable, "-c", BUSY_CLIENT])))
    assert share <= 0.40, f"edge got {share:.2f} of a core with a 0.25 quota"
    assert "nr_throttled 0\n" not in (cg / "cpu.stat").read_text()


def test_failed_up_removes_everything(bed: tb.Testbed) -> None:
    bed.down()  # ends the shared testbed; later tests bring up their own
    broken = tb.Testbed(PROFILE, {"fog": ["sh", "-c", "echo no such server; exit 3"]},
                     {"fog": PORTS["fog"]}, prefix=PREFIX)  # fmt: skip
    with pytest.raises(tb.TestbedError, match="(?s)exited with status 3.*no such server"):
        broken.up()
    assert _leftovers() == []


def test_down_from_another_process_removes_everything() -> None:
    bed = _bed()
    bed.up()
    try:
        state_file = bed.state_dir / STATE_NAME
        assert state_file.exists() and _leftovers()
        started = [(p["pid"], p["start_ticks"]) for p in bed.status()["processes"]]
        _run([sys.executable, "-m", "splitvlm.testbed.cli", "down", "--prefix", PREFIX])
        assert not state_file.exists()
        assert _leftovers() == []
        assert len(started) == 5 and not any(is_alive(*p) for p in started)
    finally:
        bed.down()  # idempotent: nothing left to do but reap our children
    bed.down()
    assert _leftovers() == []

"""`make cluster-check`: compose.yaml run for real, from images to `down`, each step timed.

    python deploy/cluster_check.py [--no-build] [--keep]

1. builds the base image (deploy/base-image.sh), the wheelhouse and the edge, fog and cloud
   images (the Dockerfile's targets);
2. checks that torch cannot be imported in the edge's image (and the edge's runtime can);
   `docker-compose up -d` and waits until every service is healthy;
3. asks examples/*'s questions (examples/examples.json, as `splitvlm demo` does) through the
   SDK from the host, with TLS and the site's client token: every answer must equal the one
   `splitvlm demo`'s in-process cluster gives under the same plan;
4. the agent: a frame copied into its `frames` volume is answered in its results.jsonl;
5. scrapes each tier's /metrics (skipped, with a message, where no endpoint answers);
6. kills the fog (SIGKILL): the edge keeps answering, its own LM, `degraded`; the fog is
   started again and the edge goes back to it;
7. `docker-compose down -v` and checks that no container, network or volume is left.

Exit 0 when every check passed, 1 otherwise (the failed check is named).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from splitvlm.demo import COMPARED
from splitvlm.embedded import embedded_cluster
from splitvlm.plan.plan import Tier
from splitvlm.sdk import Answer, AsyncClient, Client, Credentials, NotAvailable

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "splitvlm-check"
COMPOSE = ["docker-compose", "-p", PROJECT, "-f", str(ROOT / "compose.yaml")]
TARGETS = ("edge", "fog", "cloud")
SERVICES = ("cloud", "fog", "edge", "agent")
EDGE = "127.0.0.1:50051"
METRICS = {"edge": 9464, "fog": 9465, "cloud": 9466}  # host ports compose.yaml publishes
REFRESH_S = 2.5  # the edge looks at a tier it planned around again every 2 s
RETRIES_UP = 4
HEALTHY_S = 240.0  # a tier loads its models within its start_period (120 s); all four


class CheckFailed(Exception):
    """A check of the cluster did not hold; its message says which and what was seen."""


def run(argv: list[str]) -> str:
    """Run `argv` in the repository, its output captured; CheckFailed naming it, with the end
    of its output, if it fails."""
    done = subprocess.run(argv, cwd=ROOT, text=True, capture_output=True)
    if done.returncode != 0:
        said = (done.stdout + done.stderr)[-3000:]
        raise CheckFailed(f"{' '.join(argv)} exited {done.returncode}:\n{said}")
    return done.stdout


@contextmanager
def step(name: str, times: dict[str, float]) -> Iterator[None]:
    print(f"== {name}", flush=True)
    t0 = time.perf_counter()
    yield
    times[name] = time.perf_counter() - t0
    print(f"   {name}: {times[name]:.1f} s", flush=True)


def build() -> None:
    """The base image, the wheelhouse, the tiers' images (their output only on failure)."""
    run(["sh", "deploy/base-image.sh"])
    run(["sh", "deploy/wheelhouse.sh", f"{sys.executable} -m pip"])
    for target in TARGETS:
        t0 = time.perf_counter()
        run(["docker", "build", "-q", "--target", target, "-t", f"splitvlm-{target}", "."])
        print(f"   splitvlm-{target} built in {time.perf_counter() - t0:.0f} s")
    for target in TARGETS:
        size = run(["docker", "image", "inspect", "-f", "{{.Size}}", f"splitvlm-{target}"])
        print(f"   splitvlm-{target}: {int(size) / 1e6:.0f} MB")


def edge_has_no_torch() -> None:
    """In the edge's image, torch does not import and the edge's runtime does."""
    probe = ("import importlib.util, edge.server, splitvlm.runtime.ort; "
             "print(importlib.util.find_spec('torch') is None)")
    said = run(["docker", "run", "--rm", "--entrypoint", "python", "splitvlm-edge", "-c",
                probe]).strip()
    if said != "True":
        raise CheckFailed(f"the edge image can import torch ({said!r})")


def container(service: str) -> str:
    cid = run([*COMPOSE, "ps", "-q", service]).strip()
    if not cid:
        raise CheckFailed(f"no container for the {service} service")
    return cid


def wait_healthy(services: tuple[str, ...], timeout_s: float = HEALTHY_S) -> None:
    deadline = time.monotonic() + timeout_s
    state: dict[str, str] = {}
    while time.monotonic() < deadline:
        for service in services:
            state[service] = run(["docker", "inspect", "-f", "{{.State.Health.Status}}",
                                  container(service)]).strip()
        if all(s == "healthy" for s in state.values()):
            return
        time.sleep(1.0)
    raise CheckFailed(f"not healthy within {timeout_s:.0f} s: {state}")


def site_credentials(directory: Path) -> Credentials:
    """The CA certificate and the client token of the site the `certs` service made."""
    for name in ("ca.pem", "client.token"):
        run(["docker", "cp", f"{container('edge')}:/var/lib/splitvlm/certs/{name}",
             str(directory / name)])
    return Credentials.site(directory)


@functools.cache
def questions() -> list[tuple[bytes, str, str]]:
    """(image, question, expected answer) for every example, as `splitvlm demo` asks them
    (read once)."""
    manifest = json.loads((ROOT / "examples" / "examples.json").read_text())
    return [((ROOT / "examples" / entry["file"]).read_bytes(), qa["question"], qa["answer"])
            for entry in manifest for qa in entry["questions"]]


async def demo_answers(asked: list[tuple[bytes, str, str]]) -> list[str]:
    """`splitvlm demo`'s answers, in process, each under the plan `asked` names."""
    async with embedded_cluster() as cluster, AsyncClient(cluster.edge_target) as client:
        return [(await client.ask(image, question, plan=plan)).text
                for image, question, plan in asked]


def ask_up(client: Client, image: bytes, question: str, plan: str) -> tuple[Answer, int]:
    """The answer with every tier up, and how many asks before it were spurious: a live fog
    taken for dead (a planned request's fallback budget is 3 recent accept times, at least
    2 ms; a fog descheduled that long on a busy host misses it) and so, for the edge's next
    refresh (2 s), planned around: degraded answers, UNAVAILABLE for plans pinned to it."""
    for spurious in range(RETRIES_UP):
        try:
            answer = client.ask(image, question, plan=plan, deadline_s=10.0)
        except NotAvailable as exc:
            print(f"   spurious: {question!r} under {plan}: {exc}")
        else:
            if not answer.degraded:
                return answer, spurious
            print(f"   spurious: {question!r} under {plan}: degraded ({answer.plan.name}, "
                  f"fallback {answer.fallback!r})")
        time.sleep(REFRESH_S)
    raise CheckFailed(f"{question!r} under {plan}: no answer from the fog or the cloud in "
                      f"{RETRIES_UP} tries, {REFRESH_S} s apart, with every tier up")


def ask_examples(credentials: Credentials) -> None:
    """Every example question under the planner (as the demo asks them) and under each fixed
    plan the demo compares (every tier and link, deterministically): the demo's answers."""
    asked = [(image, question, plan) for plan in ("auto", *COMPARED)
             for image, question, _ in questions()]
    with Client(EDGE, credentials) as client:
        tried = [ask_up(client, image, question, plan) for image, question, plan in asked]
    answers = [answer for answer, _ in tried]
    reference = asyncio.run(demo_answers(asked))
    expected = {question: answer for _, question, answer in questions()}
    for (_, question, plan), answer, demo in zip(asked, answers, reference, strict=True):
        if plan == "auto":
            print(f"   {question!r}: {answer.text!r} [{answer.plan.name}, "
                  f"{answer.latency_s * 1e3:.0f} ms]")
        if answer.text != demo:
            raise CheckFailed(f"{question!r} under {plan} ({answer.plan.name}): the cluster "
                              f"answered {answer.text!r}, splitvlm demo {demo!r}")
    right = sum(a.text == expected[q] for (_, q, plan), a in zip(asked, answers, strict=True)
                if plan == "auto")
    print(f"   {len(answers)} answers ({len(questions())} questions x auto and "
          f"{len(COMPARED)} fixed plans) equal splitvlm demo's; under auto "
          f"{right}/{len(questions())} equal examples.json's; "
          f"{sum(n for _, n in tried)} spurious fallbacks asked again")


def agent_answers_a_frame() -> None:
    run(["docker", "cp", str(ROOT / "examples" / "scene-1.jpg"),
         f"{container('agent')}:/var/lib/splitvlm/frames/check.jpg"])
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        done = subprocess.run([*COMPOSE, "exec", "-T", "agent", "cat",
                               "/var/lib/splitvlm/agent/results.jsonl"],
                              cwd=ROOT, text=True, capture_output=True)
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        if lines:
            print(f"   agent result: {json.dumps(lines[-1])[:160]}")
            return
        time.sleep(0.5)
    raise CheckFailed("the agent wrote no result for a frame within 30 s")


def scrape(tier: str) -> dict[str, float] | None:
    """The tier's splitvlm_* samples ("name{labels}" -> value); None without an endpoint."""
    url = f"http://127.0.0.1:{METRICS[tier]}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5.0) as reply:
            text = reply.read().decode()
    except (urllib.error.URLError, ConnectionError) as exc:
        print(f"   {tier}: no metrics endpoint at {url} ({exc}): skipped")
        return None
    samples = [line.rsplit(" ", 1) for line in text.splitlines()
               if line.startswith("splitvlm_")]
    return {key: float(value) for key, value in samples}


def total(samples: dict[str, float], name: str, label: str = "") -> float:
    return sum(v for k, v in samples.items() if k.split("{")[0] == name and label in k)


def scrape_metrics() -> None:
    """Every tier counted the calls it served OK (the example questions reached each)."""
    for tier in METRICS:
        samples = scrape(tier)
        if samples is None:
            continue
        ok = total(samples, "splitvlm_requests_total", 'code="OK"')
        print(f"   {tier}: {len(samples)} splitvlm samples; requests OK: {ok:.0f}")
        if ok <= 0:
            raise CheckFailed(f"{tier}: splitvlm_requests_total counted no OK call")


def degraded_without_fog(credentials: Credentials) -> None:
    """SIGKILL the fog: the example questions the planner sends upstream (`most-accurate`)
    are answered by the edge's LM, degraded; then the fog is started and used again."""
    with Client(EDGE, credentials) as client:
        scene = [(i, q, a) for i, q, a in questions() if client.ask(
            i, q, preset="most-accurate").plan.lm_tier is not Tier.EDGE][:4]
    if not scene:
        raise CheckFailed("the planner answers every example question at the edge")
    edge_only = asyncio.run(demo_answers([(i, q, "edge-only") for i, q, _ in scene]))
    run([*COMPOSE, "kill", "fog"])
    with Client(EDGE, credentials) as client:
        for n in range(8):
            (image, question, _), demo = scene[n % len(scene)], edge_only[n % len(scene)]
            answer = client.ask(image, question, preset="most-accurate", deadline_s=10.0)
            same = "= edge-only" if answer.text == demo else f"edge-only: {demo!r}"
            print(f"   fog killed, {question!r}: {answer.text!r} [{answer.plan.name}, "
                  f"degraded={answer.degraded}, fallback={answer.fallback!r}, "
                  f"{answer.latency_s * 1e3:.0f} ms; {same}]")
            # the edge's LM: a plan placed around the fog, or (the plan's upstream failed) the
            # fallback, whose `plan` is the one that was planned
            if not answer.degraded or not (answer.fallback or answer.plan.lm_tier is Tier.EDGE):
                raise CheckFailed(f"with the fog killed, {question!r} was not the edge's "
                                  f"degraded answer: {answer.plan.name}")
        samples = scrape("edge")
        if samples is not None:
            degraded = total(samples, "splitvlm_degraded_answers_total")
            print(f"   edge: splitvlm_degraded_answers_total {degraded:.0f}")
            if degraded < 8:
                raise CheckFailed(f"8 degraded answers, the edge's metrics count {degraded}")
        run([*COMPOSE, "start", "fog"])
        wait_healthy(("fog",))
        t0 = time.monotonic()
        image, question, _ = scene[0]
        while (answer := client.ask(image, question, preset="most-accurate")).degraded:
            if time.monotonic() - t0 > 30.0:
                raise CheckFailed("the fog is healthy again, but answers stay degraded 30 s on")
            time.sleep(0.2)
    print(f"   fog back: {answer.plan.lm_tier} LM answers {time.monotonic() - t0:.1f} s after "
          "the fog is healthy")


def leftovers() -> list[str]:
    label = f"label=com.docker.compose.project={PROJECT}"
    found = []
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        ids = run(["docker", *kind, "-q", "--filter", label]).split()
        found += [f"{kind[0]} {i}" for i in ids]
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-build", action="store_true", help="use the images there are")
    p.add_argument("--keep", action="store_true", help="leave the cluster up (no down)")
    args = p.parse_args(argv)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        if not args.no_build:
            with step("build images", times):
                build()
        with step("edge image without torch", times):
            edge_has_no_torch()
        with step("compose up, healthy", times):
            run([*COMPOSE, "up", "-d"])
            wait_healthy(SERVICES)
        with tempfile.TemporaryDirectory() as tmp:
            credentials = site_credentials(Path(tmp))
            with step("example questions through the SDK", times):
                ask_examples(credentials)
            with step("agent", times):
                agent_answers_a_frame()
            with step("metrics", times):
                scrape_metrics()
            with step("fog killed", times):
                degraded_without_fog(credentials)
    except CheckFailed as exc:
        print(f"cluster-check FAILED: {exc}", file=sys.stderr)
        subprocess.run([*COMPOSE, "logs", "--tail", "20"], cwd=ROOT)
        return 1
    finally:
        if not args.keep:
            with step("compose down", times):
                down = subprocess.run([*COMPOSE, "down", "-v", "--remove-orphans"], cwd=ROOT,
                                      text=True, capture_output=True)
                if down.returncode != 0:
                    print(down.stdout + down.stderr)
            left = leftovers()
            print(f"   left behind: {left or 'nothing'}")
    print(f"cluster-check passed in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    return 1 if not args.keep and left else 0


if __name__ == "__main__":
    sys.exit(main())

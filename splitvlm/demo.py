"""`splitvlm demo`: edge, fog and cloud in one process, answering questions about examples/.

For each bundled camera image it asks the questions in examples/examples.json with the edge's
planner choosing each placement (`--plan auto`, the default) and prints the answer, whether it
matches, the plan and its explanation, where every stage ran, bytes per link and timings. Then
one question goes through every fixed plan, for comparison: what each placement costs and
which LM answered. `--plan NAME` (repeatable) asks the questions under those plans instead,
in turn. The tiers run in this process, joined without gRPC (`--transport local`, the
default), or each as a loopback gRPC server (`--transport grpc`); the answers are the same.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from splitvlm.embedded import Transport, embedded_cluster
from splitvlm.plan.plan import Tier
from splitvlm.sdk import AsyncClient

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_PLANS = ("auto",)
COMPARED = ("edge-only", "edge-vision+fog-lm", "edge-vision+cloud-lm", "fog-all", "cloud-all")


async def _demo(plans: list[str], examples: Path, transport: Transport) -> None:
    manifest = json.loads((examples / "examples.json").read_text())
    t0 = time.perf_counter()
    right = total = 0
    async with embedded_cluster(transport=transport) as cluster, \
            AsyncClient(cluster.edge_target) as client:
        joined = ("fog and cloud in this process, joined without gRPC" if transport == "local"
                  else "fog " + cluster.target(Tier.FOG) + ", cloud " +
                  cluster.target(Tier.CLOUD) + " over loopback gRPC")
        print(f"edge {cluster.edge_target}; {joined} (started in "
              f"{time.perf_counter() - t0:.1f} s)\n")
        for entry in manifest:
            image = (examples / entry["file"]).read_bytes()
            print(f"== {entry['file']} ({len(image)} bytes, 512x512 JPEG)")
            for i, qa in enumerate(entry["questions"]):
                plan = plans[(total + i) % len(plans)]
                answer = await client.ask(image, qa["question"], plan=plan)
                ok = answer.text == qa["answer"]
                right += ok
                print(f"Q: {qa['question']}   [plan {plan}]")
                print(f"   {'✓' if ok else '✗ expected: ' + qa['answer']}")
                print("   " + answer.report().replace("\n", "\n   ") + "\n")
            total += len(entry["questions"])
        await _compare(client, examples, manifest[0])
    print(f"{right}/{total} answers correct ({', '.join(plans)}) in "
          f"{time.perf_counter() - t0:.1f} s")


async def _compare(client: AsyncClient, examples: Path, entry: dict[str, object]) -> None:
    """One question under every fixed plan: the answer, its LM, latency and bytes sent."""
    image = (examples / str(entry["file"])).read_bytes()
    qa = entry["questions"][0]  # type: ignore[index]
    print(f"== the same question under each fixed plan: {entry['file']}, "
          f"\"{qa['question']}\"")
    for plan in COMPARED:
        answer = await client.ask(image, qa["question"], plan=plan)
        sent = answer.bytes_per_link
        mark = "✓" if answer.text == qa["answer"] else "✗"
        print(f"   {plan:22s} {answer.latency_s * 1e3:7.1f} ms  edge-fog "
              f"{sent.get('edge-fog', 0):6d} B  fog-cloud {sent.get('fog-cloud', 0):6d} B  "
              f"{answer.plan.lm_tier.value} LM: {mark} {answer.text}")
    print()


def run_demo(plans: list[str] | None = None, examples: Path = EXAMPLES_DIR,
             transport: Transport = "local") -> int:
    asyncio.run(_demo(list(plans or DEFAULT_PLANS), examples, transport))
    return 0

"""`splitvlm demo`: edge, fog and cloud in one process, answering questions about examples/.

For each bundled camera image it asks the questions in examples/examples.json under a few
plans and prints the answer, whether it matches, where every stage ran, bytes per link and
timings.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from splitvlm.embedded import embedded_cluster
from splitvlm.sdk import AsyncClient

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_PLANS = ("auto", "edge-only", "edge-vision+fog-lm", "cloud-all")


async def _demo(plans: list[str], examples: Path) -> int:
    manifest = json.loads((examples / "examples.json").read_text())
    t0 = time.perf_counter()
    right = total = 0
    async with embedded_cluster() as cluster, AsyncClient(cluster.edge_target) as client:
        print(f"edge :{cluster.edge.port}  fog :{cluster.fog.port}  cloud :{cluster.cloud.port}"
              f"  (started in {time.perf_counter() - t0:.1f} s)\n")
        for entry in manifest:
            image = (examples / entry["file"]).read_bytes()
            print(f"== {entry['file']} ({len(image)} bytes, 512x512 JPEG)")
            for i, qa in enumerate(entry["questions"]):
                plan = plans[i % len(plans)]
                answer = await client.ask(image, qa["question"], plan=plan)
                ok = answer.text == qa["answer"]
                right, total = right + ok, total + 1
                print(f"Q: {qa['question']}   [plan {plan}]")
                print(f"   {'✓' if ok else '✗ expected: ' + qa['answer']}")
                print("   " + answer.report().replace("\n", "\n   ") + "\n")
    print(f"{right}/{total} answers correct in {time.perf_counter() - t0:.1f} s "
          "(wrong ones are the models' accuracy: docs/models.md)")
    return 0


def run_demo(plans: list[str] | None = None, examples: Path = EXAMPLES_DIR) -> int:
    return asyncio.run(_demo(list(plans or DEFAULT_PLANS), examples))

"""`splitvlm profile`: per stage of the graph, parameters, FLOPs, boundary bytes and latency.

    splitvlm profile [--json] [--runs 30] [--checkpoints DIR]
    report = profile_report(Path("splitvlm/checkpoints"), runs=30)
    print(render_profile(report))

`flops` holds the analytic FLOP formulas (multiply-add = 2 FLOPs; ViT block 8·N·D² + 4·N²·D +
4·r·N·D², patch_embed 2·N·3P²·D, ...), `measure` the timing protocol (batch 1, one thread,
median after warm-up, round-robin where figures are compared), `report` the JSON document and
`render` its text form. The stage rows' ORT figures are differences of prefix timings.
"""

from splitvlm.profiling.render import render_profile
from splitvlm.profiling.report import profile_report

__all__ = ["profile_report", "render_profile"]

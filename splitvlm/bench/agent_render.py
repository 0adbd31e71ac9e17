"""`splitvlm bench agent`'s report as text and as a plot: latency and mode over time."""

from __future__ import annotations

from typing import Any


def render(result: dict[str, Any]) -> str:
    r, s = result, result["static"]
    lines = [
        f"video: {r['frames_seen']} frames seen at {r['arrival_fps']} fps, "
        f"{r['frames_accepted']} asked about ({r['served_fps']:.1f}/s), "
        f"{r['frames_dropped']} dropped by the ring, {r['frames_encoded']} encoded, "
        f"{r['frames_reused']} reused; {r['answers']} answers, {r['unanswered']} unanswered",
        f"baselines (same run): single frame {r['single_frame_ms']:.1f} ms, edge-only "
        f"{r['edge_only_ms']:.1f} ms",
    ]
    for name, p in r["phases"].items():
        lines.append(f"  {name:7s} {p['answers']:5d} answers  p50 {p['p50_ms']:7.1f} ms  "
                     f"p95 {p['p95_ms']:7.1f} ms  max {p['max_ms']:7.1f} ms  degraded "
                     f"{p['degraded_share']:.2f}  accuracy {p['accuracy']:.3f}")
    u = r["fast"]
    lines += [
        f"outage: worst degraded answer / its frame's edge-only latency = "
        f"{r['outage_latency_ratio']:.2f} (target <= 2; p99 {r['outage_ratio_p99']:.2f}, "
        f"{r['outage_over_2x']} of {r['outage_degraded']} over 2x); worst / median edge-only "
        f"probe {r['outage_worst_vs_median']:.2f}",
        f"recovery: first non-degraded answer {r['recovery_s']:.2f} s after the fog's return "
        "(target <= 3)",
        f"ring, 8x rate: {u['arrival_fps']:.0f} frames/s in, {u['served_fps']:.0f}/s served, "
        f"{u['dropped']} dropped; p95 {u['p95_ms']:.1f} ms / single frame = "
        f"{r['p95_vs_single']:.2f} (target <= 2)",
        f"static scene: encoded/seen {s['encoded_with_reuse']}/{s['seen']} = "
        f"{r['static_encoded_ratio']:.3f} (target <= 0.05) against {s['encoded_every_frame']} "
        f"encoding every frame; same answers on {s['same_answers']}/{s['frames_compared']}; "
        f"accuracy {s['accuracy_with_reuse']:.3f} reusing, {s['accuracy_every_frame']:.3f} "
        "encoding every frame",
        f"targets met: {r['targets_met']}",
    ]
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = result["series"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for degraded, color, label in ((False, "tab:blue", "answered upstream or by plan"),
                                   (True, "tab:red", "degraded (edge LM, no fog)")):
        xs = [t for t, _, d in series if d is degraded]
        ys = [1e3 * lat for _, lat, d in series if d is degraded]
        if xs:
            ax.scatter(xs, ys, s=4, color=color, label=label)
    ax.axvline(result["fog_killed_s"], color="black", linestyle="--", linewidth=1)
    ax.axvline(result["fog_back_s"], color="black", linestyle=":", linewidth=1)
    ax.axhline(result["edge_only_ms"], color="gray", linewidth=1,
               label="edge-only, a frame alone (median)")
    ax.set_xlabel("seconds into the video (fog killed --, back ..)")
    ax.set_ylabel("camera to answer, ms")
    ax.set_yscale("log")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)

"""Text and plot of a `bench split` result (the dict `split.run` returns)."""

from __future__ import annotations

from typing import Any

from splitvlm.bench.split_runner import AUTO


def _ms(seconds: float | None) -> str:
    return "      -" if seconds is None else f"{seconds * 1e3:7.1f}"


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def _plan_rows(plans: dict[str, Any]) -> list[str]:
    rows = [f"  {'plan':22s} {'p50 ms':>7s} {'p95 ms':>7s} {'acc':>6s} {'edge-fog B':>10s} "
            f"{'fog-cloud B':>11s} {'edge cpu ms':>11s} {'pred ms':>7s}  chosen"]
    for label, p in plans.items():
        chosen = ""
        if label.startswith(AUTO) and p.get("chosen"):
            top = list(p["chosen"].items())[:2]
            chosen = ", ".join(f"{name} x{n}" for name, n in top)
        rows.append(
            f"  {label:22s} {_ms(p['median_latency_s'])} {_ms(p['p95_latency_s'])} "
            f"{p['accuracy']:6.1%} {p['bytes'].get('edge-fog', 0):10.0f} "
            f"{p['bytes'].get('fog-cloud', 0):11.0f} {_ms(p['edge_cpu_s']):>11s} "
            f"{_ms(p.get('median_predicted_s')) if label.startswith(AUTO) else '':>7s}  {chosen}"
            + (f"  FAILED {p['failures']}/{p['n']}" if p["failures"] else ""))
    return rows


def render_result(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"{r['requests']} requests x {len(r['plans'])} plans x {r.get('repeats', 1)} "
             f"runs per profile (+{r['warmup']} warm-up), checkpoints {r['checkpoints']}, "
             f"{r['threads']} thread(s)/tier, gap {r.get('gap_s', 0):g} s; {m['cpu']}, "
             f"{m['cores']} cores, load {m['loadavg_before'][0]:.1f} -> "
             f"{m['loadavg'][0]:.1f}; {r['wall_s']:.0f} s"]
    for name, prof in r["profiles"].items():
        p = prof["profile"]
        lines += ["", f"[{name}] edge-fog {p['edge_fog_bps'] / 1e6:g} Mbit/s "
                  f"{p['edge_fog_delay_s'] * 1e3:g} ms, fog-cloud {p['fog_cloud_bps'] / 1e6:g} "
                  f"Mbit/s {p['fog_cloud_delay_s'] * 1e3:g} ms, edge {p['edge_cpu_quota']:g} CPU"
                  f" (edge cpu from {prof['edge_cpu_source']})"]
        lines += _plan_rows(prof["plans"])
        autos = {k.removeprefix(AUTO): v for k, v in prof["plans"].items() if k.startswith(AUTO)}
        errors = ", ".join(
            f"{k} {_num(v.get('mape'), '.2f')}/{_num(v.get('mape_length_adjusted'), '.2f')}/"
            f"{_num(v.get('edge_measured_vs_predicted'), '.1f')}" for k, v in autos.items())
        lines.append(f"  planner error (mape/length-adjusted/edge measured:predicted): {errors}")
        o, oa = prof["oracle"], prof["oracle_accurate"]
        lines.append(f"  oracle p50 {_ms(o['median_latency_s']).strip()} ms (winners "
                     f"{o['winners']}); within 1 pt of {prof['most_accurate_fixed']['plan']} "
                     f"({prof['most_accurate_fixed']['accuracy']:.1%}): p50 "
                     f"{_ms(oa['median_latency_s']).strip()} ms over {len(oa['plans'])} plans")
        by_type = prof.get("oracle_by_type", {})
        if by_type:
            lines.append("  oracle's LM tier per question type (fastest | accurate): " + ", ".join(
                f"{q} {'/'.join(w['fastest'])} | {'/'.join(w['accurate'])}"
                for q, w in by_type.items()))
    lines += ["", "targets:"]
    for t in r["targets"]:
        mark = {True: "ok", False: "MISSED", None: "n/a"}[t["met"]]
        value = t["value"] if isinstance(t["value"], int) else _num(t["value"])
        lines.append(f"  {t['figure']:42s} {value!s:>8s}   target {t['target']:8s} {mark}")
    lines.append(f"  (mape over {r['mape_n']} auto requests, client-side latency; re-priced for "
                 f"the answer lengths actually decoded: {_num(r.get('mape_length_adjusted'))}; "
                 f"against the edge's own latency: {_num(r.get('mape_served'))})")
    if "change" in r:
        c = r["change"]
        lines += ["", f"change ({c['profile']}, {c['preset']}): {c['link']} "
                  f"{c['bandwidth_before_bps'] / 1e6:g} -> {c['bandwidth_after_bps'] / 1e6:g} "
                  f"Mbit/s after {c['requests_before']} requests: {c['from']} -> {c['to']} after "
                  f"{c['requests_to_switch']} request(s) ({_num(c['seconds_to_switch'], '.1f')} "
                  f"s); p50 {_ms(c['median_latency_before_s']).strip()} -> "
                  f"{_ms(c['median_latency_after_s']).strip()} ms"]
        if c["vacuous"]:
            lines.append(f"  (vacuous: {c['from']} sends nothing over {c['link']}, so the drop "
                         "need not change the choice; try --change-preset)")
    return "\n".join(lines)


def plot_result(result: dict[str, Any], path: str) -> None:
    """Median latency per plan, grouped by profile (bars, log scale; whiskers up to p95)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    profiles = list(result["profiles"])
    labels = result["plans"] + ["oracle"]
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(max(8.0, 2.6 * len(profiles)), 4.5))
    cmap = plt.get_cmap("tab20")
    for j, label in enumerate(labels):
        p50, p95 = [], []
        for name in profiles:
            prof = result["profiles"][name]
            doc = prof["oracle"] if label == "oracle" else prof["plans"][label]
            p50.append((doc["median_latency_s"] or np.nan) * 1e3)
            p95.append((doc["p95_latency_s"] or np.nan) * 1e3)
        x = np.arange(len(profiles)) + (j - (len(labels) - 1) / 2) * width
        err = np.clip(np.array(p95) - np.array(p50), 0, None)
        ax.bar(x, p50, width, yerr=[np.zeros_like(err), err], capsize=1.5, label=label,
               color="black" if label == "oracle" else cmap(j % 20),
               hatch="//" if label.startswith(AUTO) else None, edgecolor="white", linewidth=0.3)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(profiles)), profiles)
    ax.set_ylabel("latency (ms), median; whisker to p95")
    ax.set_title("bench split: fixed plans, the planner's presets (hatched), the oracle")
    ax.legend(fontsize=6, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)

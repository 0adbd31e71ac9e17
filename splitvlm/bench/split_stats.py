"""The figures of `bench split`, from its runs: per plan, the oracles, the ratios, the MAPE.

Every plan and preset runs `repeats` times on each request. A label's median latency is the
median over requests of its per-request median, as the oracle times each plan on a request by
the median of its runs there: both sides of a ratio carry the same noise.

    fastest_vs_oracle        median(auto/fastest) / median over requests of the oracle: on
                             each request, the fastest plan that ran (under a fixed name or
                             chosen by a preset), each plan timed by the median of its runs
                             on that request
    balanced_accuracy_gap_pt (accuracy of the most accurate fixed plan - auto/balanced's) x 100
    balanced_vs_oracle       median(auto/balanced) / median of the per-request oracle over the
                             plans within 1 pt of the most accurate fixed plan's accuracy
    cloud_only_vs_balanced   median(cloud-all) / median(auto/balanced)
    oracle_by_type           per question type, which LM tier the oracle's winners ran:
                             `fastest` over every plan, `accurate` over the plans within 1 pt
                             of the most accurate fixed plan on that type (its own requests)
    mape                     mean |predicted - measured| / measured over auto runs, measured
                             by this client (its call to the edge included)
    mape_served              the same against the edge's own latency for the call (received
                             -> answered): what the planner predicts, without the client's hop
    mape_length_adjusted     the same with the prediction re-priced for the answer length
                             actually decoded (a diagnosis: untrained weights never stop early)

Latency statistics cover the runs that answered; a failed run counts as wrong. Bytes per link,
edge CPU seconds, the edge's stage wall time and answer words are means per request; for auto,
`edge_measured_vs_predicted` is the median of the edge's measured stage time over the planner's
predicted edge compute (the diagnosis of a mispredicted edge).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from splitvlm.bench.split_runner import AUTO, Run

ACCURATE_WITHIN = 0.01  # 1 pt: plans this close to the most accurate fixed plan


def plan_summary(runs: Sequence[Run]) -> dict[str, Any]:
    ok = [r for r in runs if r.latency_s is not None]
    latencies = [r.latency_s for r in ok if r.latency_s is not None]
    by_request: dict[int, list[float]] = defaultdict(list)
    for r, latency in zip(ok, latencies, strict=True):
        by_request[r.request].append(latency)
    per_request = [statistics.median(values) for values in by_request.values()]
    links = sorted({link for r in ok for link in r.link_bytes})
    doc: dict[str, Any] = {
        "n": len(runs), "failures": len(runs) - len(ok),
        "median_latency_s": statistics.median(per_request) if per_request else None,
        "p95_latency_s": float(np.percentile(latencies, 95)) if latencies else None,
        "accuracy": sum(r.correct for r in runs) / len(runs) if runs else 0.0,
        "bytes": {link: statistics.fmean(r.link_bytes.get(link, 0) for r in ok)
                  for link in links},
        "edge_cpu_s": statistics.fmean(r.edge_cpu_s for r in ok) if ok else None,
    }
    if ok:
        doc["answer_words"] = statistics.fmean(r.words for r in ok)
        doc["edge_wall_s"] = statistics.fmean(r.edge_wall_s for r in ok)
    predicted = [(r.predicted_s, r.latency_s) for r in ok if r.predicted_s is not None]
    if predicted:
        doc["median_predicted_s"] = statistics.median(p for p, _ in predicted)
        doc["mape"] = _mape(predicted)
        doc["mape_length_adjusted"] = _mape([(r.predicted_adjusted_s, r.latency_s) for r in ok
                                             if r.predicted_adjusted_s is not None])
        doc["chosen"] = dict(Counter(r.chosen for r in ok).most_common())
        edge = [(r.predicted_edge_s, r.edge_wall_s) for r in ok if r.predicted_edge_s]
        if edge:  # measured / predicted edge compute: > 1 where the edge runs slower
            doc["edge_measured_vs_predicted"] = statistics.median(m / p for p, m in edge if p)
    if any(r.error for r in runs):
        doc["errors"] = sorted({r.error for r in runs if r.error})[:3]
    return doc


def oracle(runs: Sequence[Run], labels: Sequence[str]) -> dict[str, Any]:
    """Per request, the fastest plan among the runs of `labels`; its median over requests and
    which plan won how often.

    A plan is what ran (`Run.signature`), whichever label ran it: edge-only, and each preset
    that chose edge-only, are one plan with several runs on the request, timed by their median.
    The fastest *run* would instead be the luckiest of several samples of the same plan, an
    oracle that no choice of plan can match on a machine with run-to-run noise."""
    samples: dict[tuple[int, str], list[float]] = defaultdict(list)
    for r in runs:
        if r.label in labels and r.latency_s is not None:
            samples[(r.request, r.signature or r.label)].append(r.latency_s)
    best: dict[int, tuple[float, str]] = {}
    for (request, plan), latencies in samples.items():
        latency = statistics.median(latencies)
        if request not in best or latency < best[request][0]:
            best[request] = (latency, plan)
    fastest = [latency for latency, _ in best.values()]
    return {
        "median_latency_s": statistics.median(fastest) if fastest else None,
        "p95_latency_s": float(np.percentile(fastest, 95)) if fastest else None,
        "plans": list(labels),
        "winners": dict(Counter(plan for _, plan in best.values()).most_common()),
    }


def lm_tier(signature: str) -> str:
    """The tier whose LM answered, from a plan signature: 'edge[0:2]int8 -fp16-> fog[2:10]'."""
    return signature.split()[-1].split("[")[0]


def oracle_by_type(runs: Sequence[Run], labels: Sequence[str], qtype_of: dict[int, str]
                   ) -> dict[str, dict[str, dict[str, int]]]:
    """{question type: {"fastest" | "accurate": {LM tier: requests it won}}}."""
    fixed = [label for label in labels if not label.startswith(AUTO)]
    out: dict[str, dict[str, dict[str, int]]] = {}
    for qtype in sorted(set(qtype_of.values())):
        mine = [r for r in runs if qtype_of.get(r.request) == qtype]
        accuracy = {label: statistics.fmean(r.correct for r in mine if r.label == label)
                    for label in labels if any(r.label == label for r in mine)}
        top = max(accuracy[label] for label in fixed if label in accuracy)
        close = [label for label, a in accuracy.items() if a >= top - ACCURATE_WITHIN - 1e-12]
        out[qtype] = {}
        for name, among in (("fastest", labels), ("accurate", close)):
            winners = Counter[str]()
            for plan, n in oracle(mine, among)["winners"].items():
                winners[lm_tier(plan)] += n
            out[qtype][name] = dict(winners.most_common())
    return out


def profile_summary(runs: Sequence[Run], labels: Sequence[str],
                    qtype_of: dict[int, str] | None = None) -> dict[str, Any]:
    plans = {label: plan_summary([r for r in runs if r.label == label]) for label in labels}
    fixed = [label for label in labels if not label.startswith(AUTO)]
    top = max(fixed, key=lambda label: plans[label]["accuracy"])
    top_accuracy = plans[top]["accuracy"]
    accurate = [label for label in labels
                if plans[label]["accuracy"] >= top_accuracy - ACCURATE_WITHIN - 1e-12]
    every, close = oracle(runs, labels), oracle(runs, accurate)
    fastest, balanced = plans[AUTO + "fastest"], plans[AUTO + "balanced"]
    return {
        "plans": plans,
        "oracle": every,
        "oracle_accurate": close,
        "most_accurate_fixed": {"plan": top, "accuracy": top_accuracy},
        "fastest_vs_oracle": _ratio(fastest["median_latency_s"], every["median_latency_s"]),
        "balanced_accuracy_gap_pt": (top_accuracy - balanced["accuracy"]) * 100.0,
        "balanced_vs_oracle": _ratio(balanced["median_latency_s"], close["median_latency_s"]),
        "cloud_only_vs_balanced": _ratio(plans["cloud-all"]["median_latency_s"],
                                         balanced["median_latency_s"]),
    } | ({} if qtype_of is None else {"oracle_by_type": oracle_by_type(runs, labels, qtype_of)})


def overall_mape(runs: Sequence[Run], adjusted: bool = False, served: bool = False
                 ) -> tuple[float | None, int]:
    """MAPE of the planner's latency over every auto run that answered, and their count;
    `adjusted`: of the prediction re-priced for the answer's actual length; `served`: against
    the edge's own latency instead of the client's."""
    pairs = [(r.predicted_adjusted_s if adjusted else r.predicted_s,
              r.served_s if served else r.latency_s) for r in runs]
    present = [(p, m) for p, m in pairs if p is not None and m is not None]
    return (_mape(present) if present else None), len(present)


def _mape(pairs: Sequence[tuple[float, float | None]]) -> float:
    return statistics.fmean(abs(p - m) / m for p, m in pairs if m)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator

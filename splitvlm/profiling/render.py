"""`render_profile`: the profile report as aligned text tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

HEADER = ("stage", "params", "MFLOP", "boundary after", "fp32 B", "fp16 B", "int8 B",
          "torch fp32 ms", "ORT fp32 ms*", "ORT int8 ms*")


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _stage_cells(row: dict[str, Any]) -> list[str]:
    b = row["boundary"]
    name = row["stage"] if row["tier"] is None else f"{row['stage']} ({row['tier']})"
    shape = "x".join(str(d) for d in b["shape"]) if b else ""
    flops = None if row["flops"] is None else row["flops"] / 1e6
    return [
        name, f"{row['params']:,}", _num(flops, ".2f"), f"{b['name']} {shape}" if b else "-",
        *(_num(b[f"bytes_{p}"] if b else None, ",") for p in ("fp32", "fp16", "int8")),
        _num(row["torch_fp32_ms"], ".3f"), _num(row["ort_fp32_ms"], ".3f"),
        _num(row["ort_int8_ms"], ".3f"),
    ]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """First column left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def render_profile(report: dict[str, Any]) -> str:
    m = report["machine"]
    load = "" if m["loadavg_1m"] is None else f", load {m['loadavg_1m']:.2f}"
    lines = [
        f"splitvlm profile: {report['checkpoints']}",
        f"{m['platform']}, {m['cpu_count']} CPUs{load}; batch {report['batch']}, "
        f"{report['threads']} thread(s), median of {report['runs']} runs after "
        f"{report['warmup']} warm-up; LM prefill over {report['prefill_tokens']} tokens, "
        f"decode with {report['decode_kv_len']} keys",
        "",
        table(HEADER, [_stage_cells(row) for row in report["stages"]]),
        *(f"{'*' if i == 0 else ' '} {note}" for i, note in enumerate(report["notes"])),
        "",
        table(("ORT prefix", "fp32 ms", "int8 ms"), [
            [f"pixels -> cut {p['cut']} ({p['boundary']})", f"{p['fp32_ms']:.3f}",
             f"{p['int8_ms']:.3f}"] for p in report["ort_prefixes"]]),
        "",
        _decode_table(report),
        "",
        f"visual side, interleaved: torch fp32 {report['vision_ms_torch_fp32']:.3f} ms | "
        f"ORT fp32 {report['vision_ms_ort_fp32']:.3f} ms | "
        f"ORT int8 {report['vision_ms_ort_int8']:.3f} ms  ->  "
        f"int8 vs torch speedup {report['speedup_int8_vs_torch']:.2f}x",
    ]
    return "\n".join(lines)


def _decode_keys(report: dict[str, Any]) -> list[str]:
    return [k for k in next(iter(report["lm_decode"].values())) if k != "params"]


def _decode_table(report: dict[str, Any]) -> str:
    keys = _decode_keys(report)
    header = ("LM decode", "params", *(k.replace("_", " ") for k in keys))
    rows = [[tier, f"{doc['params']:,}", *(_num(doc[k], ".3f") for k in keys)]
            for tier, doc in report["lm_decode"].items()]
    return table(header, rows)

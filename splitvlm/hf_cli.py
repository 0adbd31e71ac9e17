"""`splitvlm hf {export,shapes,eval} [DIR]`: Hugging Face VLMs (docs/models.md).

    splitvlm hf shapes [DIR] [--published]      boundary sizes per cut, from a config alone
    splitvlm hf export DIR                      the edge's ONNX prefixes (fp32 + INT8), once
    splitvlm hf eval DIR --eval FILE.jsonl      DIR/accuracy.json for the edge's planner
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """`splitvlm hf ...` on the command's subparsers."""
    s = sub.add_parser("hf", help="Hugging Face VLMs: export the edge's ONNX prefixes; "
                       "boundary sizes per cut from a config (docs/models.md)")
    s.add_argument("action", choices=["export", "shapes", "eval"],
                   help="export: DIR/splitvlm-onnx (fp32 + INT8 prefixes); shapes: bytes per "
                        "cut and encoding, from the config alone; eval: DIR/accuracy.json "
                        "from your eval file, for the planner")
    s.add_argument("model", nargs="?", default=None, metavar="DIR",
                   help="a saved model's directory (shapes needs only its config files)")
    s.add_argument("--published", action="store_true",
                   help="shapes: also the published checkpoints' configs (the default "
                        "without DIR)")
    s.add_argument("--json", action="store_true", help="shapes, eval: print JSON")
    s.add_argument("--eval", default="", metavar="FILE",
                   help="eval: JSON lines {image, question, answer[, type]} (docs/models.md)")
    s.add_argument("--match", choices=["exact", "contains"], default="exact",
                   help="eval: normalised exact match, or the expected answer contained")
    s.add_argument("--out", default="", help="eval: where the table goes (DIR/accuracy.json)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from splitvlm.model.hf import shapes

    if args.action == "export":
        from splitvlm.model.hf import load
        from splitvlm.runtime.hf_export import ensure_exported

        if args.model is None:
            raise SystemExit("splitvlm hf export: give the model's directory")
        print(ensure_exported(load(Path(args.model)), Path(args.model)))
        return 0
    if args.action == "eval":
        return _hf_eval(args)
    found: list[tuple[str, Any]] = []
    if args.model is not None:
        graph, rows = shapes.shapes_of_directory(Path(args.model))
        found.append((args.model, (graph, rows)))
    if args.published or args.model is None:
        for name, values in shapes.PUBLISHED.items():
            graph = shapes.graph_of(shapes.config_of(values))
            found.append((name, (graph, shapes.table(graph))))
    if args.json:
        print(json.dumps({name: {"graph": dataclasses.asdict(g), "cuts": rows}
                          for name, (g, rows) in found}, indent=2))
    else:
        print("\n\n".join(shapes.render(name, g, rows) for name, (g, rows) in found))
    return 0


def _hf_eval(args: argparse.Namespace) -> int:
    from splitvlm.model.hf import load
    from splitvlm.runtime.hf_eval import accuracy_table, evaluate, read_eval_file
    from splitvlm.runtime.hf_export import ensure_exported

    if args.model is None or not args.eval:
        raise SystemExit("splitvlm hf eval DIR --eval FILE.jsonl")
    directory = Path(args.model)
    family = load(directory)
    result = evaluate(family, read_eval_file(Path(args.eval)),
                      ensure_exported(family, directory), args.match)
    out = Path(args.out) if args.out else directory / "accuracy.json"
    out.write_text(json.dumps(accuracy_table(result), indent=2) + "\n")
    print(json.dumps(result, indent=2) if args.json else
          "\n".join(f"{p}: " + ", ".join(f"{q} {v:.3f}" for q, v in row.items())
                    for p, row in result["rows"].items()))
    print(f"accuracy table written to {out}", file=sys.stderr)
    return 0

"""The generated stubs in splitvlm/v1 are what `make protos` makes from protos/ today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTOS = ROOT / "protos"
GENERATED = ROOT / "splitvlm" / "v1"
SUFFIXES = ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi")


def regenerate(out: Path) -> None:
    """The Makefile's `make protos` command, writing into `out` instead of the repository."""
    sources = sorted(str(p.relative_to(ROOT)) for p in PROTOS.rglob("*.proto"))
    done = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-Iprotos", f"--python_out={out}",
         f"--grpc_python_out={out}", f"--pyi_out={out}", *sources],
        cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def stubs(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())
            if p.name.endswith(SUFFIXES)}


def test_stubs_match_protos(tmp_path: Path) -> None:
    regenerate(tmp_path)
    fresh, shipped = stubs(tmp_path / "splitvlm" / "v1"), stubs(GENERATED)
    assert len(fresh) == 3 * len(list(PROTOS.rglob("*.proto")))
    assert sorted(shipped) == sorted(fresh), "stubs without a proto (or missing): run make protos"
    stale = [name for name in fresh if fresh[name] != shipped[name]]
    assert not stale, f"{stale} differ from protos/: run `make protos` and commit the result"

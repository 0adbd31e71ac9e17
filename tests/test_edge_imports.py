"""The whole edge service (not just its ONNX runtime) imports with torch unavailable."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
import edge.server, splitvlm.cli, splitvlm.sdk, splitvlm.plan.planner
assert "torch" not in [m for m in sys.modules if sys.modules[m] is not None]
print("ok")
"""


def test_edge_service_imports_without_torch() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

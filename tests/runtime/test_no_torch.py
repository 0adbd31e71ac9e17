"""The edge runtime runs in a process where importing torch fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = """
import sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
import numpy as np
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.runtime.ort import OrtEdgeLM, OrtVisual

pixels = np.load(sys.argv[2])
tok = Tokenizer()
visual = OrtVisual(sys.argv[1], precision="int8").run(pixels, 8)
prompt = tok.encode("what color is the circle ?") + [tok.ans_id]
answers = OrtEdgeLM(sys.argv[1]).generate(visual, [prompt] * len(pixels), tok.pad_id,
                                          tok.eos_id, max_new_tokens=4)
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules
               if sys.modules[m] is not None)
print("tokens", answers)
"""


def test_edge_runtime_needs_no_torch(model_dir: Path, pixels: np.ndarray,
                                     tmp_path: Path) -> None:
    np.save(tmp_path / "pixels.npy", pixels[:2])
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model_dir), str(tmp_path / "pixels.npy")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tokens [[")

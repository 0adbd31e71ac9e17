"""`bench hf` smoke run: a saved model (as a user gives their own) through the three services,
every cut, both LM tiers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from splitvlm.bench import hf


def test_bench_hf_smoke(tmp_path: Path, tiny_dir: Callable[[str], Path]) -> None:
    model = str(tiny_dir("llava"))
    result = hf.run(["--model", model, "--prompts", "1", "--max-new-tokens", "6"])
    assert list(result["families"]) == [model]  # --model alone: no tiny families
    fam = result["families"][model]
    assert fam["identical"] is True  # fp32 at every cut and both LM tiers
    cuts = {r["cut"] for r in fam["rows"]}
    assert cuts == set(range(fam["graph"]["depth"] + 5))  # 0 .. the visual tokens' cut
    assert {r["lm"] for r in fam["rows"]} == {"fog", "cloud"}
    by = {(r["cut"], r["lm"], r["encoding"]): r for r in fam["rows"]}
    last = max(cuts)
    assert by[(last, "fog", "int8")]["edge_fog_bytes"] < by[(last, "fog", "fp32")][
        "edge_fog_bytes"]
    assert set(fam["identical_share"]) == {"fp32", "fp16", "int8"}
    assert "identical at fp32" in hf.render(result)
    hf.plot(result, str(tmp_path / "hf.png"))
    assert (tmp_path / "hf.png").stat().st_size > 0

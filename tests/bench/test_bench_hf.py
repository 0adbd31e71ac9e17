"""`bench hf` smoke run: one family through the three services, every cut, both LM tiers."""

from __future__ import annotations

from pathlib import Path

from splitvlm.bench import hf


def test_bench_hf_smoke(tmp_path: Path) -> None:
    result = hf.run(["--families", "llava", "--prompts", "1", "--max-new-tokens", "6"])
    fam = result["families"]["llava"]
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

"""`bench cache` smoke run: structure, vision runs, hit-turn bytes (no speed assertions)."""

from __future__ import annotations

from pathlib import Path

from splitvlm.bench import cache


def test_bench_cache_smoke(checkpoints: Path, tmp_path: Path) -> None:
    result = cache.run(["--images", "2", "--turns", "3", "--profiles", "",
                        "--checkpoints", str(checkpoints)])
    assert result["vision_runs"] == 2  # one per distinct image; hit turns run no vision
    assert result["baseline_vision_runs"] == 6
    assert result["hit_turn_bytes_ok"] and result["hit_turn_bytes"] <= 200 + 40
    assert result["hit_vs_floor"] == result["hit_latency_s"] / result["floor_s"]
    assert result["answers_identical"]
    assert result["by_profile"] == {}
    assert "hit_vs_floor" in cache.render(result)
    cache.plot(result, str(tmp_path / "cache.png"))
    assert (tmp_path / "cache.png").stat().st_size > 0

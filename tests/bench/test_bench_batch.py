"""`splitvlm bench batch` end to end on a tiny load: the result's shape, not its speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splitvlm.bench import batch


def test_bench_requests_are_caption_heavy_and_png() -> None:
    requests = batch.bench_requests(10, 0.5)
    assert len(requests) == 10
    assert sum(r.qtype == "caption" for r in requests) == 5
    assert len({r.qtype for r in requests}) == 6  # 5 captions + 5 of the other types
    assert all(r.image.startswith(b"\x89PNG") for r in requests)


def test_bench_batch_smoke(checkpoints: Path, tmp_path: Path) -> None:
    result = batch.run(["--checkpoints", str(checkpoints), "--requests", "8", "--clients", "4",
                        "--rounds", "2"])
    json.dumps(result)  # what --json prints
    assert result["n_requests"] == 8
    assert result["answers_identical"] is True
    base, ours = result["baseline"], result["concurrent"]
    for doc in (base, ours):
        assert {"tokens_per_s", "ttft_p50_s", "ttft_p95_s", "wall_s"} <= set(doc)
        assert len(doc["ttft_s"]) == 16  # 8 requests in each of 2 rounds
        assert 0 < doc["ttft_p50_s"] <= doc["ttft_p95_s"] <= doc["wall_s"]
        assert doc["tokens"] == result["tokens"] > 0
        assert doc["tokens_per_s"] == pytest.approx(doc["tokens"] / doc["wall_s"])
        assert set(doc["cpu_ms_per_request"]) == {"client", "edge", "fog", "cloud"}
        assert sum(doc["cpu_ms_per_request"].values()) == pytest.approx(
            doc["cpu_ms_per_token"] * doc["tokens"] / 16)
    assert ours["clients"] == 4
    assert 1.0 <= ours["batch_mean"] <= 4.0
    assert result["speedup"] == pytest.approx(ours["tokens_per_s"] / base["tokens_per_s"])
    assert len(result["speedup_per_round"]) == 2
    alone = result["engine_alone"]
    assert alone["answers_identical"] is True
    assert alone["speedup"] == pytest.approx(
        alone["concurrent_tokens_per_s"] / alone["baseline_tokens_per_s"])
    assert "speedup" in batch.render(result)
    batch.plot(result, str(tmp_path / "batch.png"))
    assert (tmp_path / "batch.png").stat().st_size > 0

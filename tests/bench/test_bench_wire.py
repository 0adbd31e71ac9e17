"""`bench wire` lists every codec of the registry at both boundaries an LM tier receives,
with the bytes the codec says and an accuracy measured through it."""

from __future__ import annotations

import json
from pathlib import Path

from splitvlm.bench import wire
from splitvlm.executor.builders import visual_meta
from splitvlm.wire.codecs import CODECS, codec


def test_every_codec_at_the_visual_tokens_and_the_codes(checkpoints: Path) -> None:
    result = wire.run(["--per-type", "1"])
    json.dumps(result)
    graph = visual_meta(checkpoints)[0]
    assert set(result["boundaries"]) == {"visual", "codes"}
    for boundary in result["boundaries"].values():
        shape = tuple(boundary["shape"])
        assert set(boundary["encodings"]) == {e.value for e in CODECS}
        for name, doc in boundary["encodings"].items():
            planned = CODECS[next(e for e in CODECS if e.value == name)]
            if not planned.compressed:
                assert doc["bytes"] == codec(planned.encoding).nbytes(shape)
            assert 0.0 <= doc["accuracy"] <= 1.0
        assert boundary["encodings"]["fp32"]["max_abs_error"] == 0.0
    assert result["boundaries"]["codes"]["cut"] == graph.project_up
    text = wire.render(result)
    assert all(text.count(f"  {e.value} ") >= 2 for e in CODECS)  # a row per boundary

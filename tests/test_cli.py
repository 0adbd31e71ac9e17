"""The command line's exit codes: 0 done, 1 a request that failed, 2 a usage or config error."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from splitvlm.cli import EXIT_FAILED, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_config_for_another_tier_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "fog", "--config", str(ROOT / "deploy" / "edge.toml")]) == EXIT_USAGE
    assert "tier='edge'" in capsys.readouterr().err


def test_a_missing_image_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "--insecure", "--edge", "127.0.0.1:1", "no-such.jpg",
                 "describe the image"])
    assert code == EXIT_USAGE
    assert "no-such.jpg" in capsys.readouterr().err


def test_a_request_that_fails_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    image = str(ROOT / "examples" / "scene-0.jpg")
    code = main(["ask", "--insecure", "--edge", f"127.0.0.1:{_closed_port()}", image,
                 "describe the image",
                 "--deadline", "5"])
    assert code == EXIT_FAILED
    assert "NotAvailable" in capsys.readouterr().err


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ask", "--edge"])
    assert caught.value.code == EXIT_USAGE


def test_ask_needs_credentials_or_insecure(capsys: pytest.CaptureFixture[str]) -> None:
    image = str(ROOT / "examples" / "scene-0.jpg")
    assert main(["ask", "--edge", "127.0.0.1:1", image, "describe the image"]) == EXIT_USAGE
    assert "give --site DIR" in capsys.readouterr().err

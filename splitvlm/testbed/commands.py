"""Running the system commands (`ip`, `tc`) the testbed is built from."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from splitvlm.testbed.errors import TestbedError

COMMAND_TIMEOUT_S = 20.0


def run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `argv`, capturing output; with `check`, a non-zero exit raises TestbedError."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError(f"`{' '.join(argv)}` could not run: {exc}") from exc
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise TestbedError(f"`{' '.join(argv)}` failed (exit {done.returncode}): {detail}")
    return done


def in_netns(ns: str, argv: Sequence[str]) -> list[str]:
    """`argv` prefixed so that it runs inside network namespace `ns`."""
    return ["ip", "netns", "exec", ns, *argv]

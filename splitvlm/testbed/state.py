"""Where a testbed records what it created, so that `down` from another process can undo it.

    /run/splitvlm-testbed/<prefix>/state.json    (falls back to $TMPDIR/splitvlm-testbed)
    /run/splitvlm-testbed/<prefix>/<role>-<tier>.log
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from splitvlm.testbed.errors import TestbedError

RUN_ROOT = Path("/run/splitvlm-testbed")
STATE_NAME = "state.json"


def default_root() -> Path:
    """/run/splitvlm-testbed if it can be written, else a folder under the temp dir."""
    base = RUN_ROOT.parent
    if RUN_ROOT.is_dir() and os.access(RUN_ROOT, os.W_OK):
        return RUN_ROOT
    if not RUN_ROOT.exists() and base.is_dir() and os.access(base, os.W_OK):
        return RUN_ROOT
    return Path(tempfile.gettempdir()) / "splitvlm-testbed"


def state_dir(prefix: str, root: Path | None = None) -> Path:
    return (root or default_root()) / prefix


def write(directory: Path, state: dict[str, Any]) -> None:
    """Atomically replace the state file in `directory`."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (STATE_NAME + ".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
        tmp.replace(directory / STATE_NAME)
    except OSError as exc:
        raise TestbedError(f"cannot write testbed state in {directory}: {exc}") from exc


def read(directory: Path) -> dict[str, Any] | None:
    """The recorded state, or None if there is none (or it is unreadable)."""
    try:
        data = json.loads((directory / STATE_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove(directory: Path) -> None:
    """Delete the state file and logs, and the root folder if it is left empty."""
    shutil.rmtree(directory, ignore_errors=True)
    try:
        directory.parent.rmdir()
    except OSError:
        pass  # other testbeds' folders remain, or it never existed

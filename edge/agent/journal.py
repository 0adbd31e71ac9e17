"""The agent's on-disk journal (SQLite, WAL): every question it accepted about a frame, until
answered; every degraded answer a source wants confirmed, until a fog confirms it.

    journal = Journal(state_dir / "journal.sqlite", max_pending=10000)
    ids = journal.accept(source, seq, png, captured, questions)   # committed before asking
    journal.answered(job_id)                                      # or journal.to_confirm(..)
    for job in journal.pending(): ...                             # after a restart

A row is committed before the question is asked, so a SIGKILL loses nothing accepted: the next
start asks again what was not answered (a result may then be delivered twice, never zero
times). One connection, used from the event loop's thread (each call is a short transaction).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL, seq INTEGER NOT NULL, png BLOB NOT NULL, captured REAL NOT NULL,
    reused INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    frame INTEGER NOT NULL REFERENCES frames(id),
    question TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('ask', 'confirm')));
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
"""


class JournalFull(Exception):
    """max_pending questions are accepted and not yet answered (or confirmed)."""


@dataclass(frozen=True)
class Job:
    id: int
    source: str
    seq: int
    png: bytes  # the frame at model resolution, as sent to the edge
    captured_unix_s: float
    question: str
    state: str  # "ask": to answer; "confirm": answered degraded, to confirm upstream
    reused: bool


class Journal:
    def __init__(self, path: Path, max_pending: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.max_pending = path, max_pending
        self.db = sqlite3.connect(path, isolation_level=None)  # explicit transactions
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # a process kill loses no commit
        self.db.executescript(SCHEMA)
        self._pending = self.db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    def __len__(self) -> int:
        return int(self._pending)

    def accept(self, source: str, seq: int, png: bytes, captured_unix_s: float,
               questions: Sequence[str], reused: bool = False) -> list[int]:
        """Journal one frame's questions (committed when this returns): their job ids.
        JournalFull when max_pending would be passed."""
        if self._pending + len(questions) > self.max_pending:
            raise JournalFull(f"{self._pending} questions are pending (max_pending = "
                              f"{self.max_pending})")
        with self.db:
            self.db.execute("BEGIN")
            frame = self.db.execute(
                "INSERT INTO frames (source, seq, png, captured, reused) VALUES (?, ?, ?, ?, ?)",
                (source, seq, png, captured_unix_s, int(reused))).lastrowid
            ids = [int(self.db.execute("INSERT INTO jobs (frame, question, state) "
                                       "VALUES (?, ?, 'ask')", (frame, q)).lastrowid or 0)
                   for q in questions]
        self._pending += len(ids)
        return ids

    def answered(self, job_id: int) -> None:
        """Done with the job; its frame goes when its last job does."""
        with self.db:
            self.db.execute("BEGIN")
            row = self.db.execute("DELETE FROM jobs WHERE id = ? RETURNING frame",
                                  (job_id,)).fetchone()
            if row is not None:
                self.db.execute("DELETE FROM frames WHERE id = ? AND NOT EXISTS "
                                "(SELECT 1 FROM jobs WHERE frame = ?)", (row[0], row[0]))
        if row is not None:
            self._pending -= 1

    def to_confirm(self, job_id: int) -> None:
        """Answered degraded: keep it until a fog confirms it."""
        with self.db:
            self.db.execute("UPDATE jobs SET state = 'confirm' WHERE id = ?", (job_id,))

    def pending(self, state: str = "ask", limit: int = -1) -> list[Job]:
        """Jobs in `state`, oldest first."""
        rows = self.db.execute(
            "SELECT j.id, f.source, f.seq, f.png, f.captured, j.question, j.state, f.reused "
            "FROM jobs j JOIN frames f ON f.id = j.frame WHERE j.state = ? ORDER BY j.id "
            "LIMIT ?", (state, limit)).fetchall()
        return [Job(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    def count(self, state: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?",
                                   (state,)).fetchone()[0])

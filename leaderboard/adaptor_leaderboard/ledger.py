"""The submission ledger: an embedded SQLite database where nothing is ever overwritten.

* ``submissions``: one row per submission (team, institute, phase, image and digest, time).
* ``events``: the status history, appended (queued, running, failed with a reason, scored); the
  current status is the latest event.
* ``scorings``: one row per scoring of a submission; a re-score adds a row. Its ``scores`` (per
  radius, overall and per test surgery) and ``frame_counts`` (per frame and radius, for the
  bootstrap) are written in the same transaction, so a crash never leaves half a scoring.

The database runs in WAL mode with full synchronisation, so concurrent writers (two submissions
scored at once) queue on SQLite's lock and a killed process loses at most its open transaction.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    submission_id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    institute TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL,
    image TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'failed', 'scored')),
    reason TEXT NOT NULL DEFAULT '',
    run_seconds REAL
);
CREATE TABLE IF NOT EXISTS scorings (
    scoring_id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    at REAL NOT NULL,
    ground_truth TEXT NOT NULL,
    problems INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    scoring_id INTEGER NOT NULL REFERENCES scorings(scoring_id),
    surgery TEXT NOT NULL,          -- '' for the whole test set
    radius REAL NOT NULL,
    tp INTEGER NOT NULL, fp INTEGER NOT NULL, fn INTEGER NOT NULL,
    ppv REAL NOT NULL, tpr REAL NOT NULL, f1 REAL NOT NULL,
    rmse REAL, rmse_images INTEGER NOT NULL, images INTEGER NOT NULL,
    PRIMARY KEY (scoring_id, surgery, radius)
);
CREATE TABLE IF NOT EXISTS frame_counts (
    scoring_id INTEGER NOT NULL REFERENCES scorings(scoring_id),
    frame TEXT NOT NULL,            -- folder/video/frame
    radius REAL NOT NULL,
    tp INTEGER NOT NULL, fp INTEGER NOT NULL, fn INTEGER NOT NULL,
    PRIMARY KEY (scoring_id, frame, radius)
);
CREATE INDEX IF NOT EXISTS events_by_submission ON events(submission_id, id);
CREATE INDEX IF NOT EXISTS scorings_by_submission ON scorings(submission_id, scoring_id);
"""

STATUSES = ("queued", "running", "failed", "scored")


class LedgerError(Exception):
    pass


@dataclass(frozen=True)
class Submission:
    submission_id: str
    team: str
    institute: str
    phase: str
    image: str
    digest: str
    created_at: float
    status: str
    reason: str
    run_seconds: float | None


class Ledger:
    """Open (and create) a ledger at ``path``.

    Example:
        >>> import tempfile, os
        >>> ledger = Ledger(os.path.join(tempfile.mkdtemp(), "ledger.sqlite"))
        >>> sid = ledger.add_submission("team-a", "phase-1", institute="Uni A")
        >>> ledger.set_status(sid, "running"); ledger.get(sid).status
        'running'
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: BEGIN IMMEDIATE takes the write lock up front (concurrent writers wait)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ writing
    def add_submission(
        self,
        team: str,
        phase: str,
        institute: str = "",
        image: str = "",
        digest: str = "",
        submission_id: str | None = None,
    ) -> str:
        if not team.strip():
            raise LedgerError("a submission needs a team")
        sid = submission_id or uuid.uuid4().hex[:12]
        now = time.time()
        with self.transaction() as c:
            c.execute(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sid, team, institute, phase, image, digest, now),
            )
            c.execute(
                "INSERT INTO events (submission_id, at, status) VALUES (?, ?, 'queued')", (sid, now)
            )
        return sid

    def set_status(
        self, submission_id: str, status: str, reason: str = "", run_seconds: float | None = None
    ) -> None:
        if status not in STATUSES:
            raise LedgerError(f"unknown status {status!r}")
        self._require(submission_id)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO events (submission_id, at, status, reason, run_seconds) VALUES (?, ?, ?, ?, ?)",
                (submission_id, time.time(), status, reason, run_seconds),
            )

    def record_scoring(
        self, submission_id: str, report, ground_truth: str, run_seconds: float | None = None
    ) -> int:
        """Store a :class:`adaptor_score.ScoreReport` (overall, per surgery, per frame) and mark the
        submission scored, in one transaction. Returns the scoring id."""
        self._require(submission_id)
        frames = report.frames
        per_surgery = report.by_folder()
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO scorings (submission_id, at, ground_truth, problems) VALUES (?, ?, ?, ?)",
                (submission_id, time.time(), ground_truth, len(report.problems)),
            )
            scoring_id = cur.lastrowid
            rows = [("", s) for s in report.overall()] + [
                (k, s) for k, v in per_surgery.items() for s in v
            ]
            c.executemany(
                "INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        scoring_id,
                        surgery,
                        s.radius,
                        s.tp,
                        s.fp,
                        s.fn,
                        s.ppv,
                        s.tpr,
                        s.f1,
                        s.rmse,
                        s.rmse_images,
                        s.images,
                    )
                    for surgery, s in rows
                ],
            )
            fp, fn = frames.fp, frames.fn
            c.executemany(
                "INSERT INTO frame_counts VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        scoring_id,
                        str(k),
                        float(r),
                        int(frames.tp[i, j]),
                        int(fp[i, j]),
                        int(fn[i, j]),
                    )
                    for i, k in enumerate(frames.keys)
                    for j, r in enumerate(frames.radii)
                ],
            )
            c.execute(
                "INSERT INTO events (submission_id, at, status, run_seconds) VALUES (?, ?, 'scored', ?)",
                (submission_id, time.time(), run_seconds),
            )
        return scoring_id

    # ------------------------------------------------------------------ reading
    def _require(self, submission_id: str) -> None:
        if not self._conn.execute(
            "SELECT 1 FROM submissions WHERE submission_id = ?", (submission_id,)
        ).fetchone():
            raise LedgerError(f"no submission {submission_id!r}")

    def submissions(self, phase: str | None = None, team: str | None = None) -> list[Submission]:
        q = """
        SELECT s.*, e.status, e.reason, e.run_seconds FROM submissions s
        JOIN events e ON e.id = (SELECT MAX(id) FROM events WHERE submission_id = s.submission_id)
        WHERE (? IS NULL OR s.phase = ?) AND (? IS NULL OR s.team = ?)
        ORDER BY s.created_at, s.submission_id
        """
        return [Submission(*row) for row in self._conn.execute(q, (phase, phase, team, team))]

    def get(self, submission_id: str) -> Submission:
        for s in self.submissions():
            if s.submission_id == submission_id:
                return s
        raise LedgerError(f"no submission {submission_id!r}")

    def count(self, team: str, phase: str, statuses: Sequence[str] = STATUSES) -> int:
        return sum(1 for s in self.submissions(phase, team) if s.status in statuses)

    def latest_scoring(self, submission_id: str) -> int | None:
        row = self._conn.execute(
            "SELECT MAX(scoring_id) FROM scorings WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        return row[0]

    def scores(self, scoring_id: int, surgery: str = "") -> dict[float, dict]:
        cols = ("radius", "tp", "fp", "fn", "ppv", "tpr", "f1", "rmse", "rmse_images", "images")
        q = f"SELECT {', '.join(cols)} FROM scores WHERE scoring_id = ? AND surgery = ? ORDER BY radius"
        return {
            row[0]: dict(zip(cols, row)) for row in self._conn.execute(q, (scoring_id, surgery))
        }

    def surgeries(self, scoring_id: int) -> list[str]:
        q = "SELECT DISTINCT surgery FROM scores WHERE scoring_id = ? AND surgery != '' ORDER BY surgery"
        return [r[0] for r in self._conn.execute(q, (scoring_id,))]

    def frame_counts(
        self, scoring_id: int, radius: float
    ) -> tuple[list[str], list[tuple[int, int, int]]]:
        q = "SELECT frame, tp, fp, fn FROM frame_counts WHERE scoring_id = ? AND radius = ? ORDER BY frame"
        rows = self._conn.execute(q, (scoring_id, radius)).fetchall()
        return [r[0] for r in rows], [tuple(r[1:]) for r in rows]

    # ------------------------------------------------------------------ export
    def export_rows(self) -> list[dict]:
        """One row per submission and its latest scoring at each radius (or its status alone)."""
        out = []
        for s in self.submissions():
            base = {k: getattr(s, k) for k in Submission.__dataclass_fields__}
            scoring = self.latest_scoring(s.submission_id)
            if scoring is None:
                out.append(base)
                continue
            for sc in self.scores(scoring).values():
                out.append({**base, "scoring_id": scoring, **sc})
        return out

    def export_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.export_rows(), indent=2) + "\n")

    def export_csv(self, path: str | Path) -> None:
        rows = self.export_rows()
        columns = list(dict.fromkeys(k for r in rows for k in r))
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)

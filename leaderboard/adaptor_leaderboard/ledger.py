"""The submission ledger: an embedded SQLite database where nothing is ever overwritten.

* ``submissions``: one row per submission (team, institute, phase, image and digest, time) with
  ``seq``, the ledger's own sequence: every order and tie-break uses it, never the wall clock
  (which can step back).
* ``events``: the status history, appended (queued, running, failed with a reason, scored); the
  current status is the latest event. Whether a final event uses up one of the team's submissions
  is stored in ``charged`` (1 or 0), never parsed from the reason.
* ``scorings``: one row per scoring of a submission; a re-score adds a row. Its ``scores`` (per
  radius, overall and per test surgery) and ``frame_counts`` (per frame and radius, for the
  bootstrap) are written in the same transaction, so a crash never leaves half a scoring.

The database runs in WAL mode with full synchronisation, so concurrent writers (two submissions
scored at once) queue on SQLite's lock and a killed process loses at most its open transaction.
The schema version is SQLite's ``user_version``; older ledgers are upgraded when opened for
writing. Read commands open the file read-only, so they work on a ledger they may not write.
Any SQLite failure (a corrupt file, a full disk, a lock held too long) becomes a
:class:`LedgerError` naming the file; a failed write rolls back whole.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    submission_id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    institute TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL,
    image TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    seq INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'failed', 'scored')),
    reason TEXT NOT NULL DEFAULT '',
    run_seconds REAL,
    charged INTEGER
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
# Version 1 (no user_version, no seq, no charged): the sequence follows the insertion order
# (rowid); a failure counted unless its reason began with "infrastructure:", the only record of
# it then, read once here and stored as data.
_UPGRADE_FROM_1 = """
ALTER TABLE submissions ADD COLUMN seq INTEGER;
ALTER TABLE events ADD COLUMN charged INTEGER;
UPDATE submissions SET seq = rowid;
UPDATE events SET charged = CASE
    WHEN status = 'failed' AND reason LIKE 'infrastructure:%' THEN 0 ELSE 1 END
    WHERE status IN ('failed', 'scored');
"""
_INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS submissions_by_seq ON submissions(seq);"

STATUSES = ("queued", "running", "failed", "scored")
SCORE_COLUMNS = ("radius", "tp", "fp", "fn", "ppv", "tpr", "f1", "rmse", "rmse_images", "images")


class LedgerError(Exception):
    """The ledger cannot do what was asked; the message names the file or submission."""


class LimitReached(LedgerError):
    """The team has no submission left in this phase."""


@dataclass(frozen=True)
class Submission:
    submission_id: str
    team: str
    institute: str
    phase: str
    image: str
    digest: str
    created_at: float
    seq: int
    status: str
    reason: str
    run_seconds: float | None
    status_at: float
    charged: bool  # uses up one of the team's submissions (in progress counts too)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Submission:
        values = {f.name: row[f.name] for f in fields(cls) if f.name != "charged"}
        # Queued and running count, so that two runs at once cannot both pass the limit; only a
        # failure recorded as ours (charged = 0) gives the submission back.
        return cls(**values, charged=row["charged"] != 0)


class Ledger:
    """Open (and create, upgrade) a ledger at ``path``; ``readonly=True`` never writes.

    Example:
        >>> import tempfile, os
        >>> ledger = Ledger(os.path.join(tempfile.mkdtemp(), "ledger.sqlite"))
        >>> sid = ledger.add_submission("team-a", "phase-1", institute="Uni A")
        >>> ledger.set_status(sid, "running"); ledger.get(sid).status
        'running'
    """

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            self._conn = self._connect()
        except sqlite3.Error as e:
            raise LedgerError(f"{self.path}: not a usable ledger ({e})") from None
        self._conn.row_factory = sqlite3.Row

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.is_file():
                raise LedgerError(f"{self.path}: no ledger there")
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
            try:
                version = self._check_version(conn)
            except sqlite3.OperationalError:
                # A WAL ledger in a folder we may not write has no -shm to open; read the file
                # as it stands (immutable), which needs no lock and no side file.
                conn.close()
                conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True
                )
                version = self._check_version(conn)
            if version < SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path}: schema version {version}; open it once for writing"
                    f" (any ledger write command) to upgrade it to {SCHEMA_VERSION}"
                )
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = self._check_version(conn)
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                legacy = bool(
                    conn.execute(
                        "SELECT 1 FROM sqlite_master WHERE name = 'submissions'"
                    ).fetchone()
                )
                # statement by statement: executescript() would commit the open transaction
                script = (_UPGRADE_FROM_1 if legacy else "") + SCHEMA + _INDEXES
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return conn

    def _check_version(self, conn: sqlite3.Connection) -> int:
        # The first read: a file that is not SQLite fails here ("file is not a database").
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path}: schema version {version} is newer than this toolkit's"
                f" ({SCHEMA_VERSION}); upgrade adaptor-toolkit"
            )
        return version

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: BEGIN IMMEDIATE takes the write lock up front (concurrent writers
        wait); any SQLite failure rolls back and becomes a :class:`LedgerError`."""
        if self.readonly:
            raise LedgerError(f"{self.path}: opened read-only")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise LedgerError(f"{self.path}: cannot write: {e}") from None
        try:
            yield self._conn
        except BaseException as e:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite may already have rolled back (e.g. on a full disk)
            if isinstance(e, sqlite3.Error):
                raise LedgerError(f"{self.path}: cannot write: {e}") from None
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise LedgerError(f"{self.path}: cannot write: {e}") from None

    def _read(self, query: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(query, params).fetchall()
        except sqlite3.Error as e:
            raise LedgerError(f"{self.path}: cannot read: {e}") from None

    # ------------------------------------------------------------------ writing
    def add_submission(
        self,
        team: str,
        phase: str,
        institute: str = "",
        image: str = "",
        digest: str = "",
        submission_id: str | None = None,
        limit: int | None = None,
    ) -> str:
        """Record a queued submission. With ``limit``, the count of the team's submissions that
        use up its quota and the insert are one transaction: two runs at once cannot both pass.
        Raises :class:`LimitReached` when the team has none left."""
        if not team.strip():
            raise LedgerError("a submission needs a team")
        sid = submission_id or uuid.uuid4().hex[:12]
        now = time.time()
        with self.transaction() as c:
            if limit is not None:
                used = sum(1 for s in self._submissions(c, phase, team) if s.charged)
                if used >= limit:
                    raise LimitReached(
                        f"team {team} has used its {limit} submissions in phase {phase}"
                    )
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions").fetchone()[0]
            c.execute(
                "INSERT INTO submissions (submission_id, team, institute, phase, image, digest,"
                " created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, team, institute, phase, image, digest, now, seq),
            )
            c.execute(
                "INSERT INTO events (submission_id, at, status) VALUES (?, ?, 'queued')", (sid, now)
            )
        return sid

    def set_status(
        self,
        submission_id: str,
        status: str,
        reason: str = "",
        run_seconds: float | None = None,
        *,
        charged: bool = True,
    ) -> None:
        """Append a status. For ``failed``, ``charged=False`` records a failure on our side (engine,
        disk, scorer, an interrupted run): it does not use up one of the team's submissions."""
        if status not in STATUSES:
            raise LedgerError(f"unknown status {status!r}")
        self._require(submission_id)
        final = status in ("failed", "scored")
        with self.transaction() as c:
            c.execute(
                "INSERT INTO events (submission_id, at, status, reason, run_seconds, charged)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    submission_id,
                    time.time(),
                    status,
                    reason,
                    run_seconds,
                    (1 if charged or status == "scored" else 0) if final else None,
                ),
            )

    def fail(
        self, submission_id: str, reason: str, ours: bool, run_seconds: float | None = None
    ) -> None:
        """Record a failure: the team's (``ours=False``, uses up a submission) or ours."""
        self.set_status(submission_id, "failed", reason, run_seconds, charged=not ours)

    def recover_stale(self, older_than: float, now: float | None = None) -> list[str]:
        """Mark submissions still ``queued`` or ``running`` whose last event is older than
        ``older_than`` seconds as failed on our side (an interrupted run); returns their ids."""
        now = time.time() if now is None else now
        stale = [
            s
            for s in self.submissions()
            if s.status in ("queued", "running") and now - s.status_at >= older_than
        ]
        for s in stale:
            self.fail(
                s.submission_id,
                f"interrupted: still {s.status} after {now - s.status_at:,.0f} s; recovered",
                ours=True,
            )
        return [s.submission_id for s in stale]

    def record_scoring(
        self,
        submission_id: str,
        report,
        ground_truth: str,
        run_seconds: float | None = None,
        note: str = "",
    ) -> int:
        """Store a :class:`adaptor_score.ScoreReport` (overall, per surgery, per frame) and mark the
        submission scored, in one transaction. Returns the scoring id."""
        self._require(submission_id)
        frames = report.frames
        rows = [("", s) for s in report.overall()] + [
            (k, s) for k, v in report.by_folder().items() for s in v
        ]
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO scorings (submission_id, at, ground_truth, problems) VALUES (?, ?, ?, ?)",
                (submission_id, time.time(), ground_truth, len(report.problems)),
            )
            scoring_id = cur.lastrowid
            c.executemany(
                f"INSERT INTO scores (scoring_id, surgery, {', '.join(SCORE_COLUMNS)})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (scoring_id, surgery, *(getattr(s, k) for k in SCORE_COLUMNS))
                    for surgery, s in rows
                ],
            )
            fp, fn = frames.fp, frames.fn
            c.executemany(
                "INSERT INTO frame_counts (scoring_id, frame, radius, tp, fp, fn)"
                " VALUES (?, ?, ?, ?, ?, ?)",
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
                "INSERT INTO events (submission_id, at, status, reason, run_seconds, charged)"
                " VALUES (?, ?, 'scored', ?, ?, 1)",
                (submission_id, time.time(), note, run_seconds),
            )
        return scoring_id

    # ------------------------------------------------------------------ reading
    def _require(self, submission_id: str) -> None:
        if not self._read("SELECT 1 FROM submissions WHERE submission_id = ?", (submission_id,)):
            raise LedgerError(f"no submission {submission_id!r} in {self.path}")

    @staticmethod
    def _submissions(conn, phase: str | None, team: str | None) -> list[Submission]:
        q = """
        SELECT s.*, e.status, e.reason, e.run_seconds, e.at AS status_at, e.charged FROM submissions s
        JOIN events e ON e.id = (SELECT MAX(id) FROM events WHERE submission_id = s.submission_id)
        WHERE (? IS NULL OR s.phase = ?) AND (? IS NULL OR s.team = ?)
        ORDER BY s.seq
        """
        return [Submission.from_row(r) for r in conn.execute(q, (phase, phase, team, team))]

    def submissions(self, phase: str | None = None, team: str | None = None) -> list[Submission]:
        """Submissions in ledger order (``seq``), each with its current status."""
        try:
            return self._submissions(self._conn, phase, team)
        except sqlite3.Error as e:
            raise LedgerError(f"{self.path}: cannot read: {e}") from None

    def get(self, submission_id: str) -> Submission:
        for s in self.submissions():
            if s.submission_id == submission_id:
                return s
        raise LedgerError(f"no submission {submission_id!r} in {self.path}")

    def latest_scoring(self, submission_id: str) -> int | None:
        rows = self._read(
            "SELECT MAX(scoring_id) AS id FROM scorings WHERE submission_id = ?", (submission_id,)
        )
        return rows[0]["id"]

    def scores(self, scoring_id: int, surgery: str = "") -> dict[float, dict]:
        q = (
            f"SELECT {', '.join(SCORE_COLUMNS)} FROM scores WHERE scoring_id = ? AND surgery = ?"
            " ORDER BY radius"
        )
        return {r["radius"]: dict(r) for r in self._read(q, (scoring_id, surgery))}

    def surgeries(self, scoring_id: int) -> list[str]:
        q = "SELECT DISTINCT surgery FROM scores WHERE scoring_id = ? AND surgery != '' ORDER BY surgery"
        return [r["surgery"] for r in self._read(q, (scoring_id,))]

    def frame_counts(
        self, scoring_id: int, radius: float
    ) -> tuple[list[str], list[tuple[int, int, int]]]:
        q = "SELECT frame, tp, fp, fn FROM frame_counts WHERE scoring_id = ? AND radius = ? ORDER BY frame"
        rows = self._read(q, (scoring_id, radius))
        return [r["frame"] for r in rows], [(r["tp"], r["fp"], r["fn"]) for r in rows]

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

from adaptor_leaderboard.identity import team_name
from adaptor_leaderboard.ledger_schema import SCHEMA_VERSION, LedgerError, connect

__all__ = ["SCHEMA_VERSION", "Ledger", "LedgerError", "LimitReached", "Submission"]

STATUSES = ("queued", "running", "failed", "scored")
TEAM_FIELDS = ("institute", "contact", "method_url", "description")
SCORE_COLUMNS = ("radius", "tp", "fp", "fn", "ppv", "tpr", "f1", "rmse", "rmse_images", "images")


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
    archive: str = ""  # "team.tar.gz sha256:..." when the image came as an archive

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
            self._conn = connect(self.path, readonly)
        except sqlite3.Error as e:
            raise LedgerError(f"{self.path}: not a usable ledger ({e})") from None
        self._conn.row_factory = sqlite3.Row

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

    def query(self, query: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (for the ledger's other tables' modules)."""
        return self._read(query, params)

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
        archive: str = "",
        at: float | None = None,
    ) -> str:
        """Record a queued submission (made at ``at``, default now: the clock the phase's
        window was checked with). With ``limit``, the count of the team's submissions that
        use up its quota and the insert are one transaction: two runs at once cannot both pass.
        Raises :class:`LimitReached` when the team has none left."""
        team = team_name(team)
        sid = submission_id or uuid.uuid4().hex[:12]
        now = time.time() if at is None else at
        with self.transaction() as c:
            team = self._same_team(c, team)
            if limit is not None:
                used = sum(1 for s in self._submissions(c, phase, team) if s.charged)
                if used >= limit:
                    raise LimitReached(
                        f"team {team} has used its {limit} submissions in phase {phase}"
                    )
            seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions").fetchone()[0]
            c.execute(
                "INSERT INTO submissions (submission_id, team, institute, phase, image, digest,"
                " created_at, seq, archive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, team, institute, phase, image, digest, now, seq, archive),
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
            missing = getattr(report, "missing", None)
            if missing is None:
                missing = [False] * len(frames.keys)
            c.executemany(
                "INSERT INTO frame_counts (scoring_id, frame, radius, tp, fp, fn, missing)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        scoring_id,
                        str(k),
                        float(r),
                        int(frames.tp[i, j]),
                        int(fp[i, j]),
                        int(fn[i, j]),
                        int(bool(missing[i])),
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

    def register_team(self, team: str, **details: str) -> None:
        """Register ``team`` or update the details given (institute, contact, method_url,
        description); the others stay as they were."""
        unknown = set(details) - set(TEAM_FIELDS)
        if unknown:
            raise LedgerError(f"unknown team details: {', '.join(sorted(unknown))}")
        team = team_name(team)
        now = time.time()
        with self.transaction() as c:
            team = self._same_team(c, team)
            c.execute(
                "INSERT INTO teams (team, registered_at, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(team) DO NOTHING",
                (team, now, now),
            )
            for k, v in details.items():
                if v is not None:
                    c.execute(
                        f"UPDATE teams SET {k} = ?, updated_at = ? WHERE team = ?", (v, now, team)
                    )

    @staticmethod
    def _same_team(conn: sqlite3.Connection, team: str) -> str:
        """The spelling under which ``team`` is already known (registered or submitted), compared
        without regard to case; ``team`` itself when it is new."""
        key = team.casefold()
        for (name,) in conn.execute(
            "SELECT team FROM teams UNION SELECT DISTINCT team FROM submissions"
        ):
            if team_name(name, check=False).casefold() == key:
                return name
        return team

    def canonical_team(self, team: str) -> str | None:
        """The known spelling of ``team`` (normalised, any case), or None when it is unknown."""
        name = self._same_team(self._conn, team_name(team))
        known = self._read(
            "SELECT 1 FROM teams WHERE team = ? UNION SELECT 1 FROM submissions WHERE team = ?",
            (name, name),
        )
        return name if known else None

    def teams(self) -> dict[str, dict]:
        """Registered teams by name, with their details."""
        return {r["team"]: dict(r) for r in self._read("SELECT * FROM teams ORDER BY team")}

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
        """Submissions in ledger order (``seq``), each with its current status; ``team`` is read
        as every team name is (:func:`~adaptor_leaderboard.identity.team_name`, any case), so
        ``Team  A`` finds ``Team A``'s submissions. A name that can be no team's finds none."""
        try:
            if team is not None:
                try:
                    team = self._same_team(self._conn, team_name(team))
                except LedgerError:
                    return []
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

    def missing_frames(self, scoring_id: int) -> set[str]:
        """Frames this scoring found without a usable prediction file (challengeR's missing
        cases); empty for scorings recorded before the ledger kept them (schema 3)."""
        q = "SELECT DISTINCT frame FROM frame_counts WHERE scoring_id = ? AND missing = 1"
        return {r["frame"] for r in self._read(q, (scoring_id,))}

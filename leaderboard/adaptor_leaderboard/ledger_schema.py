"""The ledger's SQLite schema, its version and its upgrades, and opening a ledger file."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class LedgerError(Exception):
    """The ledger cannot do what was asked; the message names the file or submission."""


SCHEMA_VERSION = 7
SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    submission_id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    institute TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL,
    image TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    seq INTEGER,
    archive TEXT NOT NULL DEFAULT ''
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
    missing INTEGER NOT NULL DEFAULT 0,  -- 1: no usable prediction file (a missing case)
    PRIMARY KEY (scoring_id, frame, radius)
);
CREATE TABLE IF NOT EXISTS teams (
    team TEXT PRIMARY KEY,
    institute TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    method_url TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    registered_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS translations (  -- version 5: the domain-transformation task's runs
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    domain TEXT NOT NULL,           -- the input's domain (translated into the other)
    input_dir TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('translated', 'incomplete', 'not offered', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    images INTEGER NOT NULL, written INTEGER NOT NULL, problems INTEGER NOT NULL,
    run_seconds REAL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS refusals (  -- version 7: what was refused before any claim
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team TEXT NOT NULL,
    phase TEXT NOT NULL,
    at REAL NOT NULL,
    source TEXT NOT NULL,           -- the archive (name and SHA-256 where read) or image name
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_submission ON events(submission_id, id);
CREATE INDEX IF NOT EXISTS scorings_by_submission ON scorings(submission_id, scoring_id);
"""
# Version 1 (no user_version, no seq, no charged): the sequence follows the insertion order
# (rowid); a failure counted unless its reason began with "infrastructure:", the only record of
# it then, read once here and stored as data. Each column is added only where it is missing: a
# ledger restored from `sqlite3 .dump` has every column but no user_version (read as 0).
_ADD_SEQ = """
ALTER TABLE submissions ADD COLUMN seq INTEGER;
UPDATE submissions SET seq = rowid;
"""
_ADD_CHARGED = """
ALTER TABLE events ADD COLUMN charged INTEGER;
UPDATE events SET charged = CASE
    WHEN status = 'failed' AND reason LIKE 'infrastructure:%' THEN 0 ELSE 1 END
    WHERE status IN ('failed', 'scored');
"""
# Every column the ledger computes with holds a number (or NULL where it may). SQLite keeps
# whatever it is given in a column of another affinity, so text written by hand or by a damaged
# tool ("fast" in run_seconds) is found when the ledger is opened, never as a traceback later.
NUMERIC = {
    "submissions": ("created_at", "seq"),
    "events": ("at", "run_seconds", "charged"),
    "scorings": ("at", "problems"),
    "scores": ("radius", "tp", "fp", "fn", "ppv", "tpr", "f1", "rmse", "rmse_images", "images"),
    "frame_counts": ("radius", "tp", "fp", "fn", "missing"),
    "teams": ("registered_at", "updated_at"),
    "translations": ("images", "written", "problems", "run_seconds", "at"),
    "refusals": ("at",),
}
# Version 4: frame_counts records a frame without a usable prediction file. Scorings made before
# cannot tell (0): re-score such a submission for challengeR's missing-case rule to apply to it.
_UPGRADE_TO_4 = "ALTER TABLE frame_counts ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;"
# Version 6: a submission that arrived as an image archive records its file name and SHA-256
# ("team.tar.gz sha256:..."); earlier ones were image names (empty).
_UPGRADE_TO_6 = "ALTER TABLE submissions ADD COLUMN archive TEXT NOT NULL DEFAULT '';"
_INDEXES = "CREATE UNIQUE INDEX IF NOT EXISTS submissions_by_seq ON submissions(seq);"


def connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """Open a ledger: read-only without writing anything, or for writing (created, upgraded)."""
    if readonly:
        if not path.is_file():
            raise LedgerError(f"{path}: no ledger there")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            version = _check_version(conn, path)
        except sqlite3.OperationalError:
            # A WAL ledger in a folder we may not write has no -shm to open; read the file
            # as it stands (immutable), which needs no lock and no side file.
            conn.close()
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            version = _check_version(conn, path)
        if version < SCHEMA_VERSION:
            raise LedgerError(
                f"{path}: schema version {version}; open it once for writing"
                f" (any ledger write command) to upgrade it to {SCHEMA_VERSION}"
            )
        _checked(conn, path)
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    version = _check_version(conn, path)
    if version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            legacy = bool(
                conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'submissions'").fetchone()
            )
            # statement by statement: executescript() would commit the open transaction
            # version 1 needs its columns added; every version gets the tables it lacks (v3: teams)
            script = SCHEMA + _INDEXES
            if legacy and version < 2:
                if "charged" not in _columns(conn, "events"):
                    script = _ADD_CHARGED + script
                if "seq" not in _columns(conn, "submissions"):
                    script = _ADD_SEQ + script
            columns = _columns(conn, "frame_counts")
            if columns and "missing" not in columns:  # the table exists without the column
                script = _UPGRADE_TO_4 + script
            columns = _columns(conn, "submissions")
            if columns and "archive" not in columns:
                script = _UPGRADE_TO_6 + script
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    _checked(conn, path)
    return conn


def _checked(conn: sqlite3.Connection, path: Path) -> None:
    try:
        check_numbers(conn, path)
    except BaseException:
        conn.close()
        raise


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def check_numbers(conn: sqlite3.Connection, path: Path) -> None:
    """:class:`LedgerError` naming the table, column, row and value of the first text (or blob)
    found where :data:`NUMERIC` says a number belongs."""
    for table, cols in NUMERIC.items():
        present = _columns(conn, table)
        for col in cols:
            if col not in present:
                continue
            row = conn.execute(
                f"SELECT rowid, quote({col}) FROM {table}"
                f" WHERE typeof({col}) NOT IN ('integer', 'real', 'null') LIMIT 1").fetchone()
            if row is not None:
                raise LedgerError(
                    f"{path}: {table}.{col} holds {row[1][:40]} in row {row[0]} where a number"
                    " belongs; the ledger was edited by hand or damaged: correct that row, or"
                    " restore the ledger from a backup")


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    # The first read: a file that is not SQLite fails here ("file is not a database").
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"{path}: schema version {version} is newer than this toolkit's"
            f" ({SCHEMA_VERSION}); upgrade adaptor-toolkit"
        )
    return version

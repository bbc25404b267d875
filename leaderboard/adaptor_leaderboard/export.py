"""Exporting the ledger: one row per submission and radius of its latest scoring, as CSV or JSON.

Times are ISO 8601 (UTC), JSON is strict (undefined values are ``null``), CSV text cells cannot be
run as spreadsheet formulas (:mod:`adaptor_score.outputs`).
"""

from __future__ import annotations

from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_score.outputs import iso_time, write_csv, write_json

SUBMISSION_COLUMNS = (
    "seq",
    "submission_id",
    "team",
    "institute",
    "phase",
    "image",
    "digest",
    "created",
    "status",
    "status_time",
    "reason",
    "charged",
    "run_seconds",
)


def export_rows(ledger: Ledger) -> list[dict]:
    """One row per submission and radius of its latest scoring (or its status alone)."""
    out = []
    for s in ledger.submissions():
        base = {
            "seq": s.seq,
            "submission_id": s.submission_id,
            "team": s.team,
            "institute": s.institute,
            "phase": s.phase,
            "image": s.image,
            "digest": s.digest,
            "created": iso_time(s.created_at),
            "status": s.status,
            "status_time": iso_time(s.status_at),
            "reason": s.reason,
            "charged": s.charged,
            "run_seconds": s.run_seconds,
        }
        scoring = ledger.latest_scoring(s.submission_id)
        if scoring is None:
            out.append(base)
            continue
        for sc in ledger.scores(scoring).values():
            out.append({**base, "scoring_id": scoring, **sc})
    return out


def export_json(ledger: Ledger, path: str | Path) -> None:
    write_json(path, export_rows(ledger))


def export_csv(ledger: Ledger, path: str | Path) -> None:
    rows = export_rows(ledger)
    columns = list(dict.fromkeys([*SUBMISSION_COLUMNS, *(k for r in rows for k in r)]))
    write_csv(path, columns, ([r.get(k, "") for k in columns] for r in rows))

"""Submissions refused before anything was claimed, kept so that each team can be told why.

A refused archive (not one image, a tag of another team's), a team over its quota, a phase that
is closed: nothing is claimed or charged, and until schema 7 nothing was recorded either, so a
team could not learn why its submission never appeared. Each refusal is one row: the team (as
the ledger names it, or as written where the name itself was refused), the phase, the time, the
source (the archive's name and SHA-256, or the image name) and the reason in words.
"""

from __future__ import annotations

import time

from adaptor_leaderboard.identity import team_name
from adaptor_leaderboard.ledger import Ledger, LedgerError


def record_refusal(ledger: Ledger, team: str, phase: str, source: str, reason: str,
                   at: float | None = None) -> None:  # fmt: skip
    """Record one refusal; a ledger that cannot be written is said on stderr by the caller's
    error path, never allowed to hide the refusal itself (:class:`LedgerError` goes on)."""
    try:
        name = ledger.canonical_team(team) or team_name(team)
    except LedgerError:
        name = team_name(team, check=False) or repr(team)
    with ledger.transaction() as c:
        c.execute("INSERT INTO refusals (team, phase, at, source, reason) VALUES (?, ?, ?, ?, ?)",
                  (name, phase, time.time() if at is None else at, source, reason))  # fmt: skip


def refusals(ledger: Ledger, team: str | None = None, phase: str | None = None) -> list[dict]:
    """The refusals in the order they happened, of ``team`` (read as every team name is) and
    ``phase`` when given."""
    rows = [dict(r) for r in ledger.query("SELECT * FROM refusals ORDER BY id")]
    if phase is not None:
        rows = [r for r in rows if r["phase"] == phase]
    if team is not None:
        key = team_name(team, check=False).casefold()
        rows = [r for r in rows if team_name(r["team"], check=False).casefold() == key]
    return rows

"""A phase's leaderboard as data: standings, bootstrap intervals, per-surgery F1.

Built from the ledger by :func:`build_board`; rendered by :mod:`adaptor_leaderboard.publish`
(Markdown, CSV, JSON) and :mod:`adaptor_leaderboard.page` (the HTML page with its plots).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from adaptor_leaderboard.analysis import Analysis, analyse
from adaptor_leaderboard.bootstrap import BootstrapResult, bootstrap
from adaptor_leaderboard.ledger import Ledger, LedgerError
from adaptor_leaderboard.ranking import PhaseRules, Standing, rank_phase
from adaptor_score.outputs import iso_time

COLUMNS = (
    "rank",
    "team",
    "institute",
    "f1",
    "ppv",
    "tpr",
    "rmse",
    "f1_low",
    "f1_high",
    "submissions",
    "submission_id",
    "method_url",
    "submitted",
)


@dataclass
class Board:
    rules: PhaseRules
    standings: list[Standing]
    boot: BootstrapResult
    surgeries: list[str]
    per_surgery: np.ndarray  # (teams, surgeries) F1 at the ranking radius
    teams: dict = field(default_factory=dict)  # registered teams' details, by name
    published_at: float | None = None
    analysis: Analysis | None = None
    colours: dict[str, str] = field(default_factory=dict)  # team -> colour, the same everywhere
    translation_measures: list[dict] = field(default_factory=list)  # one per direction
    translation_runs: list[dict] = field(default_factory=list)  # the ledger's latest per domain
    unscored: list[dict] = field(default_factory=list)  # the phase's submissions without a score

    def rows(self) -> list[dict]:
        ci = (
            self.boot.interval() if len(self.boot.f1) else np.full((len(self.standings), 2), np.nan)
        )
        out = []
        for st, (lo, hi) in zip(self.standings, ci):
            s = st.scores[self.rules.radius]
            reg = self.teams.get(st.team, {})
            out.append(
                {
                    "rank": st.rank,
                    "team": st.team,
                    "institute": reg.get("institute") or st.institute,
                    "f1": s["f1"],
                    "ppv": s["ppv"],
                    "tpr": s["tpr"],
                    "rmse": s["rmse"],
                    "f1_low": None if np.isnan(lo) else float(lo),
                    "f1_high": None if np.isnan(hi) else float(hi),
                    "submissions": st.submissions,
                    "submission_id": st.submission_id,
                    "method_url": reg.get("method_url", ""),
                    "submitted": iso_time(st.submitted_at),
                }
            )
        return out


def build_board(
    ledger: Ledger, rules: PhaseRules, replicates: int = 1000, seed: int = 0, unit: str | None = None,
    translation_measures: list[dict] | None = None,
) -> Board:  # fmt: skip
    standings = rank_phase(ledger, rules)
    if not standings:
        raise LedgerError(
            f"{ledger.path}: no scored submission in phase {rules.phase}; nothing to publish"
            " (the previous board, if any, is kept)"
        )
    _same_frames(ledger, standings, rules)
    boot = bootstrap(ledger, standings, rules, replicates, seed, unit)
    surgeries = sorted({s for st in standings for s in ledger.surgeries(st.scoring_id)})
    per = np.full((len(standings), len(surgeries)), np.nan)
    for i, st in enumerate(standings):
        for j, g in enumerate(surgeries):
            sc = ledger.scores(st.scoring_id, g).get(rules.radius)
            if sc:
                per[i, j] = sc["f1"]
    first_seen = list(dict.fromkeys(s.team for s in ledger.submissions(rules.phase)))
    colours = {st.team: team_colour(first_seen.index(st.team)) for st in standings}
    from adaptor_leaderboard.translations import latest

    return Board(rules, standings, boot, surgeries, per, ledger.teams(), time.time(),
                 analyse(ledger, standings, rules, replicates=replicates, seed=seed,
                         unit=boot.unit),
                 colours, list(translation_measures or []), latest(ledger, rules.phase),
                 unscored_rows(ledger, rules.phase))  # fmt: skip


def unscored_rows(ledger: Ledger, phase: str) -> list[dict]:
    """Every submission of the phase that has no score (failed, or still queued or running):
    when, its state, whether it counted against the team's limit, and the reason in words, so
    that the page and its JSON account for every submission, not only the scored ones."""
    return [{"team": s.team, "submission_id": s.submission_id, "state": s.status,
             "counted": bool(s.charged), "submitted": iso_time(s.created_at), "reason": s.reason}
            for s in ledger.submissions(phase) if s.status != "scored"]  # fmt: skip


# Okabe & Ito's palette, which readers with any common colour-vision deficiency can tell apart
# (the yellow last: it is the hardest to see on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")


def team_colour(order: int) -> str:
    """The colour of the team that submitted ``order``-th in the phase (0 first): it stays when
    teams are added or ranks change. Beyond eight teams colours repeat; the figures tell such
    teams apart by their markers and names.

    >>> team_colour(0), team_colour(8)
    ('#0072B2', '#0072B2')
    """
    return PALETTE[order % len(PALETTE)]


def _same_frames(ledger: Ledger, standings: list[Standing], rules: PhaseRules) -> None:
    """Refuse a board whose teams were scored on different frames: their F1s would not be
    comparable, and no rank between them could be defended."""
    groups: dict[tuple, list[str]] = {}
    for st in standings:
        keys, _ = ledger.frame_counts(st.scoring_id, rules.radius)
        groups.setdefault(tuple(keys), []).append(st.team)
    if len(groups) > 1:
        parts = [f"{', '.join(teams)} on {len(keys)} frames" for keys, teams in groups.items()]
        raise LedgerError(
            f"{ledger.path}: the counted submissions were scored on different frame sets"
            f" ({'; '.join(parts)}); score every team against the same ground truth before"
            " publishing (the previous board, if any, is kept)"
        )


def fmt_value(x: float | None, digits: int) -> str:
    """A metric for display: ``n/a`` where it is undefined."""
    return "n/a" if x is None else f"{x:.{digits}f}"

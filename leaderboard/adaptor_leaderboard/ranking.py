"""Phase rules and the ranking: best submission per team, ties share a rank.

Rules per phase (``PhaseRules``; a TOML file can hold several phases, see :func:`load_rules`):
a submission limit per team, the best-of rule (a team's best scored submission counts), the
ranking metric and radius, and display rounding. Ranking uses full precision; two teams tie only
when their metric is exactly equal, or equal after rounding to ``tie_decimals`` when a phase
declares it. Tied teams share the better rank and the next rank is skipped ("1, 2, 2, 4").
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class PhaseRules:
    phase: str = "test"
    max_submissions: int | None = (
        3  # per team; counts every submission that was not a failure of ours
    )
    metric: str = "f1"  # f1 | ppv | tpr (higher is better)
    radius: float = 6.0
    display_decimals: int = 4
    tie_decimals: int | None = None  # None: ties only when exactly equal


def load_rules(path: str | Path | None, phase: str) -> PhaseRules:
    """Rules of ``phase`` from a TOML file with ``[phase.NAME]`` tables (defaults without a file)."""
    if path is None:
        return PhaseRules(phase=phase)
    doc = tomllib.loads(Path(path).read_text())
    table = doc.get("phase", {}).get(phase)
    if table is None:
        raise ValueError(f"{path}: no [phase.{phase}] table")
    unknown = set(table) - set(PhaseRules.__dataclass_fields__) - {"phase"}
    if unknown:
        raise ValueError(
            f"{path}: unknown settings in [phase.{phase}]: {', '.join(sorted(unknown))}"
        )
    return PhaseRules(phase=phase, **table)


@dataclass(frozen=True)
class Standing:
    rank: int
    team: str
    institute: str
    submission_id: str
    scoring_id: int
    value: float
    scores: dict  # radius -> metrics of the counted submission
    submissions: int  # scored submissions of the team in this phase


def competition_ranks(values: list[float], tie_decimals: int | None = None) -> list[int]:
    """Ranks for values sorted best first; equal values share the better rank.

    >>> competition_ranks([0.9, 0.8, 0.8, 0.7])
    [1, 2, 2, 4]
    >>> competition_ranks([0.80004, 0.80001], tie_decimals=4)
    [1, 1]
    """
    keys = [round(v, tie_decimals) if tie_decimals is not None else v for v in values]
    ranks = []
    for i, k in enumerate(keys):
        ranks.append(ranks[-1] if i and k == keys[i - 1] else i + 1)
    return ranks


def rank_phase(ledger: Ledger, rules: PhaseRules) -> list[Standing]:
    """The leaderboard of a phase: each team's best scored submission by the phase's metric."""
    best: dict[str, tuple] = {}
    counts: dict[str, int] = {}
    for s in ledger.submissions(rules.phase):
        scoring = ledger.latest_scoring(s.submission_id)
        if s.status != "scored" or scoring is None:
            continue
        scores = ledger.scores(scoring)
        if rules.radius not in scores:
            continue
        value = float(scores[rules.radius][rules.metric])
        counts[s.team] = counts.get(s.team, 0) + 1
        # Best-of: the higher value counts; between equal values, the earlier submission.
        if s.team not in best or value > best[s.team][0]:
            best[s.team] = (value, s, scoring, scores)
    ordered = sorted(best.values(), key=lambda b: (-b[0], b[1].team))
    ranks = competition_ranks([b[0] for b in ordered], rules.tie_decimals)
    return [
        Standing(
            r, b[1].team, b[1].institute, b[1].submission_id, b[2], b[0], b[3], counts[b[1].team]
        )
        for r, b in zip(ranks, ordered)
    ]


def check_limit(ledger: Ledger, rules: PhaseRules, team: str) -> str | None:
    """Why ``team`` may not submit now (None when it may). Failures the organisers caused (status
    failed with a reason starting 'infrastructure:') do not count."""
    if rules.max_submissions is None:
        return None
    used = [
        s
        for s in ledger.submissions(rules.phase, team)
        if not (s.status == "failed" and s.reason.startswith("infrastructure:"))
    ]
    if len(used) >= rules.max_submissions:
        return (
            f"team {team} has used its {rules.max_submissions} submissions in phase {rules.phase}"
        )
    return None

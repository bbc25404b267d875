"""Phase rules and the ranking: best submission per team, ties share a rank.

Rules per phase (``PhaseRules``; a TOML file can hold several phases, see :func:`load_rules`):
a submission limit per team, the best-of rule (a team's best scored submission counts), the
ranking metric and radius, and display rounding. Ranking uses full precision; two teams tie only
when their metric is exactly equal, or equal after rounding to ``tie_decimals`` when a phase
declares it. Tied teams share the better rank and the next rank is skipped ("1, 2, 2, 4").
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_score.safefiles import BadFile, read_text

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


_RULE_TYPES = {
    "max_submissions": int,
    "metric": str,
    "radius": (int, float),
    "display_decimals": int,
    "tie_decimals": int,
}
METRICS = ("f1", "ppv", "tpr")


def load_rules(path: str | Path | None, phase: str) -> PhaseRules:
    """Rules of ``phase`` from a TOML file with ``[phase.NAME]`` tables (defaults without a file).

    Every value is checked (type, range); a wrong one raises ``ValueError`` naming the file and
    the key. ``max_submissions = 0`` means no limit (TOML has no null).
    """
    if path is None:
        return PhaseRules(phase=phase)
    try:
        doc = tomllib.loads(read_text(path, 1 << 20))
    except (BadFile, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{path}: {e}") from None
    phases = doc.get("phase", {})
    if not isinstance(phases, dict):
        raise ValueError(f"{path}: 'phase' must be a table of [phase.NAME] tables")
    table = phases.get(phase)
    if table is None:
        raise ValueError(f"{path}: no [phase.{phase}] table")
    if not isinstance(table, dict):
        raise ValueError(f"{path}: phase.{phase} must be a table")
    unknown = set(table) - set(_RULE_TYPES)
    if unknown:
        raise ValueError(
            f"{path}: unknown settings in [phase.{phase}]: {', '.join(sorted(unknown))}"
        )
    for key, value in table.items():
        kinds = _RULE_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(f"{path}: phase.{phase}.{key} has the wrong type ({value!r})")
    values = dict(table)
    if values.get("metric", "f1") not in METRICS:
        raise ValueError(f"{path}: phase.{phase}.metric must be one of {', '.join(METRICS)}")
    radius = float(values.get("radius", 6.0))
    if not (math.isfinite(radius) and radius >= 0):
        raise ValueError(f"{path}: phase.{phase}.radius must be a finite number >= 0")
    for key in ("max_submissions", "display_decimals", "tie_decimals"):
        if key in values and not 0 <= values[key] <= 1_000_000:
            raise ValueError(f"{path}: phase.{phase}.{key} must be between 0 and 1,000,000")
    if values.get("max_submissions") == 0:
        values["max_submissions"] = None
    return PhaseRules(phase=phase, **{**values, "radius": radius})


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
    """Why ``team`` may not submit now (None when it may): a friendly early answer. The binding
    check is the one inside :meth:`Ledger.add_submission` (``limit=``), in the same transaction
    as the claim. A submission counts unless its failure was recorded as ours (``charged``)."""
    if rules.max_submissions is None:
        return None
    used = sum(1 for s in ledger.submissions(rules.phase, team) if s.charged)
    if used >= rules.max_submissions:
        return (
            f"team {team} has used its {rules.max_submissions} submissions in phase {rules.phase}"
        )
    return None

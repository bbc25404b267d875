"""Phase rules and the ranking: best submission per team, ties share a rank.

Rules per phase (``PhaseRules``; a TOML file can hold several phases, see :func:`load_rules`):
a submission limit per team, the best-of rule (a team's best scored submission counts), the
ranking metric and radius, and display rounding. Ranking uses full precision; two teams tie only
when their metric is exactly equal, or equal after rounding to ``tie_decimals`` when a phase
declares it. Tied teams share the better rank and the next rank is skipped ("1, 2, 2, 4").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import numpy as np

from adaptor_leaderboard.ledger import Ledger, LedgerError
from adaptor_score.contract import MAX_RADIUS, RANKING_RADIUS
from adaptor_score.schemas import Radius, convert, decode
from adaptor_score.stats import min_rank


@dataclass(frozen=True)
class PhaseRules:
    phase: str = "test"
    max_submissions: int | None = (
        3  # per team; counts every submission that was not a failure of ours
    )
    metric: str = "f1"  # f1 | ppv | tpr (higher is better)
    radius: float = RANKING_RADIUS
    display_decimals: int = 4
    tie_decimals: int | None = None  # None: ties only when exactly equal
    opens: float | None = None  # epoch seconds: no submission before it
    closes: float | None = None  # epoch seconds: no submission at or after it
    public: bool = True  # False: scores stay with the organisers until ``reveal``
    reveal: float | None = None  # epoch seconds from which a private phase's scores are public

    def window_problem(self, now: float) -> str | None:
        """Why a submission made at ``now`` is outside the phase, or None.

        >>> PhaseRules(closes=100.0).window_problem(100.0)
        'phase test closed at 1970-01-01T00:01:40Z; submissions are accepted until then'
        """
        from adaptor_score.outputs import iso_time

        if self.opens is not None and now < self.opens:
            return f"phase {self.phase} opens at {iso_time(self.opens)}; not before"
        if self.closes is not None and now >= self.closes:
            return (f"phase {self.phase} closed at {iso_time(self.closes)}; submissions are"
                    " accepted until then")  # fmt: skip
        return None

    def revealed(self, now: float) -> bool:
        """Whether the phase's scores may be published at ``now``."""
        return self.public or (self.reveal is not None and now >= self.reveal)


METRICS = ("f1", "ppv", "tpr")
_Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
# float64 holds 15-17 significant digits: rounding to more than 12 decimals means nothing, and
# numpy's round overflows to NaN far beyond (400 decimals ranked every team first).
_Decimals = Annotated[int, msgspec.Meta(ge=0, le=12)]


_When = Annotated[datetime, msgspec.Meta(tz=True)]  # a TOML date-time with its offset (Z)


class _PhaseTable(msgspec.Struct, forbid_unknown_fields=True):
    """One ``[phase.NAME]`` table as written; every key optional (the defaults above)."""

    max_submissions: _Count = 3  # 0: no limit (TOML has no null)
    metric: Literal[METRICS] = "f1"  # type: ignore[valid-type]
    radius: Radius = RANKING_RADIUS
    display_decimals: _Decimals = 4
    tie_decimals: _Decimals | None = None
    open: _When | None = None
    close: _When | None = None
    public: bool = True
    reveal: _When | None = None


class _RulesFile(msgspec.Struct, forbid_unknown_fields=True):
    phase: dict[str, dict] = {}  # each table is checked as _PhaseTable when its phase is asked


_HINTS = {
    "metric": f"one of {', '.join(METRICS)}",
    "max_submissions": "between 0 and 1,000,000",
    "display_decimals": "between 0 and 12",
    "tie_decimals": "between 0 and 12",
    "radius": f"between 0 and {MAX_RADIUS:g} px (the frame's diagonal)",
    "open": "a date-time with its offset, e.g. 2021-09-01T00:00:00Z",
    "close": "a date-time with its offset, e.g. 2021-10-01T12:00:00Z",
    "reveal": "a date-time with its offset, e.g. 2021-10-08T00:00:00Z",
}


def _wording(kind: str, key: str, problem: str) -> str:
    """The rules' own wording: ``phase.test.metric must be one of ...``."""
    if kind == "unknown":
        names = problem.removeprefix("unknown key(s) ").split(" (")[0]
        where = f"[{key}]" if key else "the file (it holds [phase.NAME] tables)"
        return f"unknown settings in {where}: {names}"
    if kind == "type" and key == "phase":
        return "'phase' must be a table of [phase.NAME] tables"
    if kind == "type":
        return f"{key} has the wrong type ({problem})"
    return f"{key} {problem}"


def _error(path, text: str) -> ValueError:
    return ValueError(f"{path}: {text}")


def load_rules(path: str | Path | None, phase: str) -> PhaseRules:
    """Rules of ``phase`` from a TOML file with ``[phase.NAME]`` tables (defaults without a file).

    The file's shape is a declared schema (:class:`_RulesFile`, checked by msgspec through
    :func:`adaptor_score.schemas.decode`); a wrong value raises ``ValueError`` naming the file and
    the key. ``max_submissions = 0`` means no limit (TOML has no null).
    """
    if path is None:
        return PhaseRules(phase=phase)
    doc = decode(path, _RulesFile, _error, hints=_HINTS, wording=_wording)
    if phase not in doc.phase:
        raise ValueError(f"{path}: no [phase.{phase}] table")
    table = convert(doc.phase[phase], _PhaseTable, Path(path), _error, _HINTS, f"phase.{phase}",
                    _wording)  # fmt: skip
    stamp = lambda d: None if d is None else d.timestamp()  # noqa: E731
    if table.open and table.close and table.close <= table.open:
        raise ValueError(f"{path}: phase.{phase}.close must come after phase.{phase}.open")
    return PhaseRules(
        phase=phase,
        max_submissions=table.max_submissions or None,
        metric=table.metric,
        radius=float(table.radius),
        display_decimals=table.display_decimals,
        tie_decimals=table.tie_decimals,
        opens=stamp(table.open),
        closes=stamp(table.close),
        public=table.public,
        reveal=stamp(table.reveal),
    )


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
    submitted_at: float | None = None  # when the counted submission was made


def metric_values(counts: np.ndarray, metric: str) -> np.ndarray:
    """PPV, TPR or F1 from summed counts ``(..., 3)`` = (TP, FP, FN), with the scorer's
    zero-denominator rule (:func:`adaptor_score.metrics.ratios`): nothing to find and nothing
    claimed scores 1, any other zero denominator 0.

    >>> metric_values(np.array([[3, 1, 2], [0, 0, 0], [0, 2, 0]]), "f1").round(4).tolist()
    [0.6667, 1.0, 0.0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    num, den = {"ppv": (tp, tp + fp), "tpr": (tp, tp + fn), "f1": (2 * tp, 2 * tp + fp + fn)}[
        metric
    ]
    empty = (tp + fp + fn) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    return np.where(empty, 1.0, out)


def rank(values, tie_decimals: int | None = None) -> np.ndarray:
    """Competition ranks (1 = best, higher is better) along the last axis, in the values' own
    order: a team's rank is 1 + the number of teams strictly better; equal values (after rounding
    to ``tie_decimals`` when given) share the better rank. The table and every bootstrap
    replicate are ranked by this one function.

    >>> rank([0.8, 0.9, 0.8, 0.7]).tolist()
    [2, 1, 2, 4]
    >>> rank([[0.80004, 0.80001]], tie_decimals=4).tolist()
    [[1, 1]]
    """
    keys = np.asarray(values, dtype=np.float64)
    if tie_decimals is not None:
        if not 0 <= tie_decimals <= 12:
            raise ValueError(f"tie_decimals must be between 0 and 12, not {tie_decimals}")
        keys = np.round(keys, tie_decimals)
    return min_rank(keys)  # challengeR's "min": the schemes and the table rank alike


def standings_from(rows: list[dict], rules: PhaseRules) -> list[dict]:
    """The ranking as a pure function of per-submission rows (``team``, ``seq``, ``tp``, ``fp``,
    ``fn`` at the ranking radius, plus anything to carry along): each team's best submission by
    the phase's metric (between equal values, the earlier in the ledger), ranked by :func:`rank`,
    ordered by rank then team. Returns the kept rows with ``value``, ``rank`` and ``scored``."""
    best: dict[str, dict] = {}
    scored: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r["seq"]):
        value = float(metric_values(np.array([row["tp"], row["fp"], row["fn"]]), rules.metric))
        scored[row["team"]] = scored.get(row["team"], 0) + 1
        if row["team"] not in best or value > best[row["team"]]["value"]:
            best[row["team"]] = {**row, "value": value}
    kept = list(best.values())
    ranks = rank([k["value"] for k in kept], rules.tie_decimals) if kept else []
    for k, r in zip(kept, ranks):
        k["rank"], k["scored"] = int(r), scored[k["team"]]
    return sorted(kept, key=lambda k: (k["rank"], k["team"]))


def rank_phase(ledger: Ledger, rules: PhaseRules) -> list[Standing]:
    """The leaderboard of a phase, read from the ledger and ranked by :func:`standings_from`."""
    rows = []
    for s in ledger.submissions(rules.phase):
        scoring = ledger.latest_scoring(s.submission_id)
        if s.status != "scored" or scoring is None:
            continue
        scores = ledger.scores(scoring)
        if rules.radius not in scores:  # never a silently empty or partial board
            scored = ", ".join(f"{r:g}" for r in sorted(scores)) or "none"
            raise LedgerError(
                f"{ledger.path}: the rules rank at {rules.radius:g} px, but submission"
                f" {s.submission_id} ({s.team}) was scored at {scored} px only; score it at"
                f" {rules.radius:g} px or fix the rules' radius"
            )
        sc = scores[rules.radius]
        rows.append(
            {"team": s.team, "seq": s.seq, "tp": sc["tp"], "fp": sc["fp"], "fn": sc["fn"],
             "submission": s, "scoring": scoring, "scores": scores}
        )  # fmt: skip
    return [
        Standing(
            k["rank"],
            k["team"],
            k["submission"].institute,
            k["submission"].submission_id,
            k["scoring"],
            k["value"],
            k["scores"],
            k["scored"],
            k["submission"].created_at,
        )
        for k in standings_from(rows, rules)
    ]

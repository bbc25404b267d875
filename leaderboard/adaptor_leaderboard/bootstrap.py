"""Seeded bootstrap of the table's rule: its intervals, rank stability, rank agreement.

The cases resampled are the unit of analysis (:mod:`adaptor_score.units`: the surgery by
default), and every result says its unit and n; below ``BOOTSTRAP_FROM`` cases the interval is
labelled descriptive. Each replicate resamples the cases with replacement, sums the
TP/FP/FN of **every scored submission** of the phase over the resampled units, and re-applies
the whole ranking rule of the table to them, as challengeR does: each team's best submission
by the phase's metric (the earlier one among equals), then :func:`rank` with the phase's tie
rule. So a team whose second submission wins on a resample is ranked by it there, and the rank
plots describe the ranking the table shows; on the original sample (every unit once) the rule
gives the table exactly (tested). Every team is scored on the same resample in a replicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from adaptor_leaderboard.ledger import Ledger, LedgerError
from adaptor_leaderboard.ranking import METRICS, PhaseRules, Standing, metric_values, rank
from adaptor_score.stats import kendall_tau_b
from adaptor_score.units import (
    BOOTSTRAP_FROM,
    UNITS,
    count,
    declared_unit,
    group_sums,
    unit_labels,
)

__all__ = ["BootstrapResult", "bootstrap", "group_sums", "phase_counts", "rank_replicates"]


@dataclass
class BootstrapResult:
    teams: list[str]
    values: dict[str, np.ndarray]  # metric -> (replicates, teams) of each team's chosen submission
    ranks: np.ndarray  # (replicates, teams) by the phase's metric; ties share the better rank
    metric: str
    unit: str
    seed: int
    official: np.ndarray | None = None  # (teams,) the table's ranks
    n_units: int = 0  # the cases resampled

    @property
    def descriptive(self) -> bool:
        """Too few cases for the percentile interval to be more than a description."""
        return self.n_units < BOOTSTRAP_FROM

    def describe(self) -> str:
        """What the interval is, with its unit and n, in one sentence."""
        text = (f"bootstrap over {count(self.unit, self.n_units)} ({len(self.ranks)} replicates,"
                f" seed {self.seed})")  # fmt: skip
        if self.descriptive and self.n_units:
            text += (f"; with fewer than {BOOTSTRAP_FROM} cases a percentile bootstrap is"
                     " descriptive only: it is too narrow to be read as a confidence interval")
        return text

    @property
    def f1(self) -> np.ndarray:
        return self.values["f1"]

    def interval(self, level: float = 0.95, metric: str = "f1") -> np.ndarray:
        """``(teams, 2)`` percentile interval of ``metric``."""
        lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
        return np.percentile(self.values[metric], [lo, hi], axis=0).T

    def rank_frequencies(self) -> np.ndarray:
        """``(teams, teams)``: share of replicates in which team i landed at rank j + 1."""
        n = len(self.teams)
        out = np.zeros((n, n))
        for j in range(n):
            out[:, j] = (self.ranks == j + 1).mean(axis=0)
        return out

    def kendall_tau(self) -> np.ndarray:
        """``(replicates,)`` Kendall's tau-b between the table's ranking and each replicate's."""
        if self.official is None or len(self.ranks) == 0 or len(self.teams) < 2:
            return np.zeros(0)
        return kendall_tau_b(self.official, self.ranks)


def rank_replicates(
    sums: np.ndarray, team_of: np.ndarray, n_teams: int, rules: PhaseRules
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The table's rule on summed counts ``(replicates, submissions, 3)`` of submissions in
    ledger order (``team_of`` their team's index): ``(ranks, values)``, ranks ``(replicates,
    teams)`` and, per metric, the value of each team's chosen submission."""
    by_metric = {m: metric_values(sums, m) for m in METRICS}
    key = by_metric[rules.metric]
    chosen = np.zeros((len(sums), n_teams), dtype=np.int64)
    for t in range(n_teams):
        cols = np.flatnonzero(team_of == t)
        chosen[:, t] = cols[np.argmax(key[:, cols], axis=1)]  # the first of equals: the earlier
    values = {m: np.take_along_axis(v, chosen, axis=1) for m, v in by_metric.items()}
    return rank(values[rules.metric], rules.tie_decimals), values


class PhaseCounts(NamedTuple):
    """Per-frame counts of the scored submissions of a phase, in ledger order."""

    frames: list[str]
    data: np.ndarray  # (submissions, frames, 3) TP, FP, FN
    team_of: np.ndarray  # (submissions,) index of each submission's team in the standings
    scorings: list[int]  # (submissions,) the scoring each row comes from
    missing: np.ndarray | None = None  # (submissions, frames) no usable prediction file


def phase_counts(
    ledger: Ledger, standings: list[Standing], rules: PhaseRules, radius: float | None = None
) -> PhaseCounts:
    """Every scored submission of the phase on the board's teams, in ledger order, at
    ``radius`` (default the rules'): the frames, per-frame counts and each submission's team
    (the standings' order) and scoring."""
    radius = rules.radius if radius is None else radius
    index = {s.team: i for i, s in enumerate(standings)}
    frames, counts, team_of, scorings, missing = None, [], [], [], []
    for s in ledger.submissions(rules.phase):
        scoring = ledger.latest_scoring(s.submission_id)
        if s.status != "scored" or scoring is None or s.team not in index:
            continue
        keys, c = ledger.frame_counts(scoring, radius)
        if not keys and radius != rules.radius:
            continue  # not scored at this other radius: it cannot be ranked there
        if frames is None:
            frames = keys
        elif keys != frames:
            raise LedgerError(
                f"{ledger.path}: submission {s.submission_id} ({s.team}) was scored on other"
                " frames than the rest of the phase; score every submission against the same"
                " ground truth before publishing (the previous board, if any, is kept)"
            )
        counts.append(np.asarray(c, dtype=np.int64).reshape(-1, 3))
        team_of.append(index[s.team])
        scorings.append(scoring)
        absent = ledger.missing_frames(scoring)
        missing.append(np.array([k in absent for k in keys], dtype=bool))
    if not counts:
        return PhaseCounts([], np.zeros((0, 0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64),
                           [], np.zeros((0, 0), dtype=bool))  # fmt: skip
    return PhaseCounts(frames or [], np.stack(counts), np.asarray(team_of), scorings,
                       np.stack(missing))  # fmt: skip


def bootstrap(
    ledger: Ledger,
    standings: list[Standing],
    rules: PhaseRules,
    replicates: int = 1000,
    seed: int = 0,
    unit: str | None = None,
) -> BootstrapResult:
    """Bootstrap the phase's whole ranking (``unit``: one of :data:`UNITS`; default the unit
    of analysis the frames give, :func:`adaptor_score.units.declared_unit`)."""
    if unit is not None and unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    teams = [s.team for s in standings]
    official = np.array([s.rank for s in standings])
    frames, data, team_of, *_ = phase_counts(ledger, standings, rules)
    unit = unit or declared_unit(frames or [])
    n_units = len(set(unit_labels(frames or [], unit)))
    if not standings or not frames or replicates == 0:
        empty = np.zeros((0, len(teams)))
        return BootstrapResult(
            teams, {m: empty for m in METRICS}, empty.astype(int), rules.metric, unit, seed,
            official, n_units,
        )  # fmt: skip
    if unit != "frame":
        _, data = group_sums(data, frames, unit)
    rng = np.random.default_rng(seed)
    n_units = data.shape[1]
    idx = rng.integers(0, n_units, size=(replicates, n_units))
    weights = np.stack([np.bincount(row, minlength=n_units) for row in idx])  # (replicates, units)
    sums = np.einsum("ru,suk->rsk", weights, data)  # (replicates, submissions, 3)
    ranks, values = rank_replicates(sums, team_of, len(teams), rules)
    return BootstrapResult(teams, values, ranks, rules.metric, unit, seed, official, n_units)

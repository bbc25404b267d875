"""Seeded bootstrap over test frames or surgeries: intervals and rank stability.

Each replicate resamples the units (frames, or whole surgeries) with replacement, sums every
team's TP/FP/FN over the resampled units, and re-applies the table's own rule to them: the
phase's metric from :func:`metric_values` and the ranking from :func:`rank` (with the phase's tie
rule), as challengeR does, so the rank-stability plot describes the ranking the table shows.
Every team is scored on the same resample in a replicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, Standing, metric_values, rank


@dataclass
class BootstrapResult:
    teams: list[str]
    values: dict[str, np.ndarray]  # metric -> (replicates, teams): ppv, tpr, f1
    ranks: np.ndarray  # (replicates, teams) by the phase's metric; ties share the better rank
    metric: str
    unit: str
    seed: int

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


def bootstrap(
    ledger: Ledger,
    standings: list[Standing],
    rules: PhaseRules,
    replicates: int = 1000,
    seed: int = 0,
    unit: str = "frame",
) -> BootstrapResult:
    """Bootstrap the counted submission of every team (``unit`` = ``frame`` or ``surgery``)."""
    if unit not in ("frame", "surgery"):
        raise ValueError("unit must be 'frame' or 'surgery'")
    frames, counts = None, []
    for st in standings:
        keys, c = ledger.frame_counts(st.scoring_id, rules.radius)
        if frames is None:
            frames = keys
        elif keys != frames:
            raise ValueError(f"team {st.team} was scored on other frames than {standings[0].team}")
        counts.append(np.asarray(c, dtype=np.int64).reshape(-1, 3))
    teams = [s.team for s in standings]
    if not standings or not frames:
        empty = np.zeros((0, len(teams)))
        return BootstrapResult(
            teams,
            {m: empty for m in ("ppv", "tpr", "f1")},
            empty.astype(int),
            rules.metric,
            unit,
            seed,
        )
    data = np.stack(counts)  # (teams, frames, 3)
    if unit == "surgery":
        groups = np.array([f.split("/", 1)[0] for f in frames])
        names = sorted(set(groups))
        data = np.stack([data[:, groups == g].sum(axis=1) for g in names], axis=1)
    rng = np.random.default_rng(seed)
    n_units = data.shape[1]
    idx = rng.integers(0, n_units, size=(replicates, n_units))
    weights = np.stack([np.bincount(row, minlength=n_units) for row in idx])  # (replicates, units)
    sums = np.einsum("ru,tuk->rtk", weights, data)  # (replicates, teams, 3)
    values = {m: metric_values(sums, m) for m in ("ppv", "tpr", "f1")}
    ranks = rank(values[rules.metric], rules.tie_decimals)
    return BootstrapResult(teams, values, ranks, rules.metric, unit, seed)

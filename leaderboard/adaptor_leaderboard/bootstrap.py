"""Seeded bootstrap over test frames or surgeries: F1 intervals and rank stability.

Each replicate resamples the units (frames, or whole surgeries) with replacement, sums every
team's TP/FP/FN over the resampled units, and recomputes F1 and the ranking. Every team is scored
on the same resample in a replicate, so the intervals and rank frequencies are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import Standing


@dataclass
class BootstrapResult:
    teams: list[str]
    f1: np.ndarray  # (replicates, teams)
    ranks: np.ndarray  # (replicates, teams), 1 = best, ties share the better rank
    unit: str
    seed: int

    def interval(self, level: float = 0.95) -> np.ndarray:
        """``(teams, 2)`` percentile interval of F1."""
        lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
        return np.percentile(self.f1, [lo, hi], axis=0).T

    def rank_frequencies(self) -> np.ndarray:
        """``(teams, teams)``: share of replicates in which team i landed at rank j + 1."""
        n = len(self.teams)
        out = np.zeros((n, n))
        for j in range(n):
            out[:, j] = (self.ranks == j + 1).mean(axis=0)
        return out


def _f1(tp, fp, fn):
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), 1.0)


def bootstrap(
    ledger: Ledger,
    standings: list[Standing],
    radius: float,
    replicates: int = 1000,
    seed: int = 0,
    unit: str = "frame",
) -> BootstrapResult:
    """Bootstrap the counted submission of every team (``unit`` = ``frame`` or ``surgery``)."""
    if unit not in ("frame", "surgery"):
        raise ValueError("unit must be 'frame' or 'surgery'")
    frames, counts = None, []
    for st in standings:
        keys, c = ledger.frame_counts(st.scoring_id, radius)
        if frames is None:
            frames = keys
        elif keys != frames:
            raise ValueError(f"team {st.team} was scored on other frames than {standings[0].team}")
        counts.append(np.asarray(c, dtype=np.int64).reshape(-1, 3))
    teams = [s.team for s in standings]
    if not standings or not frames:
        return BootstrapResult(
            teams, np.zeros((0, len(teams))), np.zeros((0, len(teams)), int), unit, seed
        )
    data = np.stack(counts)  # (teams, frames, 3)
    if unit == "surgery":
        groups = np.array([f.split("/", 1)[0] for f in frames])
        names = sorted(set(groups))
        data = np.stack(
            [data[:, groups == g].sum(axis=1) for g in names], axis=1
        )  # (teams, units, 3)
    rng = np.random.default_rng(seed)
    n_units = data.shape[1]
    idx = rng.integers(0, n_units, size=(replicates, n_units))
    weights = np.stack([np.bincount(row, minlength=n_units) for row in idx])  # (replicates, units)
    sums = np.einsum("ru,tuk->rtk", weights, data)  # (replicates, teams, 3)
    f1 = _f1(sums[..., 0], sums[..., 1], sums[..., 2])
    order = np.argsort(-f1, axis=1, kind="stable")
    ranks = np.empty_like(order)
    for r in range(replicates):
        vals = f1[r, order[r]]
        rk = np.empty(len(vals), dtype=np.int64)
        for i in range(len(vals)):
            rk[i] = rk[i - 1] if i and vals[i] == vals[i - 1] else i + 1
        ranks[r, order[r]] = rk
    return BootstrapResult(teams, f1, ranks, unit, seed)

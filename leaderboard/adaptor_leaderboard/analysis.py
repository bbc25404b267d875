"""challengeR's analyses of a phase: per-case values, the ranking under each scheme and radius,
which team is significantly better than which, and the per-case long table.

Cases are test frames. A frame's F1 comes from its own TP/FP/FN with the scorer's rule
(:func:`adaptor_score.metrics.ratios`): a frame with neither labels nor predictions scores 1
(nothing to find, nothing wrongly claimed), a frame with predictions but no labels 0. Every team
was scored on the same frames (the board refuses anything else), so no case is missing; the
schemes still count a missing case as 0, as challengeR does (:mod:`adaptor_score.stats`).

The "official" scheme is the table's own rule at each radius (pooled counts, each team's best
submission, :func:`~adaptor_leaderboard.bootstrap.rank_replicates` on the whole sample), so at
the ranking radius it is the table itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from adaptor_leaderboard.bootstrap import phase_counts, rank_replicates
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, Standing, metric_values
from adaptor_score.stats import holm, pairwise_pvalues, rank_by

SCHEME_NAMES = {
    "official": "pooled F1, best submission (the table)",
    "mean": "mean of per-frame F1",
    "median": "median of per-frame F1",
    "rank_then_mean": "mean of per-frame ranks",
    "test_then_rank": "Wilcoxon tests, Holm, α = 0.05",
}
LONG_COLUMNS = ("algorithm", "case", "task", "metric", "value", "level")


@dataclass
class Analysis:
    teams: list[str]
    frames: list[str]
    radii: list[float]
    per_case: dict[float, dict[str, np.ndarray]]  # radius -> metric -> (teams, frames)
    ranks: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)  # (scheme, radius)
    adjusted_p: np.ndarray | None = None  # (teams, teams) at the ranking radius, Holm-adjusted
    alpha: float = 0.05

    @property
    def significant(self) -> np.ndarray:
        """``(teams, teams)``: team i is significantly better than team j."""
        return np.nan_to_num(self.adjusted_p, nan=1.0) < self.alpha

    def long_rows(self):
        """challengeR's long layout, one row per team, case, radius and metric; frames, then
        surgeries (their frames' counts summed)."""
        surgeries = sorted({f.split("/", 1)[0] for f in self.frames})
        for r in self.radii:
            task = f"{r:g} px"
            for metric, values in self.per_case[r].items():
                if metric == "counts":
                    continue
                for t, team in enumerate(self.teams):
                    for f, v in zip(self.frames, values[t]):
                        yield (team, f, task, metric, float(v), "frame")
            counts = self.per_case[r]["counts"]  # (teams, frames, 3)
            group = np.array([f.split("/", 1)[0] for f in self.frames])
            for g in surgeries:
                summed = counts[:, group == g].sum(axis=1)
                for metric in ("f1", "ppv", "tpr"):
                    for team, v in zip(self.teams, metric_values(summed, metric)):
                        yield (team, g, task, metric, float(v), "surgery")


def analyse(
    ledger: Ledger, standings: list[Standing], rules: PhaseRules, alpha: float = 0.05
) -> Analysis:
    """Per-case values and every scheme's ranks at every radius the counted submissions were
    scored at (the ranking radius first)."""
    common = set.intersection(*(set(st.scores) for st in standings))  # every team scored there
    radii = [rules.radius] + sorted(float(r) for r in common if r != rules.radius)
    teams = [s.team for s in standings]
    out = Analysis(teams, [], radii, {}, alpha=alpha)
    for r in radii:
        phase = phase_counts(ledger, standings, rules, r)
        row = {scoring: i for i, scoring in enumerate(phase.scorings)}
        counts = phase.data[[row[st.scoring_id] for st in standings]]  # the counted submissions
        out.frames = out.frames or phase.frames
        out.per_case[r] = {m: metric_values(counts, m) for m in ("f1", "ppv", "tpr")}
        out.per_case[r]["counts"] = counts
        sums = phase.data.sum(axis=1)[None]  # the whole sample once: the table's own rule
        official, _ = rank_replicates(sums, phase.team_of, len(teams), replace(rules, radius=r))
        out.ranks["official", r] = official[0]
        f1 = out.per_case[r]["f1"]
        for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
            out.ranks[scheme, r] = rank_by(f1, scheme, alpha)
    out.adjusted_p = holm(pairwise_pvalues(out.per_case[rules.radius]["f1"]))
    return out

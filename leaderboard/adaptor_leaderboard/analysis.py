"""challengeR's analyses of a phase: per-case values, the ranking under each scheme, which team
is significantly better than which, how stable each scheme's ranking is, and the long table.

**Cases.** Per frame, for parity with challengeR (and every per-frame figure of the challenge
paper), and per **video**, the unit to trust: frames of one video are strongly correlated (the
same sutures seen a few frames apart), so per-frame tests count one video's evidence many times
over and overstate significance; a video's counts are its frames' counts summed. A frame's F1
comes from its own TP/FP/FN with the scorer's rule (:func:`adaptor_score.metrics.ratios`): a frame
with neither labels nor predictions scores 1, one with predictions but no labels 0.

**Missing cases.** A frame for which a team delivered no usable prediction file is a missing
case (NA), then the worst value (0), as challengeR's ``na.treat = 0`` does, in every scheme and
every bootstrap replicate; without this a team that leaves out the files of frames with no
sutures would score 1 on each of them. The pooled table keeps the challenge's own rule (a missing
file is a frame without predictions, listed as a problem). A video (or surgery) is a case only
when every one of its frames has its file; one frame left out makes the whole video missing, as
summing the counts of the others would again reward leaving out frames without sutures.

**Stability.** challengeR's bootstrap: each replicate draws the cases with replacement and
re-applies the *same* scheme (:func:`adaptor_score.stats.scheme_replicates`); Kendall's tau-b
compares each replicate's ranking with the scheme's ranking on all cases. The table's own rule
(pooled counts, best submission) has its own bootstrap (:mod:`adaptor_leaderboard.bootstrap`),
labelled as the official rule wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from adaptor_leaderboard.bootstrap import group_sums, phase_counts, rank_replicates
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, Standing, metric_values
from adaptor_score.stats import (
    SCHEMES,
    exact_mean,
    fill_missing,
    holm,
    kendall_tau_b,
    min_rank,
    pairwise_pvalues,
    rank_by,
    scheme_replicates,
)

SCHEME_NAMES = {
    "official": "pooled F1, best submission (the table)",
    "mean": "aggregate-then-rank: mean of per-case F1",
    "median": "aggregate-then-rank: median of per-case F1",
    "rank_then_mean": "rank-then-aggregate: mean of per-case ranks",
    "test_then_rank": "test-then-rank: Wilcoxon, Holm, α = 0.05",
}
CHALLENGER_CALLS = {
    "mean": "aggregateThenRank(FUN = mean)",
    "median": "aggregateThenRank(FUN = median)",
    "rank_then_mean": "rankThenAggregate(FUN = mean)",
    "test_then_rank": "testThenRank(p.adjust.method = 'holm')",
}
UNITS = ("frame", "video")
LONG_COLUMNS = ("algorithm", "case", "task", "metric", "value", "level")
TRUST = (
    "Trust the per-video analyses: frames of one video are strongly correlated (the same sutures"
    " a few frames apart), so per-frame tests count one video's evidence many times over and"
    " overstate significance; the per-frame analyses are given for parity with challengeR."
)


@dataclass
class CaseAnalysis:
    """challengeR's analyses with one unit of cases (``frame`` or ``video``) at one radius."""

    unit: str
    radius: float
    cases: list[str]
    values: np.ndarray  # (teams, cases) F1; NaN: a missing case
    scores: dict[str, np.ndarray]  # scheme -> (teams,) mean, median, mean rank, significant wins
    ranks: dict[str, np.ndarray]  # scheme -> (teams,)
    p_raw: np.ndarray  # (teams, teams) one-sided Wilcoxon "row beats column"
    p_holm: np.ndarray  # Holm over all ordered pairs
    replicate_ranks: dict[str, np.ndarray] = field(default_factory=dict)  # (replicates, teams)
    alpha: float = 0.05

    @property
    def significant(self) -> np.ndarray:
        return np.nan_to_num(self.p_holm, nan=1.0) < self.alpha

    def tau(self, scheme: str) -> np.ndarray:
        """``(replicates,)`` challengeR's Kendall tau: the scheme on all cases against the same
        scheme on each replicate (NaN where either ranking ties every team)."""
        reps = self.replicate_ranks.get(scheme)
        if reps is None or not len(reps) or len(self.ranks[scheme]) < 2:
            return np.zeros(0)
        return kendall_tau_b(self.ranks[scheme], reps)


@dataclass
class Analysis:
    teams: list[str]
    frames: list[str]
    radii: list[float]
    per_case: dict[float, dict[str, np.ndarray]]  # radius -> metric -> (teams, frames), NaN missing
    ranks: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)  # per frame
    units: dict[tuple[str, float], CaseAnalysis] = field(default_factory=dict)  # (unit, radius)
    alpha: float = 0.05
    ranking_radius: float = 6.0

    def at(self, unit: str = "frame", radius: float | None = None) -> CaseAnalysis:
        return self.units[unit, self.ranking_radius if radius is None else radius]

    @property
    def adjusted_p(self) -> np.ndarray:
        return self.at().p_holm

    @property
    def significant(self) -> np.ndarray:
        """``(teams, teams)``: team i is significantly better than team j (per frame)."""
        return self.at().significant

    def long_rows(self):
        """challengeR's long layout, one row per team, case, radius and metric: frames, videos
        and surgeries (their frames' counts summed). A missing case is ``NA`` (R's
        ``read.csv`` reads it as NA; ``na.treat = 0`` then makes it the worst value)."""
        for r in self.radii:
            task = f"{r:g} px"
            for metric in ("f1", "ppv", "tpr"):
                values = self.per_case[r][metric]
                for t, team in enumerate(self.teams):
                    for f, v in zip(self.frames, values[t]):
                        yield (team, f, task, metric, _na(v), "frame")
            for level in ("video", "surgery"):
                names, values = grouped_values(self.per_case[r], self.frames, level)
                for metric in ("f1", "ppv", "tpr"):
                    for t, team in enumerate(self.teams):
                        for g, v in zip(names, values[metric][t]):
                            yield (team, g, task, metric, _na(v), level)


def _na(v: float):
    return "NA" if np.isnan(v) else float(v)


def grouped_values(per_case: dict[str, np.ndarray], frames: list[str], level: str):
    """Per-case values at ``level`` (``video`` or ``surgery``): counts summed over the group's
    frames, NaN (missing) where any frame of the group is. Returns (names, metric -> array)."""
    names, summed = group_sums(per_case["counts"], frames, level)
    _, absent = group_sums(per_case["missing"], frames, level)
    absent = absent > 0
    out = {m: np.where(absent, np.nan, metric_values(summed, m)) for m in ("f1", "ppv", "tpr")}
    return names, out


def case_analysis(unit, radius, cases, values, alpha, replicates, rng) -> CaseAnalysis:
    """Every scheme on ``values`` (teams, cases), their tests and challengeR's bootstrap."""
    filled = fill_missing(values)
    raw = pairwise_pvalues(filled)
    adjusted = holm(raw)
    k = len(filled)
    wins = (np.nan_to_num(adjusted, nan=1.0) < alpha).sum(axis=1)
    scores = {
        "mean": exact_mean(filled),
        "median": np.median(filled, axis=1),
        "rank_then_mean": exact_mean(min_rank(filled.T).T) if k else np.zeros(0),
        "test_then_rank": wins / max(k - 1, 1),  # the share of the others it beats
    }
    ranks = {s: rank_by(filled, s, alpha) for s in SCHEMES}
    out = CaseAnalysis(unit, radius, cases, values, scores, ranks, raw, adjusted, alpha=alpha)
    n = filled.shape[1]
    if replicates and n and k > 1:
        draws = rng.integers(0, n, size=(replicates, n))
        out.replicate_ranks = {s: scheme_replicates(filled, s, draws, alpha) for s in SCHEMES}
    return out


def analyse(
    ledger: Ledger,
    standings: list[Standing],
    rules: PhaseRules,
    alpha: float = 0.05,
    replicates: int = 0,
    seed: int = 0,
) -> Analysis:
    """Per-case values and every scheme's ranks at every radius the counted submissions were
    scored at (the ranking radius first), per frame and per video, with ``replicates`` of
    challengeR's bootstrap per unit and radius (seeded)."""
    common = set.intersection(*(set(st.scores) for st in standings))  # every team scored there
    radii = [rules.radius] + sorted(float(r) for r in common if r != rules.radius)
    teams = [s.team for s in standings]
    out = Analysis(teams, [], radii, {}, alpha=alpha, ranking_radius=rules.radius)
    rng = np.random.default_rng(seed)
    for r in radii:
        phase = phase_counts(ledger, standings, rules, r)
        row = {scoring: i for i, scoring in enumerate(phase.scorings)}
        chosen = [row[st.scoring_id] for st in standings]  # the counted submissions
        counts, missing = phase.data[chosen], phase.missing[chosen]
        out.frames = out.frames or phase.frames
        per = {m: np.where(missing, np.nan, metric_values(counts, m)) for m in ("f1", "ppv", "tpr")}
        out.per_case[r] = {**per, "counts": counts, "missing": missing}
        sums = phase.data.sum(axis=1)[None]  # the whole sample once: the table's own rule
        official, _ = rank_replicates(sums, phase.team_of, len(teams), replace(rules, radius=r))
        out.ranks["official", r] = official[0]
        for unit in UNITS:
            if unit == "frame":
                cases, values = phase.frames, per["f1"]
            else:
                cases, grouped = grouped_values(out.per_case[r], phase.frames, unit)
                values = grouped["f1"]
            out.units[unit, r] = case_analysis(unit, r, cases, values, alpha, replicates, rng)
        for scheme in SCHEMES:
            out.ranks[scheme, r] = out.units["frame", r].ranks[scheme]
    return out


def tau_summary(tau: np.ndarray) -> dict | None:
    """Median and quartiles of Kendall's tau over replicates (None without replicates). A
    replicate, or the ranking on all cases, that ties every team has no tau: those are counted
    as ``undefined``, and when all are, the summary says so in words instead of a number.

    >>> tau_summary(np.array([np.nan, np.nan]))["text"]
    'undefined: every team tied'
    >>> tau_summary(np.array([1.0, 0.5, np.nan]))["text"]
    'median 0.75 (IQR 0.62–0.88; 1 of 3 undefined)'
    """
    if not tau.size:
        return None
    finite = tau[np.isfinite(tau)]
    undefined = int(tau.size - finite.size)
    if not finite.size:
        return {"median": None, "q1": None, "q3": None, "replicates": int(tau.size),
                "undefined": undefined, "text": "undefined: every team tied"}  # fmt: skip
    q1, med, q3 = (float(x) for x in np.quantile(finite, [0.25, 0.5, 0.75]))
    note = f"; {undefined} of {tau.size} undefined" if undefined else ""
    return {"median": med, "q1": q1, "q3": q3, "replicates": int(tau.size), "undefined": undefined,
            "text": f"median {med:.2f} (IQR {q1:.2f}–{q3:.2f}{note})"}  # fmt: skip

"""The analyses of a phase: per-case values, the ranking under each scheme, which team is
significantly better than which, how stable each scheme's ranking is, and the long table.

**One unit of analysis** (:mod:`adaptor_score.units`): the surgery, or the most independent unit
the ground truth gives (:func:`adaptor_score.units.declared_unit`), unless the organiser names
another. Every headline (the table's interval, the significance map, the ranks, the verdict in
words) is made with it. Its tests are **exact** one-sided signed-rank tests, Holm over the
ordered pairs: with a handful of surgeries the normal approximation cannot reach what the exact
test can (8 surgeries all one way: exact 1/256, Holm over 12 ordered pairs 0.047). Where no
ordered pair can reach alpha at that n and that number of teams, :attr:`CaseAnalysis.reachable`
is False and the page says so with the smallest reachable adjusted p, instead of drawing the
all-tied test-then-rank as a finding.

**Per frame**, challengeR's analysis exactly as challengeR runs it (normal approximation, every
frame a case), kept for parity with challengeR and the challenge paper's per-frame figures, and
labelled so: frames of one video are not independent.

**Missing cases.** A frame without a usable prediction file is a missing case (NA) per frame,
then the worst value (0), as challengeR's ``na.treat = 0``. At the unit of analysis a case's
value is the mean of its frames' values, a missing frame 0 (:func:`adaptor_score.units.
case_values`): the cost is proportional to what is missing and leaving files out never helps. The
pooled table keeps the challenge's own rule (a missing file is a frame without predictions).

**Stability.** challengeR's bootstrap with challengeR's semantics for repeated cases
(:func:`adaptor_score.stats.scheme_replicates`); Kendall's tau-b compares each replicate's
ranking with the scheme's ranking on all cases. Below :data:`adaptor_score.units.BOOTSTRAP_FROM`
cases a bootstrap is descriptive only, and every figure and file says its n. The table's own rule
(pooled counts, best submission) has its own bootstrap (:mod:`adaptor_leaderboard.bootstrap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from adaptor_leaderboard.bootstrap import phase_counts, rank_replicates
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, Standing, metric_values
from adaptor_score.signrank import EXACT_UP_TO
from adaptor_score.stats import (
    SCHEMES,
    decide,
    exact_mean,
    fill_missing,
    holm,
    kendall_tau_b,
    min_rank,
    pairwise_pvalues,
    rank_by,
    scheme_replicates,
    smallest_adjusted_p,
)
from adaptor_score.units import BOOTSTRAP_FROM, case_values, count, declared_unit

SCHEME_NAMES = {
    "official": "pooled F1, best submission (the table)",
    "mean": "aggregate-then-rank: mean of per-case F1",
    "median": "aggregate-then-rank: median of per-case F1",
    "rank_then_mean": "rank-then-aggregate: mean of per-case ranks",
    "test_then_rank": "test-then-rank: one-sided Wilcoxon, Holm, adjusted p ≤ α = 0.05",
}
CHALLENGER_CALLS = {
    "mean": "aggregateThenRank(FUN = mean)",
    "median": "aggregateThenRank(FUN = median)",
    "rank_then_mean": "rankThenAggregate(FUN = mean)",
    "test_then_rank": "testThenRank(p.adjust.method = 'holm')",
}
LONG_COLUMNS = ("algorithm", "case", "task", "metric", "value", "level")
EXACT_TEST = "one-sided Wilcoxon signed-rank, exact distribution (ties: average ranks)"
APPROX_TEST = "one-sided Wilcoxon signed-rank, normal approximation with continuity correction"
PARITY = (
    "challengeR's per-frame analysis, for parity with challengeR and the paper's per-frame"
    " figures: frames of one video are not independent, so its tests count one video's evidence"
    " many times over and overstate significance. Quote the analysis at the unit of analysis."
)


@dataclass
class CaseAnalysis:
    """The analyses with one unit of cases (``frame``, ``video`` or ``surgery``) at one radius."""

    unit: str
    radius: float
    cases: list[str]
    values: np.ndarray  # (teams, cases) F1; NaN: a missing case (frames only)
    scores: dict[str, np.ndarray]  # scheme -> (teams,) mean, median, mean rank, significant wins
    ranks: dict[str, np.ndarray]  # scheme -> (teams,)
    p_raw: np.ndarray  # (teams, teams) one-sided Wilcoxon "row beats column"
    p_holm: np.ndarray  # Holm over all ordered pairs
    replicate_ranks: dict[str, np.ndarray] = field(default_factory=dict)  # (replicates, teams)
    alpha: float = 0.05
    exact: bool = False  # the exact signed-rank test (else challengeR's normal approximation)
    smallest_p: float = 1.0  # the smallest Holm-adjusted p any ordered pair can reach here

    @property
    def significant(self) -> np.ndarray:
        return decide(self.p_holm, self.alpha)

    @property
    def reachable(self) -> bool:
        """Whether any ordered pair can be significant at this n and number of teams at all."""
        return self.smallest_p <= self.alpha

    @property
    def test(self) -> str:
        return (EXACT_TEST if self.exact else APPROX_TEST) + (
            f", Holm over all ordered pairs, significant where the adjusted p ≤ {self.alpha:g}")

    @property
    def descriptive(self) -> bool:
        """Too few cases for a bootstrap to be more than a description."""
        return len(self.cases) < BOOTSTRAP_FROM

    def verdict(self) -> str:
        """What the tests at this unit found, in words, with what they could have found."""
        k, n = len(self.ranks.get("mean", [])), len(self.cases)
        pairs = k * (k - 1)
        cases = count(self.unit, n)
        if k < 2:
            return "One team: nothing to compare."
        if not self.reachable:
            return (f"With {cases} and {k} teams ({pairs} ordered pairs), the smallest p-value any"
                    f" comparison can reach after Holm's adjustment is {self.smallest_p:.3g},"
                    f" above α = {self.alpha:g}: no difference between teams can be significant"
                    " at this n, whatever the data. The test-then-rank ranking below ties every"
                    " team for that reason; it is not a finding that the teams are equal.")
        found = int(self.significant.sum())
        smallest = f"the smallest reachable adjusted p is {self.smallest_p:.3g}"
        if not found:
            return (f"With {cases}, {k} teams and {pairs} ordered pairs ({smallest}), no team is"
                    f" significantly better than another at α = {self.alpha:g}.")
        return (f"With {cases}, {k} teams and {pairs} ordered pairs ({smallest}), {found} of"
                f" {pairs} ordered pairs differ significantly at α = {self.alpha:g}.")

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
    ranks: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)  # at the unit
    units: dict[tuple[str, float], CaseAnalysis] = field(default_factory=dict)  # (unit, radius)
    alpha: float = 0.05
    ranking_radius: float = 6.0
    unit: str = "surgery"  # the unit of analysis

    def at(self, unit: str | None = None, radius: float | None = None) -> CaseAnalysis:
        """The analysis at ``unit`` (default: the unit of analysis) and ``radius``."""
        return self.units[unit or self.unit, self.ranking_radius if radius is None else radius]

    @property
    def unit_names(self) -> tuple[str, ...]:
        """The units analysed: the unit of analysis, then frames for parity."""
        return tuple(dict.fromkeys((self.unit, "frame")))

    @property
    def adjusted_p(self) -> np.ndarray:
        return self.at().p_holm

    @property
    def significant(self) -> np.ndarray:
        """``(teams, teams)``: team i is significantly better than team j (at the unit)."""
        return self.at().significant

    def long_rows(self):
        """challengeR's long layout, one row per team, case, radius and metric: frames, videos
        and surgeries (a case's value is the mean of its frames', a missing frame 0). A missing
        frame is ``NA`` (R's ``read.csv`` reads it as NA; ``na.treat = 0`` then makes it the
        worst value)."""
        for r in self.radii:
            task = f"{r:g} px"
            for metric in ("f1", "ppv", "tpr"):
                values = self.per_case[r][metric]
                for t, team in enumerate(self.teams):
                    for f, v in zip(self.frames, values[t]):
                        yield (team, f, task, metric, _na(v), "frame")
            for level in ("video", "surgery"):
                for metric in ("f1", "ppv", "tpr"):
                    names, values = case_values(self.per_case[r][metric], self.frames, level)
                    for t, team in enumerate(self.teams):
                        for g, v in zip(names, values[t]):
                            yield (team, g, task, metric, _na(v), level)


def _na(v: float):
    return "NA" if np.isnan(v) else float(v)


def case_analysis(unit, radius, cases, values, alpha, replicates, rng) -> CaseAnalysis:
    """Every scheme on ``values`` (teams, cases), their tests and challengeR's bootstrap: exact
    tests at a unit of analysis (up to :data:`EXACT_UP_TO` cases), challengeR's approximation
    per frame."""
    filled = fill_missing(values)
    k, n = filled.shape
    exact = unit != "frame" and n <= EXACT_UP_TO
    raw = pairwise_pvalues(filled, exact)
    adjusted = holm(raw)
    wins = decide(adjusted, alpha).sum(axis=1)
    scores = {
        "mean": exact_mean(filled),
        "median": np.median(filled, axis=1),
        "rank_then_mean": exact_mean(min_rank(filled.T).T) if k else np.zeros(0),
        "test_then_rank": wins / max(k - 1, 1),  # the share of the others it beats
    }
    ranks = {s: rank_by(filled, s, alpha, exact=exact) for s in SCHEMES}
    out = CaseAnalysis(unit, radius, cases, values, scores, ranks, raw, adjusted, alpha=alpha,
                       exact=exact, smallest_p=smallest_adjusted_p(n, k, exact))  # fmt: skip
    if replicates and n and k > 1:
        draws = rng.integers(0, n, size=(replicates, n))
        out.replicate_ranks = {s: scheme_replicates(filled, s, draws, alpha, exact=exact)
                               for s in SCHEMES}  # fmt: skip
    return out


def analyse(
    ledger: Ledger,
    standings: list[Standing],
    rules: PhaseRules,
    alpha: float = 0.05,
    replicates: int = 0,
    seed: int = 0,
    unit: str | None = None,
) -> Analysis:
    """Per-case values and every scheme's ranks at every radius the counted submissions were
    scored at (the ranking radius first), at the unit of analysis (``unit``; default
    :func:`adaptor_score.units.declared_unit` of the frames) and per frame, with ``replicates``
    of challengeR's bootstrap per unit and radius (seeded)."""
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
        if not out.frames:
            out.frames = phase.frames
            out.unit = unit or declared_unit(phase.frames)
        per = {m: np.where(missing, np.nan, metric_values(counts, m)) for m in ("f1", "ppv", "tpr")}
        out.per_case[r] = {**per, "counts": counts, "missing": missing}
        sums = phase.data.sum(axis=1)[None]  # the whole sample once: the table's own rule
        official, _ = rank_replicates(sums, phase.team_of, len(teams), replace(rules, radius=r))
        out.ranks["official", r] = official[0]
        for u in out.unit_names:
            cases, values = case_values(per["f1"], phase.frames, u)
            out.units[u, r] = case_analysis(u, r, cases, values, alpha, replicates, rng)
        for scheme in SCHEMES:
            out.ranks[scheme, r] = out.units[out.unit, r].ranks[scheme]
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

"""Every number of the page's robustness analyses as rows, so an organiser can quote any of them
from a file: ``schemes.csv`` (per unit, radius, scheme and team: the score, the rank, the tau
summary), ``significance.csv`` (per unit, radius and ordered pair of teams: raw and Holm p, the
decision) and the ``schemes`` object of ``leaderboard.json``."""

from __future__ import annotations

import numpy as np

from adaptor_leaderboard.analysis import (
    CHALLENGER_CALLS,
    PARITY,
    SCHEME_NAMES,
    Analysis,
    CaseAnalysis,
    tau_summary,
)
from adaptor_leaderboard.bootstrap import BootstrapResult
from adaptor_score.stats import SCHEMES
from adaptor_score.units import BOOTSTRAP_FROM, WORDS, unit_statement

SCORE_KINDS = {
    "official": "pooled F1 of the best submission",
    "mean": "mean F1",
    "median": "median F1",
    "rank_then_mean": "mean case rank (lower is better)",
    "test_then_rank": "share of the other teams beaten significantly",
}
SCHEME_COLUMNS = (
    "unit", "radius", "scheme", "challenger", "team", "score", "score_kind", "rank",
    "tau_median", "tau_q1", "tau_q3", "tau_replicates", "tau_undefined", "missing_cases", "cases",
    "role",
)  # fmt: skip
PAIR_COLUMNS = ("unit", "radius", "team", "other", "p_raw", "p_holm", "significant", "cases",
                "test", "smallest_reachable_p", "role")  # fmt: skip
MISSING_RULE = (
    "per frame, a frame without a usable prediction file is a missing case (NA), then the worst"
    " value (0), in every scheme and replicate (challengeR's na.treat = 0); at the unit of"
    " analysis a case's value is the mean of its frames' values with a missing frame as 0, so"
    " a missing frame costs in proportion and leaving files out never helps; the pooled table"
    " keeps the challenge's rule (a missing file is a frame without predictions)"
)


def role(a: Analysis, unit: str) -> str:
    """``unit of analysis`` or ``challengeR per-frame parity``: every row says which it is."""
    return "unit of analysis" if unit == a.unit else "challengeR per-frame parity"


def _f(x):
    return None if x is None or not np.isfinite(x) else float(x)


def scheme_rows(a: Analysis, boot: BootstrapResult, standings) -> list[dict]:
    rows = []
    for r in a.radii:
        official_tau = tau_summary(boot.kendall_tau()) if r == a.ranking_radius else None
        for t, team in enumerate(a.teams):
            rows.append(_row(boot.unit, r, "official", team, standings[t].scores[r]["f1"],
                             a.ranks["official", r][t], official_tau, None, None))  # fmt: skip
        for unit in a.unit_names:
            ca = a.at(unit, r)
            missing = np.isnan(ca.values).sum(axis=1)
            for scheme in SCHEMES:
                tau = tau_summary(ca.tau(scheme))
                for t, team in enumerate(a.teams):
                    rows.append(_row(unit, r, scheme, team, ca.scores[scheme][t],
                                     ca.ranks[scheme][t], tau, int(missing[t]),
                                     len(ca.cases), role(a, unit)))  # fmt: skip
    return rows


def _row(unit, radius, scheme, team, score, rank, tau, missing, cases, row_role=None) -> dict:
    tau = tau or {}
    return {
        "unit": unit, "radius": float(radius), "scheme": scheme,
        "challenger": CHALLENGER_CALLS.get(scheme, ""), "team": team, "score": _f(score),
        "score_kind": SCORE_KINDS[scheme], "rank": int(rank), "tau_median": tau.get("median"),
        "tau_q1": tau.get("q1"), "tau_q3": tau.get("q3"), "tau_replicates": tau.get("replicates"),
        "tau_undefined": tau.get("undefined"), "missing_cases": missing, "cases": cases,
        "role": row_role or "the table's rule",
    }  # fmt: skip


def pair_rows(a: Analysis) -> list[dict]:
    rows = []
    for r in a.radii:
        for unit in a.unit_names:
            ca = a.at(unit, r)
            for i, team in enumerate(a.teams):
                for j, other in enumerate(a.teams):
                    if i != j:
                        rows.append({
                            "unit": unit, "radius": float(r), "team": team, "other": other,
                            "p_raw": _f(ca.p_raw[i, j]), "p_holm": _f(ca.p_holm[i, j]),
                            "significant": bool(ca.significant[i, j]), "cases": len(ca.cases),
                            "test": ca.test, "smallest_reachable_p": ca.smallest_p,
                            "role": role(a, unit),
                        })  # fmt: skip
    return rows


def _decisions(a: Analysis, ca: CaseAnalysis) -> dict:
    teams = a.teams
    return {
        "cases": WORDS[ca.unit][1],
        "n": len(ca.cases),
        "test": ca.test,
        "smallest_reachable_p": ca.smallest_p,
        "can_be_significant": ca.reachable,
        "verdict": ca.verdict(),
        "significantly_better": {
            t: [teams[j] for j in np.flatnonzero(ca.significant[i])] for i, t in enumerate(teams)
        },
        "holm_adjusted_p": {
            t: {u: (None if i == j else _f(ca.p_holm[i, j])) for j, u in enumerate(teams)}
            for i, t in enumerate(teams)
        },
    }


def schemes_json(a: Analysis, boot: BootstrapResult, standings) -> dict:
    """The ``schemes`` object of ``leaderboard.json``: every headline key at the unit of
    analysis (``unit``, stated with its n); challengeR's per-frame analysis only under
    ``challenger_per_frame``, labelled as parity."""
    ca = a.at()
    frame = a.at("frame")
    official = tau_summary(boot.kendall_tau())
    return {
        "unit": a.unit,
        "unit_statement": unit_statement(a.frames, a.unit),
        **_decisions(a, ca),
        "missing_rule": MISSING_RULE,
        "bootstrap_descriptive_below": BOOTSTRAP_FROM,
        "schemes": {k: {"description": v, "challenger": CHALLENGER_CALLS.get(k, "")}
                    for k, v in SCHEME_NAMES.items()},  # fmt: skip
        "ranks": [
            {"scheme": s, "radius": r, "unit": "pooled" if s == "official" else a.unit,
             "ranks": dict(zip(a.teams, (int(x) for x in v)))}
            for (s, r), v in a.ranks.items()
        ],  # fmt: skip
        "kendall_tau": official,  # the table's rule against each of its replicates
        "challenger_per_frame": {
            "note": PARITY,
            **_decisions(a, frame),
            "ranks": [{"scheme": s, "radius": r, "ranks": dict(zip(a.teams, (int(x) for x in
                       a.at("frame", r).ranks[s])))} for r in a.radii for s in SCHEMES],
        },  # fmt: skip
        "analyses": scheme_rows(a, boot, standings),
        "pairs": pair_rows(a),
    }

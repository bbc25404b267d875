"""challengeR 1.0.5's bootstrap replicate, transcribed row by row (slow, for tests only).

``bootstrap.ranked.list`` draws case ids with replacement and ``merge()``s them with the long
data, so a case drawn m times becomes m rows per algorithm; the ranking method then runs on those
rows as they are: ``aggregateThenRank`` averages (or takes the median of) every row;
``rankThenAggregate`` ranks within ``split(data, case)``, all rows of one case id together, then
averages the rows' ranks; ``testThenRank``'s ``Decision()`` pairs two algorithms by
``intersect()`` of their case ids and ``match()``, so each drawn case once.
"""

from __future__ import annotations

import numpy as np

from adaptor_score.stats import decide, holm, min_rank, pairwise_pvalues


def replicate_ranks(values, scheme: str, draw, alpha: float = 0.05, exact: bool = False):
    v = np.where(np.isnan(values), 0.0, np.asarray(values, dtype=np.float64))
    k = len(v)
    rows = [(c, t, v[t, c]) for c in draw for t in range(k)]  # the merged long table
    if scheme in ("mean", "median"):
        fun = np.mean if scheme == "mean" else np.median
        score = np.array([fun([x for _, t, x in rows if t == a]) for a in range(k)])
        return min_rank(score)
    if scheme == "rank_then_mean":
        ranks = {a: [] for a in range(k)}
        for c in sorted(set(draw)):
            group = [(t, x) for cc, t, x in rows if cc == c]
            xs = np.array([x for _, x in group])
            for (t, x) in group:
                ranks[t].append(1 + int((xs > x).sum()))  # rank(ties.method = "min")
        return min_rank(-np.array([np.mean(ranks[a]) for a in range(k)]))
    ids = list(dict.fromkeys(draw))  # intersect() keeps each id once
    wins = decide(holm(pairwise_pvalues(v[:, ids], exact)), alpha).sum(axis=1)
    return min_rank(wins)

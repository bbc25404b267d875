"""challengeR's ranking analyses in numpy: per-case rankings, paired tests, rank agreement.

Everything works on a per-case matrix ``values`` of shape ``(algorithms, cases)`` (higher is
better; a case is a frame, a surgery, a fold), and follows challengeR's definitions exactly, so
that its users get the same answers:

* **ties take the smallest rank** ("min": 0.8, 0.9, 0.8 rank 2, 1, 2);
* **a missing case value counts as the worst value** (``na_value``, 0 for F1) before anything
  is computed;
* **aggregate-then-rank**: the mean (or median) over cases, ranked;
* **rank-then-aggregate**: the algorithms ranked within each case, the mean rank ranked
  (a lower mean rank is better);
* **means are exactly rounded** (:func:`exact_mean`): equal multisets of values tie in any order;
* **test-then-rank**: for every ordered pair (i, j) a one-sided Wilcoxon signed-rank test of
  "i is better than j" on the paired cases, Holm's adjustment over all ``k(k-1)`` ordered pairs,
  a pair significant when its adjusted p is **at most** ``alpha`` (challengeR's ``Decision()``),
  and each algorithm ranked by how many others it beats. challengeR's test is the normal
  approximation with continuity correction, zero differences dropped, the variance corrected for
  ties (R's ``wilcox.test(exact=FALSE, correct=TRUE)``); with ``exact=True`` the exact
  signed-rank distribution is used instead (:func:`adaptor_score.signrank.greater_exact_rows`),
  the test that can speak with a handful of surgeries (:func:`smallest_adjusted_p` says what
  those cases can reach at all);
* **the bootstrap** (:func:`scheme_replicates`) is challengeR's ``bootstrap()``: each replicate
  draws the cases with replacement and re-applies the scheme with challengeR's semantics for a
  case drawn more than once: the means and medians count every draw; rank-then-aggregate ranks
  all rows of one case together (a case drawn m times puts m copies of each algorithm in one
  ranking, so a rank r becomes 1 + m (r - 1), and every copy counts in the mean); test-then-rank
  pairs each drawn case once (``Decision()`` matches case ids), so its tests see the distinct
  cases drawn;
* **Kendall's tau** is tau-b (ties corrected), as R's ``cor(method = "kendall")``.

scipy is not needed; the tests check every function against scipy's ``wilcoxon``,
``kendalltau`` and brute-force loops. The exact signed-rank test and the Hodges-Lehmann interval
for paired comparisons are in :mod:`adaptor_score.signrank`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from adaptor_score.signrank import greater_approx_rows, greater_exact_rows

SCHEMES = ("mean", "median", "rank_then_mean", "test_then_rank")


def min_rank(values, higher_is_better: bool = True) -> np.ndarray:
    """Ranks along the last axis, 1 = best, ties sharing the smallest rank ("min").

    >>> min_rank([0.8, 0.9, 0.8, 0.7]).tolist()
    [2, 1, 2, 4]
    >>> min_rank([2.5, 1.0, 2.5], higher_is_better=False).tolist()
    [2, 1, 2]
    """
    v = np.asarray(values, dtype=np.float64)
    better = (
        v[..., None, :] > v[..., :, None]
        if higher_is_better
        else (v[..., None, :] < v[..., :, None])
    )
    return 1 + better.sum(axis=-1)


def exact_mean(values) -> np.ndarray:
    """Means along the last axis from exactly rounded sums (``math.fsum``), so that a mean is a
    function of the multiset of values alone: two teams whose per-case values are the same in
    another order get the same mean to the last bit, and tie, as in R (whose long-double
    accumulation gives the same). A plain ``sum`` can differ in the last bit with the order.

    >>> a = [0.9, 0.8, 2 / 3, 0.7, 0.95, 1 / 3]
    >>> float(exact_mean(a)) == float(exact_mean(a[::-1]))
    True
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[-1]
    rows = v.reshape(-1, n)
    out = np.array([math.fsum(r) for r in rows.tolist()]) / n if n else np.full(len(rows), np.nan)
    return out.reshape(v.shape[:-1])


def wilcoxon_greater(x, y) -> float:
    """One-sided p-value that ``x`` tends to be greater than ``y`` (paired), by the Wilcoxon
    signed-rank test as challengeR runs it: normal approximation with continuity correction,
    zero differences dropped, tie-corrected variance. 1.0 when no difference is non-zero.

    >>> round(wilcoxon_greater([3, 4, 5, 6, 7, 8], [1, 1, 1, 1, 1, 9]), 6)
    0.029586
    """
    d = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return float(greater_approx_rows(d[None])[0])


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment of a set of p-values (any shape; NaN stays NaN).

    >>> holm([0.01, 0.04, 0.03, 0.005]).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    out = flat.copy()
    if len(ok):
        out[ok] = holm_rows(flat[ok][None])[0]
    return out.reshape(p.shape)


def holm_rows(p: np.ndarray) -> np.ndarray:
    """Holm's adjustment along the last axis of ``p`` ``(rows, m)`` (no NaN): every bootstrap
    replicate's ordered pairs at once; :func:`holm` is one row of it."""
    m = p.shape[1]
    order = np.argsort(p, axis=1, kind="mergesort")
    s = np.take_along_axis(p, order, axis=1)
    adjusted = np.minimum(np.maximum.accumulate((m - np.arange(m)) * s, axis=1), 1.0)
    out = np.empty_like(p)
    np.put_along_axis(out, order, adjusted, axis=1)
    return out


def pairwise_pvalues(values, exact: bool = False) -> np.ndarray:
    """``(k, k)`` one-sided Wilcoxon p-values, entry (i, j) for "algorithm i beats j"; the
    diagonal is NaN. All pairs in one vectorised pass; ``exact``: the exact signed-rank
    distribution instead of challengeR's normal approximation."""
    v = np.asarray(values, dtype=np.float64)
    k = len(v)
    p = np.full((k, k), np.nan)
    if k < 2:
        return p
    rows = greater_exact_rows if exact else greater_approx_rows
    i, j = np.triu_indices(k, 1)
    d = v[i] - v[j]
    p[i, j] = rows(d)
    p[j, i] = rows(-d)
    return p


def decide(adjusted, alpha: float = 0.05) -> np.ndarray:
    """Significant where the adjusted p is at most ``alpha`` (challengeR's ``Decision()``: ``<=``);
    NaN (the diagonal) never."""
    return np.nan_to_num(np.asarray(adjusted, dtype=np.float64), nan=1.0) <= alpha


def significance(values, alpha: float = 0.05, exact: bool = False) -> np.ndarray:
    """``(k, k)`` booleans: algorithm i is significantly better than j (one-sided Wilcoxon,
    Holm-adjusted over all ``k(k-1)`` ordered pairs, level ``alpha``)."""
    return decide(holm(pairwise_pvalues(values, exact)), alpha)


def smallest_adjusted_p(n: int, k: int, exact: bool = True) -> float:
    """The smallest Holm-adjusted p any ordered pair of ``k`` algorithms can reach on ``n`` paired
    cases: every case one way, ``k (k - 1)`` times the smallest one-sided p (``2^-n`` exactly).
    Above ``alpha`` no difference can be significant at that n, whatever the data.

    >>> smallest_adjusted_p(8, 4), smallest_adjusted_p(5, 2)
    (0.046875, 0.0625)
    """
    m = k * (k - 1)
    if m == 0 or n == 0:
        return 1.0
    if exact:
        floor = 0.5**n
    else:
        floor = float(greater_approx_rows(np.arange(1.0, n + 1)[None])[0])
    return min(1.0, m * floor)


def fill_missing(values, na_value: float = 0.0) -> np.ndarray:
    """``values`` with NaN (a missing case) replaced by the worst value, as challengeR does."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isnan(v), na_value, v)


def scheme_scores(values, scheme: str, alpha: float = 0.05, exact: bool = False) -> np.ndarray:
    """The score each algorithm is ranked by under ``scheme`` (higher is better; for
    rank-then-aggregate the negated mean rank)."""
    v = np.asarray(values, dtype=np.float64)
    if scheme == "mean":
        return exact_mean(v)
    if scheme == "median":
        return np.median(v, axis=1)
    if scheme == "rank_then_mean":
        return -exact_mean(min_rank(v.T).T)  # ranks within each case, then their mean
    if scheme == "test_then_rank":
        return significance(v, alpha, exact).sum(axis=1).astype(np.float64)
    raise ValueError(f"unknown scheme {scheme!r}; one of {', '.join(SCHEMES)}")


def rank_by(values, scheme: str, alpha: float = 0.05, na_value: float = 0.0,
            exact: bool = False) -> np.ndarray:  # fmt: skip
    """Ranks of the algorithms (rows of ``values``) under one of :data:`SCHEMES`.

    >>> v = [[0.9, 0.8, 0.7, 0.9], [0.5, 0.9, 0.9, 0.8], [0.1, 0.2, 0.1, 0.3]]
    >>> [rank_by(v, s).tolist() for s in ("mean", "median", "rank_then_mean")]
    [[1, 2, 3], [1, 1, 3], [1, 1, 3]]
    """
    return min_rank(scheme_scores(fill_missing(values, na_value), scheme, alpha, exact))


def draw_counts(resamples, n: int) -> np.ndarray:
    """``(replicates, n)``: how often each case was drawn in each replicate."""
    draws = np.asarray(resamples, dtype=np.int64).reshape(len(resamples), -1)
    out = np.zeros((len(draws), n), dtype=np.int64)
    np.add.at(out, (np.repeat(np.arange(len(draws)), draws.shape[1]), draws.ravel()), 1)
    return out


def scheme_replicates(
    values, scheme: str, resamples, alpha: float = 0.05, na_value: float = 0.0,
    exact: bool = False,
) -> np.ndarray:  # fmt: skip
    """challengeR's bootstrap of one scheme: ``(replicates, algorithms)`` ranks, each replicate
    re-applying the scheme to the cases it drew (``resamples``: ``(replicates, n)`` case
    indices) with challengeR's semantics for repeated cases (module docstring). Missing values
    are the worst value first, as everywhere. All replicates at once.

    >>> v = [[0.9, 0.8, 0.7], [0.5, 0.9, 0.6]]
    >>> scheme_replicates(v, "mean", [[0, 1, 2], [1, 1, 1]]).tolist()
    [[1, 2], [2, 1]]
    """
    from adaptor_score.replicates import replicate_scores

    v = fill_missing(values, na_value)
    counts = draw_counts(resamples, v.shape[1])
    if not len(counts):
        return np.zeros((0, len(v)), dtype=np.int64)
    return min_rank(replicate_scores(v, scheme, counts, alpha, exact))


def kendall_tau_b(a, b) -> np.ndarray:
    """Kendall's tau-b between rankings ``a`` and ``b`` along the last axis (broadcast, so that
    one ranking can be compared with many replicates at once). NaN when either has no pairs
    that are not tied.

    >>> float(kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]))
    0.6666666666666666
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)
    n = a.shape[-1]
    iu = np.triu_indices(n, 1)
    da = np.sign(a[..., :, None] - a[..., None, :])[..., iu[0], iu[1]]
    db = np.sign(b[..., :, None] - b[..., None, :])[..., iu[0], iu[1]]
    concordance = (da * db).sum(axis=-1)
    untied_a = (da != 0).sum(axis=-1)
    untied_b = (db != 0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return concordance / np.sqrt(untied_a * untied_b)


def paired_bootstrap_interval(
    differences: Sequence[float], replicates: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the mean of paired ``differences``, resampling the pairs.

    >>> lo, hi = paired_bootstrap_interval([0.01, 0.02, 0.015, 0.03], 500)
    >>> 0.01 <= lo <= hi <= 0.03
    True
    """
    d = np.asarray(differences, dtype=np.float64)
    if d.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(replicates, d.size))].mean(axis=1)
    q = (1 - level) / 2
    lo, hi = np.quantile(means, [q, 1 - q])
    return float(lo), float(hi)

"""The Wilcoxon signed-rank test, exact where it is cheap, and the interval that agrees with it.

Paired differences ``d`` (zeros dropped, the sizes ranked with ties sharing their average rank)
give ``V``, the sum of the ranks of the positive differences. Every rank is a multiple of 1/2,
so the **doubled** ranks are integers and the exact null distribution of ``2V`` (each sign
+ or - with probability 1/2, independently) is a polynomial product, built here by dynamic
programming over the doubled ranks: ``n`` steps over at most ``n (n + 1) + 1`` sums, so 400
pairs cost about 0.1 s and the answer is exact with ties and zeros. R's ``wilcox.test`` is
exact below 50 pairs only without ties; scipy's exact method ignores ties. Beyond
:data:`EXACT_UP_TO` pairs the normal approximation with continuity correction and the
tie-corrected variance (R's ``exact = FALSE, correct = TRUE``) takes over, and the method is
named in every result, as is the smallest p-value those pairs can give by that same method.

The interval is the one the test implies (Hodges and Lehmann): the estimate is the median of the
``n (n + 1) / 2`` Walsh averages ``(d_i + d_j) / 2, i <= j``, and the ``1 - alpha`` interval runs
from the ``q``-th smallest to the ``q``-th largest of them, ``q`` the smallest count with
``P(V <= q) >= alpha / 2`` under the exact null distribution without ties (R's
``wilcox.test(conf.int = TRUE)``). Between two neighbouring Walsh averages the shifted
differences ``d - mu`` have no ties and no zeros, so this interval is exactly the set of shifts
the exact test does not reject: it excludes 0 precisely when the test's p-value is at most the
interval's achieved alpha (below 0.05), unless 0 is itself a Walsh average (a zero difference,
or two of equal size and opposite sign), where the tie-corrected test may decide otherwise;
:func:`hodges_lehmann` reports whether they agree. With few pairs 95 % cannot be reached (five
pairs reach at most 93.75 %): then no interval is given, only the highest reachable level.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

EXACT_UP_TO = 400  # pairs: exact distribution below, normal approximation above
HL_UP_TO = 400  # pairs for which the Hodges-Lehmann interval is computed (its null is exact)
EXACT = "exact signed-rank distribution (ties: average ranks)"
NORMAL = "normal approximation, continuity-corrected (R: wilcox.test(exact = FALSE))"


class SignedRanks(NamedTuple):
    """Differences without their zeros: their number ``n``, the doubled (integer) average ranks
    of their sizes, ``2V`` (the doubled sum of the positive ones' ranks) and the tie-corrected
    standard deviation of ``V`` under no difference."""

    n: int
    doubled: np.ndarray
    v2: int
    sigma: float


class _TieGroups(NamedTuple):
    """Rows of sizes ``(m, n)`` ranked with ties sharing their average rank."""

    doubled: np.ndarray  # (m, n) int: twice each value's average rank, in the values' own order
    row: np.ndarray  # (groups,) the row of each group of equal values
    size: np.ndarray  # (groups,) its number of values
    value: np.ndarray  # (groups,) the value they share


def _tie_groups(a: np.ndarray) -> _TieGroups:
    """Average ranks (1 = smallest) along the last axis of ``a`` ``(m, n)``, all rows at once."""
    m, n = a.shape
    order = np.argsort(a, axis=1, kind="stable")
    s = np.take_along_axis(a, order, axis=1)
    new = np.ones((m, n), dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    flat_new = new.ravel()
    starts = np.flatnonzero(flat_new)
    sizes = np.diff(np.r_[starts, m * n])
    gid = np.cumsum(flat_new) - 1
    in_row = starts % n
    doubled = np.empty((m, n), dtype=np.int64)
    np.put_along_axis(doubled, order, (2 * in_row + sizes + 1)[gid].reshape(m, n), axis=1)
    return _TieGroups(doubled, starts // n, sizes, s.ravel()[starts])


def _sigma(n, tie_term):
    """The tie-corrected standard deviation of ``V`` under no difference (arrays or numbers)."""
    return np.sqrt(np.maximum(n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48, 0.0))


def finite_differences(differences) -> np.ndarray:
    """``differences`` as floats; ``ValueError`` for a NaN or an infinity (a NaN once counted as
    a positive difference: it is not zero, and its rank sorted last).

    >>> finite_differences([0.1, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: paired differences must be finite numbers; 1 of 2 is NaN or infinite
    """
    d = np.asarray(differences, dtype=np.float64)
    bad = int((~np.isfinite(d)).sum())
    if bad:
        raise ValueError(f"paired differences must be finite numbers; {bad} of {d.size} is NaN"
                         " or infinite")  # fmt: skip
    return d


def signed_ranks(differences) -> SignedRanks:
    d = finite_differences(differences)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return SignedRanks(0, np.zeros(0, dtype=np.int64), 0, 0.0)
    g = _tie_groups(np.abs(d)[None])
    doubled = g.doubled[0]
    t = g.size.astype(np.float64)
    return SignedRanks(n, doubled, int(doubled[d > 0].sum()), float(_sigma(n, (t**3 - t).sum())))


def null_distribution(doubled) -> np.ndarray:
    """``P(2V = s)`` for ``s = 0 .. sum(doubled)`` when each sign is a fair coin.

    >>> null_distribution([2, 4, 6]).nonzero()[0].tolist()  # ranks 1, 2, 3 doubled
    [0, 2, 4, 6, 8, 10, 12]
    """
    doubled = [int(r) for r in doubled]
    out = np.zeros(sum(doubled) + 1)
    out[0] = 1.0
    top = 0
    for r in doubled:
        shifted = out[: top + 1].copy()
        out[: top + 1] *= 0.5
        out[r : r + top + 1] += 0.5 * shifted
        top += r
    return out


@functools.lru_cache(maxsize=64)
def _untied_cdf(n: int) -> np.ndarray:
    """``P(V <= v)`` for ``v = 0 .. n (n + 1) / 2`` without ties (R's ``psignrank``)."""
    return np.cumsum(null_distribution(range(2, 2 * n + 1, 2))[::2])


class TestResult(NamedTuple):
    p: float
    n: int  # non-zero differences
    method: str
    smallest_p: float  # the smallest p these pairs can give, by the same method


def wilcoxon(differences, alternative: str = "two-sided", exact_up_to: int = EXACT_UP_TO):
    """The signed-rank test of paired ``differences`` (``alternative``: ``two-sided`` or
    ``greater``, "the differences tend to be positive"). Exact up to ``exact_up_to`` non-zero
    differences, ties and zeros included; the normal approximation beyond. No non-zero
    difference: p = 1, no evidence either way.

    >>> r = wilcoxon([0.01, 0.02, 0.015, 0.03])  # four folds, all one way
    >>> r.p, r.smallest_p
    (0.125, 0.125)
    >>> wilcoxon([0.3, -0.1, 0.2, 0.2, 0.5, 0.4], "greater").p  # tied sizes, exact
    0.03125
    """
    if alternative not in ("two-sided", "greater"):
        raise ValueError("alternative must be 'two-sided' or 'greater'")
    sr = signed_ranks(differences)
    if sr.n == 0:
        return TestResult(1.0, 0, EXACT, 1.0)
    total = int(sr.doubled.sum())  # 2V of all differences positive
    if sr.n <= exact_up_to:
        dist = null_distribution(sr.doubled)
        sums = np.arange(total + 1)
        if alternative == "greater":
            p = float(dist[sr.v2 :].sum())
            floor = float(dist[total])
        else:
            p = float(dist[np.abs(2 * sums - total) >= abs(2 * sr.v2 - total)].sum())
            floor = float(2 * dist[total])
        return TestResult(min(1.0, p), sr.n, EXACT, min(1.0, floor))
    p = _normal_p(sr.v2 / 2, sr.n, sr.sigma, alternative)
    return TestResult(p, sr.n, NORMAL, _normal_p(total / 2, sr.n, sr.sigma, alternative))


def _normal_p(v: float, n: int, sigma: float, alternative: str) -> float:
    if sigma == 0:
        return 1.0
    centre = n * (n + 1) / 4
    if alternative == "greater":
        return 0.5 * math.erfc((v - centre - 0.5) / sigma / math.sqrt(2))
    z = max(abs(v - centre) - 0.5, 0.0) / sigma
    return min(1.0, math.erfc(z / math.sqrt(2)))


def greater_approx_rows(differences) -> np.ndarray:
    """One-sided p-values, "row tends to be positive", for each row of ``differences``
    ``(m, n)`` at once: challengeR's test (normal approximation with continuity correction,
    zeros dropped, tie-corrected variance; R's ``wilcox.test(exact = FALSE, correct = TRUE)``).
    A row without a non-zero difference gives 1.

    >>> greater_approx_rows([[2, 3, 4, 5, 6, -1]]).round(6).tolist()
    [0.029586]
    """
    d = np.atleast_2d(np.asarray(differences, dtype=np.float64))
    m, n = d.shape
    if n == 0:
        return np.ones(m)
    g = _tie_groups(np.abs(d))
    zeros = (d == 0).sum(axis=1)  # the smallest sizes: the non-zero ranks are shifted by them
    v = ((g.doubled - 2 * zeros[:, None]) * (d > 0)).sum(axis=1) / 2
    nz = n - zeros
    t = g.size.astype(np.float64)
    counted = g.value != 0
    ties = np.bincount(g.row[counted], weights=(t**3 - t)[counted], minlength=m)
    sigma = _sigma(nz, ties)
    z = np.where(sigma > 0, (v - nz * (nz + 1) / 4 - 0.5) / np.where(sigma > 0, sigma, 1), 0.0)
    p = np.array([0.5 * math.erfc(x / math.sqrt(2)) for x in z])
    return np.where((nz == 0) | (sigma == 0), 1.0, p)


def approx_subsets(differences, drawn) -> tuple[np.ndarray, np.ndarray]:
    """challengeR's test (:func:`greater_approx_rows`) of one pair's ``differences`` ``(n,)`` on
    many subsets of its cases at once, ``drawn`` ``(m, n)`` booleans: the one-sided p-values
    ``(greater, less)``, each ``(m,)``. The sizes are sorted once; a subset's average ranks and
    tie groups come from running counts along that order, so no subset is sorted again (the
    bootstrap of test-then-rank draws 1,000 subsets of 1,000 frames per pair). Equal to
    ``greater_approx_rows`` on the subset (tested).

    >>> g, l = approx_subsets([2, 3, 4, 5, 6, -1, 9], [[1, 1, 1, 1, 1, 1, 0]])
    >>> round(float(g[0]), 6), round(float(l[0]), 6)
    (0.029586, 0.981984)
    """
    d = np.asarray(differences, dtype=np.float64)
    drawn = np.atleast_2d(np.asarray(drawn, dtype=bool))
    nonzero = np.flatnonzero(d != 0)
    m = len(drawn)
    if not len(nonzero):
        return np.ones(m), np.ones(m)
    sizes = np.abs(d[nonzero])
    order = np.argsort(sizes, kind="stable")
    sv = sizes[order]
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    on = drawn[:, nonzero[order]].astype(np.int64)  # (m, non-zero cases) in size order
    positive = (d[nonzero[order]] > 0).astype(np.int64)
    t = np.add.reduceat(on, starts, axis=1)  # drawn members of each tie group
    pos = np.add.reduceat(on * positive, starts, axis=1)
    before = np.cumsum(t, axis=1) - t  # drawn members of smaller groups
    v = (pos * (before + (t + 1) / 2)).sum(axis=1)
    n = t.sum(axis=1).astype(np.float64)
    sigma = _sigma(n, (t**3 - t).sum(axis=1).astype(np.float64))
    centre = n * (n + 1) / 4
    safe = np.where(sigma > 0, sigma, 1.0)
    ok = (n > 0) & (sigma > 0)
    greater = np.where(ok, _upper((v - centre - 0.5) / safe), 1.0)
    less = np.where(ok, _upper((n * (n + 1) / 2 - v - centre - 0.5) / safe), 1.0)
    return greater, less


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _upper(z: np.ndarray) -> np.ndarray:
    """``P(Z >= z)`` for a standard normal, elementwise."""
    return 0.5 * _ERFC(np.asarray(z, dtype=np.float64) / math.sqrt(2)).astype(np.float64)


def greater_exact_rows(differences) -> np.ndarray:
    """Exact one-sided p-values, "row tends to be positive", for each row of ``differences``
    ``(m, n)`` at once: zeros dropped, tied sizes sharing their average rank, the null
    distribution of :func:`wilcoxon` (equal to ``wilcoxon(row, "greater").p``, tested). Rows
    without ties use the cached untied distribution of their number of non-zero differences; rows
    with ties build theirs once per tie pattern. A row without a non-zero difference gives 1.

    >>> greater_exact_rows([[0.3, 0.1, 0.2, 0.25, 0.5], [0.1, 0.0, -0.2, 0.3, 0.0]]).tolist()
    [0.03125, 0.375]
    """
    d = np.atleast_2d(np.asarray(differences, dtype=np.float64))
    m, n = d.shape
    out = np.ones(m)
    if n == 0 or m == 0:
        return out
    g = _tie_groups(np.abs(d))
    zeros = (d == 0).sum(axis=1)
    doubled = np.where(d != 0, g.doubled - 2 * zeros[:, None], 0)  # ranks among the non-zero
    v2 = (doubled * (d > 0)).sum(axis=1)
    nz = n - zeros
    tied = np.zeros(m, dtype=bool)
    tied[g.row[(g.size > 1) & (g.value != 0)]] = True
    for k in np.unique(nz[~tied & (nz > 0)]):
        rows = np.flatnonzero(~tied & (nz == k))
        cdf = _untied_cdf(int(k))
        v = v2[rows] // 2  # untied: integer ranks
        out[rows] = 1.0 - np.where(v > 0, cdf[np.maximum(v - 1, 0)], 0.0)
    for r in np.flatnonzero(tied):
        out[r] = _tied_tail(tuple(sorted(doubled[r][doubled[r] > 0].tolist())))[v2[r]]
    return np.clip(out, 0.0, 1.0)


@functools.lru_cache(maxsize=4096)
def _tied_tail(doubled: tuple[int, ...]) -> np.ndarray:
    """``P(2V >= s)`` for ``s = 0 .. sum(doubled)`` (a tie pattern's upper tail)."""
    return np.cumsum(null_distribution(doubled)[::-1])[::-1]


class Interval(NamedTuple):
    """The Hodges-Lehmann estimate and the signed-rank interval, or why there is none."""

    estimate: float
    low: float | None  # None: no interval at the requested level (see ``note``)
    high: float | None
    level: float  # the achieved confidence level (at least the requested one), or the highest
    # reachable when ``low`` is None
    agrees: bool | None  # the interval excludes 0 exactly when the test rejects at its alpha
    note: str


def hodges_lehmann(differences, level: float = 0.95) -> Interval:
    """Hodges-Lehmann estimate and exact signed-rank interval of paired ``differences``.

    >>> iv = hodges_lehmann([0.3, 0.1, 0.2, 0.25, 0.5, 0.4, 0.15, 0.35])
    >>> [round(x, 4) for x in (iv.estimate, iv.low, iv.high, iv.level)]
    [0.275, 0.15, 0.4, 0.9609]
    >>> hodges_lehmann([0.01, 0.02, 0.015, 0.03]).note
    '4 pairs cannot give a 95 % interval (at most 87.5 %)'
    """
    d = finite_differences(differences)
    n = len(d)
    if n < 2:
        est = float(d[0]) if n else math.nan
        return Interval(est, None, None, 0.0, None, f"{n} pair{'s' * (n != 1)}: no interval")
    if n > HL_UP_TO:
        return Interval(math.nan, None, None, 0.0, None,
                        f"{n} pairs: over {HL_UP_TO}, see the bootstrap interval")  # fmt: skip
    iu = np.triu_indices(n)
    walsh = np.sort((d[iu[0]] + d[iu[1]]) / 2)
    estimate = float(np.median(walsh))
    cdf = _untied_cdf(n)
    alpha = 1 - level
    q = int(np.searchsorted(cdf, alpha / 2 - 1e-15))  # smallest q with P(V <= q) >= alpha / 2
    if q == 0:
        best = 1 - 2 * float(cdf[0])
        note = f"{n} pairs cannot give a {level * 100:g} % interval (at most {best * 100:.4g} %)"
        return Interval(estimate, None, None, best, None, note)
    achieved = 2 * float(cdf[q - 1])
    low, high = float(walsh[q - 1]), float(walsh[len(walsh) - q])
    test = wilcoxon(d)
    excludes = low > 0 or high < 0
    rejects = test.p <= achieved + 1e-12
    return Interval(estimate, low, high, 1 - achieved, excludes == rejects, "")

"""challengeR's bootstrap, all replicates at once: each scheme's scores from the draw counts.

A replicate is described by ``counts`` ``(replicates, n)``: how often each of the ``n`` cases was
drawn. challengeR's ``bootstrap()`` merges the drawn case ids with the data, so a case drawn m
times is m rows per algorithm, and then:

* **mean**: every row counts: ``sum(m_c v_c) / sum(m_c)``;
* **median**: the median of the rows, each value repeated m times;
* **rank-then-aggregate**: ``Rank()`` splits by case id, so the m copies of a case are ranked
  together: an algorithm with ``s`` algorithms strictly better gets rank ``1 + m s`` ("min"), in
  each of its m rows; the mean rank is ``(N + sum(m_c^2 s_c)) / N``, N the rows drawn, computed
  in integers so that equal mean ranks tie exactly;
* **test-then-rank**: ``Decision()`` pairs algorithms by ``intersect()`` and ``match()`` of case
  ids, so each distinct drawn case counts once: the test on the distinct drawn cases
  (:func:`adaptor_score.signrank.approx_subsets` for challengeR's approximation, every subset from
  one sort per pair; for the exact test a case not drawn gets a zero difference, which the test
  drops).

Means are ranked from exactly rounded sums (:func:`adaptor_score.stats.exact_mean`'s reason): a
matrix product is used, and every replicate in which two scores lie within rounding of each other
is summed again exactly. Measured in ``benchmarks/bench_publish.py``.
"""

from __future__ import annotations

import math

import numpy as np

from adaptor_score.signrank import approx_subsets, greater_exact_rows

CHUNK = 4_000_000  # differences per block of the test-then-rank pass (32 MB of float64)


def replicate_scores(v: np.ndarray, scheme: str, counts: np.ndarray, alpha: float,
                     exact: bool) -> np.ndarray:  # fmt: skip
    """``(replicates, k)`` scores (higher is better) of ``v`` ``(k, n)`` on each replicate."""
    if scheme == "mean":
        return _means(v, counts)
    if scheme == "median":
        return _medians(v, counts)
    if scheme == "rank_then_mean":
        from adaptor_score.stats import min_rank

        better = (min_rank(v.T).T - 1).astype(np.int64)  # (k, n) algorithms strictly better
        rows = counts.sum(axis=1, keepdims=True)
        return -(rows + (counts**2) @ better.T)  # the negated mean rank times N: exact integers
    if scheme == "test_then_rank":
        return _wins(v, counts > 0, alpha, exact)
    raise ValueError(f"unknown scheme {scheme!r}")


def _means(v: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=1, keepdims=True).astype(np.float64)
    out = (counts @ v.T) / total
    s = np.sort(out, axis=1)
    close = np.abs(np.diff(s, axis=1)) <= 1e-12 * np.maximum(1.0, np.abs(s[:, 1:]))
    for r in np.flatnonzero(close.any(axis=1)):
        for t in range(len(v)):
            out[r, t] = math.fsum(np.repeat(v[t], counts[r]).tolist()) / total[r, 0]
    return out


def _medians(v: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=1)
    lo, hi = (total - 1) // 2, total // 2  # 0-based positions of the middle row(s)
    out = np.empty((len(counts), len(v)))
    for t in range(len(v)):
        order = np.argsort(v[t], kind="stable")
        sv = v[t][order]
        cw = np.cumsum(counts[:, order], axis=1)
        a = sv[(cw > lo[:, None]).argmax(axis=1)]
        b = sv[(cw > hi[:, None]).argmax(axis=1)]
        out[:, t] = (a + b) / 2
    return out


def _wins(v: np.ndarray, drawn: np.ndarray, alpha: float, exact: bool) -> np.ndarray:
    """How many others each algorithm beats (Holm over the ``k (k - 1)`` ordered pairs of the
    replicate, adjusted p at most ``alpha``)."""
    from adaptor_score.stats import decide, holm_rows

    k, n = v.shape
    reps = len(drawn)
    if k < 2:
        return np.zeros((reps, k))
    i, j = np.triu_indices(k, 1)
    d = v[i] - v[j]  # (pairs, n)
    p = np.empty((reps, 2 * len(i)))
    if not exact:  # challengeR's approximation: each pair's sizes sorted once for all replicates
        for q in range(len(i)):
            p[:, q], p[:, len(i) + q] = approx_subsets(d[q], drawn)
    step = max(1, CHUNK // max(1, len(i) * n))
    for start in range(0, reps if exact else 0, step):
        block = d[None] * drawn[start : start + step, None, :]  # undrawn cases: 0, dropped
        flat = block.reshape(-1, n)
        b = len(block)
        p[start : start + b, : len(i)] = greater_exact_rows(flat).reshape(b, -1)
        p[start : start + b, len(i) :] = greater_exact_rows(-flat).reshape(b, -1)
    adjusted = holm_rows(p)
    wins = np.zeros((reps, k))
    significant = decide(adjusted, alpha)
    np.add.at(wins.T, np.r_[i, j], significant.T)  # i beats j in the first half, j beats i after
    return wins


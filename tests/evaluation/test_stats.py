"""challengeR's statistics against independent implementations: scipy and brute-force loops."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adaptor_score.stats import (
    exact_mean,
    holm,
    kendall_tau_b,
    min_rank,
    paired_bootstrap_interval,
    rank_by,
    scheme_replicates,
    scheme_scores,
    significance,
    wilcoxon_greater,
)

scipy_stats = pytest.importorskip("scipy.stats")

# values on a coarse grid, so that ties and zero differences are common (per-frame F1 is coarse)
grid = st.sampled_from([0.0, 0.25, 0.5, 0.6, 2 / 3, 0.75, 0.8, 1.0])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(grid, grid), min_size=1, max_size=40))
def test_wilcoxon_equals_scipys_normal_approximation_with_continuity_correction(pairs):
    x, y = (np.array(v) for v in zip(*pairs))
    assume(np.any(x != y))  # scipy refuses all-zero differences; ours gives 1.0 (below)
    want = scipy_stats.wilcoxon(x, y, alternative="greater", correction=True, method="approx")
    assert math.isclose(wilcoxon_greater(x, y), want.pvalue, rel_tol=1e-12, abs_tol=1e-15)


def test_wilcoxon_without_any_difference_gives_no_evidence():
    assert wilcoxon_greater([0.5, 0.5], [0.5, 0.5]) == 1.0


def _brute_tau_b(a, b):
    c = d = ta = tb = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        sa, sb = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
        if sa == 0 and sb == 0:
            continue
        if sa == 0:
            ta += 1
        elif sb == 0:
            tb += 1
        elif sa == sb:
            c += 1
        else:
            d += 1
    return (c - d) / math.sqrt((c + d + ta) * (c + d + tb))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=2, max_size=12))
def test_kendall_tau_b_equals_scipy_and_a_brute_force_count(pairs):
    a, b = (np.array(v, dtype=float) for v in zip(*pairs))
    assume(len(np.unique(a)) > 1 and len(np.unique(b)) > 1)
    got = float(kendall_tau_b(a, b))
    assert math.isclose(got, scipy_stats.kendalltau(a, b, variant="b").statistic, abs_tol=1e-12)
    assert math.isclose(got, _brute_tau_b(a, b), abs_tol=1e-12)


def test_kendall_tau_b_broadcasts_over_replicates():
    official = np.array([1, 2, 3, 4])
    reps = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [1, 1, 3, 4]])
    got = kendall_tau_b(official, reps)
    assert got.tolist()[:2] == [1.0, -1.0]
    assert math.isclose(got[2], scipy_stats.kendalltau(official, reps[2]).statistic)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_equals_the_textbook_step_down(p):
    p = np.array(p)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    want = np.empty(m)
    running = 0.0
    for i, k in enumerate(order):  # brute force: (m - i) p_(i), running maximum, capped at 1
        running = max(running, min(1.0, (m - i) * p[k]))
        want[k] = running
    np.testing.assert_allclose(holm(p), want, rtol=0, atol=1e-15)


def _min_rank_loop(values):
    return [1 + sum(w > v for w in values) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(grid, min_size=6, max_size=6), min_size=2, max_size=5))
def test_rankings_equal_brute_force_loops(rows):
    v = np.array(rows)
    exact = [math.fsum(row) / len(row) for row in v.tolist()]  # exactly rounded sums
    assert rank_by(v, "mean").tolist() == _min_rank_loop(exact)
    assert rank_by(v, "median").tolist() == _min_rank_loop(list(np.median(v, axis=1)))
    per_case = [_min_rank_loop(list(v[:, c])) for c in range(v.shape[1])]
    mean_rank = [np.mean([per_case[c][a] for c in range(v.shape[1])]) for a in range(len(v))]
    assert rank_by(v, "rank_then_mean").tolist() == _min_rank_loop([-m for m in mean_rank])
    k = len(v)
    p = [[scipy_p(v[i], v[j]) if i != j else math.nan for j in range(k)] for i in range(k)]
    flat = [(p[i][j], i, j) for i in range(k) for j in range(k) if i != j]
    flat.sort(key=lambda t: t[0])
    adjusted, running = {}, 0.0
    for n, (pv, i, j) in enumerate(flat):
        running = max(running, min(1.0, (len(flat) - n) * pv))
        adjusted[i, j] = running
    wins = [sum(adjusted[i, j] < 0.05 for j in range(k) if j != i) for i in range(k)]
    assert significance(v).sum(axis=1).tolist() == wins
    assert rank_by(v, "test_then_rank").tolist() == _min_rank_loop(wins)


def scipy_p(x, y):
    """scipy's p-value (it refuses pairs without any non-zero difference: no evidence, 1)."""
    if np.all(x == y):
        return 1.0
    return scipy_stats.wilcoxon(
        x, y, alternative="greater", correction=True, method="approx"
    ).pvalue


def test_a_missing_case_counts_as_the_worst_value():
    v = np.array([[0.9, np.nan, 0.8], [0.5, 0.6, 0.7]])
    assert rank_by(v, "mean").tolist() == [2, 1]  # (0.9 + 0 + 0.8) / 3 < (0.5 + 0.6 + 0.7) / 3
    assert min_rank([0.8, 0.9, 0.8]).tolist() == [2, 1, 2]


def test_the_bootstrap_interval():
    lo, hi = paired_bootstrap_interval([0.1] * 5)
    assert lo == hi == pytest.approx(0.1)
    assert all(math.isnan(x) for x in paired_bootstrap_interval([]))


# Per-frame F1 values whose plain float sum depends on the order (found by search): R finds the
# two means equal, a left-to-right sum does not.
ORDER_A = [1 / 3, 1.0, 0.8, 0.6, 0.6, 0.0, 0.0, 0.0, 0.5, 0.4, 1.0, 1 / 3]
ORDER_B = [0.6, 0.8, 1 / 3, 0.5, 0.0, 1 / 3, 1.0, 0.6, 0.4, 0.0, 0.0, 1.0]


def test_equal_multisets_of_values_tie_whatever_their_order():
    assert sum(ORDER_A) != sum(ORDER_B)  # the trap: the plain sums differ in the last bit
    v = np.array([ORDER_A, ORDER_B])
    assert exact_mean(v)[0] == exact_mean(v)[1]
    for scheme in ("mean", "median"):  # the per-team aggregates; the others pair the cases
        assert rank_by(v, scheme).tolist() == [1, 1], scheme


fine = st.sampled_from([0.0, 0.1, 0.2, 1 / 3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 0.8, 0.9, 1.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(fine, min_size=2, max_size=60), st.randoms(use_true_random=False))
def test_every_scheme_and_replicate_ties_a_permuted_copy(values, random):
    shuffled = list(values)
    random.shuffle(shuffled)
    other = [min(1.0, x + 0.1) for x in values]  # a third team, so ranks are not trivial
    v = np.array([values, shuffled, other])
    for scheme in ("mean", "median"):
        r = rank_by(v, scheme)
        assert r[0] == r[1], scheme
    # paired schemes: the same order of cases for every team gives the same scores, bit for bit
    order = np.array(random.sample(range(len(values)), len(values)))
    for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
        assert scheme_scores(v, scheme).tolist() == scheme_scores(v[:, order], scheme).tolist()
    # a replicate's mean is that of the cases it drew, whatever order they were drawn in
    draws = np.array([[random.randrange(len(values)) for _ in values] for _ in range(5)])
    a = scheme_replicates(v, "mean", draws)
    assert a.tolist() == scheme_replicates(v, "mean", np.sort(draws, axis=1)).tolist()


def test_scheme_replicates_equal_challengers_bootstrap_row_by_row():
    """Each replicate equals challengeR's bootstrap transcribed row by row (repeated cases ranked
    together by rank-then-aggregate, counted once by test-then-rank), with either test."""
    from tests.evaluation.challenger_reference import replicate_ranks

    rng = np.random.default_rng(2)
    for _trial in range(12):
        k, n = int(rng.integers(2, 6)), int(rng.integers(2, 18))
        v = rng.choice([0.0, 0.5, 0.8, 1.0], size=(k, n))
        v[rng.integers(k), rng.integers(n)] = np.nan  # missing: the worst value where drawn
        draws = rng.integers(0, n, size=(8, n))
        for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
            for exact in (False, True):
                reps = scheme_replicates(v, scheme, draws, exact=exact)
                want = [replicate_ranks(v, scheme, d.tolist(), exact=exact).tolist()
                        for d in draws]  # fmt: skip
                assert reps.tolist() == want, (scheme, exact)


def test_repeated_cases_change_rank_then_aggregate_as_challenger_does():
    """Ranking each copy of a case separately (rank_by on the drawn columns) is not challengeR:
    a case drawn twice puts both copies in one ranking. Found where they differ."""
    from adaptor_score.stats import rank_by as plain

    v = np.array([[0.5, 0.5, 1.0], [1.0, 0.0, 1.0], [0.5, 0.5, 1.0]])
    draw = [1, 0, 0]  # case 0 twice: 1 beats two copies of each 0.5 (rank 3, not 2)
    assert plain(v[:, draw], "rank_then_mean").tolist() == [1, 1, 1]
    assert scheme_replicates(v, "rank_then_mean", [draw]).tolist() == [[2, 1, 2]]

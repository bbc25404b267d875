"""The exact signed-rank test and the Hodges-Lehmann interval against enumeration and scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from adaptor_score.signrank import (
    EXACT,
    NORMAL,
    greater_approx_rows,
    hodges_lehmann,
    null_distribution,
    signed_ranks,
    wilcoxon,
)

scipy_stats = pytest.importorskip("scipy.stats")

# coarse values: ties and zero differences are common, as between per-surgery F1 values
coarse = st.sampled_from([-0.5, -0.25, -0.1, 0.0, 0.1, 0.2, 0.25, 0.5, 0.75])


def _enumerated_p(d, alternative):
    """p by enumerating every sign pattern of the (average) ranks of the non-zero differences."""
    d = np.asarray(d, dtype=float)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return 1.0
    ranks = scipy_stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    centre = ranks.sum() / 2
    hits = 0
    for signs in itertools.product((0, 1), repeat=n):
        v = float(np.dot(signs, ranks))
        if alternative == "greater":
            hits += v >= observed - 1e-9
        else:
            hits += abs(v - centre) >= abs(observed - centre) - 1e-9
    return hits / 2**n


@settings(max_examples=250, deadline=None)
@given(st.lists(coarse, min_size=1, max_size=11), st.sampled_from(["two-sided", "greater"]))
def test_exact_p_equals_enumeration_with_ties_and_zeros(d, alternative):
    got = wilcoxon(d, alternative)
    assert got.method == EXACT
    assert math.isclose(got.p, _enumerated_p(d, alternative), rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1, 1).filter(lambda x: abs(x) > 1e-6), min_size=2, max_size=30,
                unique_by=abs))  # fmt: skip
def test_exact_p_equals_scipys_exact_test_without_ties(d):
    want = scipy_stats.wilcoxon(d, method="exact").pvalue
    assert math.isclose(wilcoxon(d).p, want, rel_tol=1e-9)


def test_fifty_pairs_and_more_stay_exact():
    rng = np.random.default_rng(3)
    d = np.round(rng.normal(0.02, 0.05, 120), 2)  # rounded: many ties and some zeros
    r = wilcoxon(d)
    assert r.method == EXACT and r.n == int((d != 0).sum()) > 50
    sr = signed_ranks(d)
    dist = null_distribution(sr.doubled)
    assert math.isclose(dist.sum(), 1.0, rel_tol=1e-12)
    approx = wilcoxon(d, exact_up_to=0)
    assert approx.method == NORMAL and abs(approx.p - r.p) < 0.01  # they agree at this size


@settings(max_examples=150, deadline=None)
@given(st.lists(coarse, min_size=1, max_size=60))
def test_normal_approximation_equals_scipys(d):
    assume(any(x != 0 for x in d))
    got = wilcoxon(d, exact_up_to=0)
    want = scipy_stats.wilcoxon(d, correction=True, method="approx").pvalue
    assert got.method == NORMAL and math.isclose(got.p, want, rel_tol=1e-9, abs_tol=1e-15)


@pytest.mark.parametrize("exact_up_to", [400, 0])
@pytest.mark.parametrize("n", [3, 4, 6, 18, 40])
def test_smallest_p_is_the_same_methods_p_for_all_differences_one_way(n, exact_up_to):
    d = np.linspace(0.01, 0.2, n)
    r = wilcoxon(d, exact_up_to=exact_up_to)
    assert r.smallest_p == pytest.approx(r.p, rel=1e-12)  # all one way is the extreme
    worse = wilcoxon(np.r_[d[:-1], -d[-1]], exact_up_to=exact_up_to)
    assert worse.smallest_p == pytest.approx(r.smallest_p) and worse.p > r.p
    if exact_up_to:
        assert r.smallest_p == min(1.0, 2.0 ** (1 - n))


def test_no_difference_is_no_evidence():
    assert wilcoxon([0.0, 0.0]).p == 1.0
    assert greater_approx_rows([[0.0, 0.0]]).tolist() == [1.0]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(coarse, min_size=5, max_size=5), min_size=1, max_size=6))
def test_vectorised_rows_equal_scipy_row_by_row(rows):
    got = greater_approx_rows(np.array(rows))
    for p, d in zip(got, rows):
        if not any(d):
            assert p == 1.0
            continue
        want = scipy_stats.wilcoxon(d, alternative="greater", correction=True, method="approx")
        assert math.isclose(p, want.pvalue, rel_tol=1e-12, abs_tol=1e-15)


def _inverted_interval(d, level):
    """Brute force: the shifts between neighbouring Walsh averages that the exact test (by
    enumeration) does not reject at the interval's own level; their hull."""
    d = np.asarray(d, dtype=float)
    walsh = np.unique([(d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d))])
    mids = np.r_[walsh[0] - 1, (walsh[1:] + walsh[:-1]) / 2, walsh[-1] + 1]
    p = np.array([_enumerated_p(d - m, "two-sided") for m in mids])
    kept = np.flatnonzero(p > 1 - level + 1e-12)
    return walsh[kept[0] - 1], walsh[kept[-1]]  # gap k lies between walsh[k-1] and walsh[k]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-40, 60), min_size=6, max_size=11, unique=True))
@example([0, 1, 2, 3, 9, -33, 4, 5, 10, 11, -12])  # equal Walsh averages (-0.12)
def test_interval_is_the_inverted_exact_test(values):
    d = np.array(values) / 100
    iv = hodges_lehmann(d)
    walsh = [(d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d))]
    assert iv.estimate == pytest.approx(float(np.median(walsh)))
    assert iv.level >= 0.95
    # The brute force runs on the integers: Walsh averages of the hundredths that are equal in
    # exact arithmetic (-0.12 and (-0.33 + 0.09) / 2) differ in floating point, and a midpoint
    # between two such would be a shift the test is run at that is not between two averages.
    lo, hi = _inverted_interval(values, iv.level)
    assert (iv.low, iv.high) == pytest.approx((lo / 100, hi / 100))
    if not np.any(np.isclose(walsh, 0)):  # 0 between Walsh averages: agreement is exact
        p = wilcoxon(d).p
        assert iv.agrees and ((iv.low > 0 or iv.high < 0) == (p < 0.05))


def test_too_few_pairs_give_the_reachable_level_not_an_interval():
    five = hodges_lehmann([0.1, 0.2, 0.3, 0.25, 0.15])
    assert five.low is None and five.level == pytest.approx(1 - 2**-4)
    assert "at most 93.75 %" in five.note
    six = hodges_lehmann([0.1, 0.2, 0.3, 0.25, 0.15, 0.05])
    assert six.low is not None and six.low > 0 and wilcoxon([0.1, 0.2, 0.3, 0.25, 0.15, 0.05]).p
    assert hodges_lehmann([0.1]).note == "1 pair: no interval"


def test_a_small_bootstrap_excludes_zero_where_the_exact_interval_does_not():
    """The reason the bootstrap is not reported below 20 units."""
    from adaptor_score.stats import paired_bootstrap_interval

    d = [0.02, 0.01, 0.03, 0.015, -0.002]
    lo, _ = paired_bootstrap_interval(d, 2000, 0)
    assert lo > 0 and wilcoxon(d).p >= 0.125 and hodges_lehmann(d).low is None


def test_the_worked_example_in_the_docs_is_what_the_code_gives():
    from pathlib import Path

    from adaptor_score.stats import paired_bootstrap_interval

    doc = (Path(__file__).parents[2] / "docs" / "statistics.md").read_text(encoding="utf-8")
    five = [0.04, -0.01, 0.03, 0.02, 0.05]
    lo, hi = paired_bootstrap_interval(five, 2000, 0)
    assert f"[+{lo:.3f}, +{hi:.3f}]" in doc
    r, iv = wilcoxon(five), hodges_lehmann(five)
    assert f"p = {r.p:g}" in doc and f"5 pairs: {r.smallest_p:g}" in doc
    assert f"+{iv.estimate:.3f}" in doc and f"{iv.level * 100:g} %" in doc
    ten = [0.04, -0.01, 0.03, 0.02, 0.05, 0.01, 0.03, -0.02, 0.06, 0.02]
    r, iv = wilcoxon(ten), hodges_lehmann(ten)
    assert f"p = {r.p:.4f}" in doc and f"Hodges–Lehmann +{iv.estimate:.3f}" in doc
    assert f"[+{iv.low:.3f}, +{iv.high:.3f}] at {iv.level * 100:.1f} %" in doc


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_difference_that_is_not_a_number_is_refused_not_counted_positive(bad):
    from adaptor_score.signrank import hodges_lehmann, wilcoxon

    d = [0.1, -0.2, 0.05, bad, 0.3]
    for fn in (lambda: wilcoxon(d), lambda: wilcoxon(d, "greater"), lambda: hodges_lehmann(d)):
        with pytest.raises(ValueError, match="finite"):
            fn()

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptor_score.metrics import DetectionMetric, close_label_mask, ratios, score_frames
from adaptor_score.published import published_scan


def test_ratios_from_counts():
    assert ratios(3, 1, 2) == (0.75, 0.6, 2 * 3 / (2 * 3 + 1 + 2))
    ppv, tpr, f1 = ratios(3, 1, 2)
    assert math.isclose(f1, 2 * ppv * tpr / (ppv + tpr))


def test_zero_denominator_convention():
    assert ratios(0, 0, 0) == (1.0, 1.0, 1.0)
    assert ratios(0, 0, 4) == (0.0, 0.0, 0.0)  # no predictions at all: no crash, PPV 0
    assert ratios(0, 3, 0) == (0.0, 0.0, 0.0)  # no labels: TPR 0


def test_counts_are_summed_over_frames_not_averaged():
    # Frame A: 1 TP of 1; frame B: 0 TP, 3 FP, 3 FN. Averaging frame F1 would give 0.5.
    s = score_frames(
        [np.array([[0, 0]]), np.array([[100, 100], [110, 100], [120, 100]])],
        [np.array([[1, 0]]), np.array([[0, 0], [10, 0], [20, 0]])],
        radii=(6,),
    ).summary()[0]
    assert (s.tp, s.fp, s.fn) == (1, 3, 3)
    assert s.f1 == 2 / (2 + 3 + 3)


def test_rmse_is_mean_over_frames_of_per_frame_rms_nearest_distance():
    preds = [np.array([[0, 0], [0, 4]]), np.array([[10, 0]]), np.zeros((0, 2)), np.array([[1, 1]])]
    labels = [
        np.array([[0, 3]]),
        np.array([[10, 6], [40, 40]]),
        np.array([[5, 5]]),
        np.zeros((0, 2)),
    ]
    fs = score_frames(preds, labels, radii=(6,))
    # frame 0: distances 3 and 1 -> sqrt((9 + 1) / 2); frame 1: 6; frames 2, 3 not computable
    np.testing.assert_allclose(fs.rmse[:2], [math.sqrt(5), 6.0])
    assert np.isnan(fs.rmse[2:]).all()
    s = fs.summary()[0]
    assert s.rmse_images == 2 and s.images == 4
    assert math.isclose(s.rmse, (math.sqrt(5) + 6) / 2)


def test_rmse_none_when_no_frame_qualifies():
    s = score_frames([np.zeros((0, 2))], [np.array([[1, 1]])]).summary()[0]
    assert s.rmse is None and s.rmse_images == 0


def test_close_points_and_their_true_positives():
    labels = [np.array([[0, 0], [10, 0], [100, 100], [200, 200]])]
    assert close_label_mask(labels).tolist() == [True, True, False, False]
    preds = [np.array([[0, 1], [100, 101]])]
    s = score_frames(preds, labels, radii=(6,)).summary()[0]
    assert (s.close_labels, s.close_tp, s.other_labels, s.other_tp) == (2, 1, 2, 1)
    assert s.close_tp_share == 0.5 and s.other_tp_share == 0.5


def test_close_boundary_is_inclusive():
    assert close_label_mask([np.array([[0, 0], [9, 12]])]).tolist() == [True, True]
    assert close_label_mask([np.array([[0, 0], [9, 12.01]])]).tolist() == [False, False]


def brute_counts(pred, label, r):
    tp = len(published_scan(pred, label, r))
    return tp, len(pred) - tp, len(label) - tp


coords = st.tuples(st.integers(0, 30), st.integers(0, 30))


@settings(max_examples=100, deadline=None)
@given(
    frames=st.lists(
        st.tuples(st.lists(coords, max_size=10), st.lists(coords, max_size=10)),
        min_size=1,
        max_size=8,
    )
)
def test_accumulator_matches_brute_force_totals(frames):
    metric = DetectionMetric(radii=(4, 6, 10))
    for p, g in frames:
        metric.update(p, g)
    got = metric.compute().summary()
    for s in got:
        totals = np.sum([brute_counts(p, g, s.radius) for p, g in frames], axis=0)
        assert (s.tp, s.fp, s.fn) == tuple(int(x) for x in totals)
        assert (s.ppv, s.tpr, s.f1) == ratios(*totals)


def test_group_summaries():
    fs = score_frames(
        [np.array([[0, 0]]), np.zeros((0, 2))],
        [np.array([[0, 0]]), np.array([[5, 5]])],
        keys=["a", "b"],
    )
    groups = fs.group_summaries(["x", "y"])
    assert groups["x"][0].tp == 1 and groups["y"][0].fn == 1
    assert fs.group_summaries([None, "y"]).keys() == {"y"}


def test_update_rejects_non_finite():
    import pytest

    with pytest.raises(ValueError, match="non-finite"):
        DetectionMetric().update([[float("nan"), 0]], [[0, 0]], key="k")


def _summary_by_mask(fs, sel):
    """The reference: one group's sums computed from its frames alone (fancy-indexed copies)."""
    rm = fs.rmse[sel]
    rm = rm[~np.isnan(rm)]
    out = []
    for j in range(len(fs.radii)):
        tp = int(fs.tp[sel, j].sum())
        dist = float(fs.tp_distance[sel, j].sum())
        dist_sq = float(fs.tp_distance_sq[sel, j].sum())
        out.append(
            (
                tp,
                int(fs.n_pred[sel].sum()) - tp,
                int(fs.n_label[sel].sum()) - tp,
                float(rm.mean()) if rm.size else None,
                int(rm.size),
                int(sel.sum()),
                int(fs.close_labels[sel].sum()),
                int(fs.close_tp[sel, j].sum()),
                dist / tp if tp else None,
                float(np.sqrt(dist_sq / tp)) if tp else None,
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60)), max_size=6),
            st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60)), max_size=6),
            st.sampled_from(["a", "b", "c", None]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_group_summaries_equal_each_group_summed_alone_to_the_last_bit(frames):
    """One sorted pass for all groups must give exactly (==, not close) what summing each
    group's frames alone gives: float sums in the same order."""
    fs = score_frames(
        [np.array(p, dtype=float).reshape(-1, 2) for p, _, _ in frames],
        [np.array(g, dtype=float).reshape(-1, 2) for _, g, _ in frames],
        radii=(2.0, 6.0, 9.5),
    )
    groups = [g for _, _, g in frames]
    got = fs.group_summaries(groups)
    assert list(got) == list(dict.fromkeys(g for g in groups if g is not None))
    for g, summaries in got.items():
        sel = np.array([x == g for x in groups])
        want = _summary_by_mask(fs, sel)
        have = [
            (
                s.tp,
                s.fp,
                s.fn,
                s.rmse,
                s.rmse_images,
                s.images,
                s.close_labels,
                s.close_tp,
                s.tp_distance_mean,
                s.tp_distance_rms,
            )
            for s in summaries
        ]
        assert have == want
    assert [(s.tp, s.fp, s.fn, s.rmse) for s in fs.summary()] == [
        w[:4] for w in _summary_by_mask(fs, np.ones(len(frames), dtype=bool))
    ]

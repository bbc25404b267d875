import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptor_score import matching
from adaptor_score.matching import match_frames, match_points, pair_index
from adaptor_score.published import published_scan


def sorted_greedy(pred, label, r):
    """Greedy over pairs sorted by (distance asc, prediction desc, label desc)."""
    pairs = []
    for i, p in enumerate(pred):
        for j, g in enumerate(label):
            d = math.sqrt((p[0] - g[0]) ** 2 + (p[1] - g[1]) ** 2)
            if d <= r:
                pairs.append((d, -i, -j))
    pairs.sort()
    used_p, used_l, out = set(), set(), []
    for d, i, j in pairs:
        if -i in used_p or -j in used_l:
            continue
        used_p.add(-i)
        used_l.add(-j)
        out.append((-i, -j, d))
    return out


coords = st.tuples(st.integers(0, 24), st.integers(0, 24))
frame_st = st.tuples(st.lists(coords, max_size=14), st.lists(coords, max_size=14))


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(frame_st, min_size=1, max_size=6), radius=st.integers(0, 12))
def test_batch_matches_published_scan(frames, radius):
    preds = [np.array(p, dtype=float).reshape(-1, 2) for p, _ in frames]
    labels = [np.array(g, dtype=float).reshape(-1, 2) for _, g in frames]
    m = match_frames(preds, labels, radius)
    for f, (p, g) in enumerate(frames):
        want = published_scan(p, g, radius)
        assert want == sorted_greedy(p, g, radius)
        sel = m.frame == f
        got = {
            (int(a), int(b), float(d))
            for a, b, d in zip(m.pred[sel], m.label[sel], m.distance[sel])
        }
        assert got == set(want)


@settings(max_examples=150, deadline=None)
@given(frame=frame_st, radii=st.lists(st.integers(0, 12), min_size=1, max_size=4))
def test_one_pass_gives_every_smaller_radius(frame, radii):
    p, g = (np.array(x, dtype=float).reshape(-1, 2) for x in frame)
    big = match_frames([p], [g], max(radii))
    tp = big.tp_per_frame(1, radii)[0]
    for r, count in zip(radii, tp):
        assert count == len(published_scan(frame[0], frame[1], r))


@settings(max_examples=100, deadline=None)
@given(
    frame=st.tuples(
        st.lists(
            st.tuples(st.floats(0, 50, allow_nan=False), st.floats(0, 50, allow_nan=False)),
            max_size=12,
        ),
        st.lists(
            st.tuples(st.floats(0, 50, allow_nan=False), st.floats(0, 50, allow_nan=False)),
            max_size=12,
        ),
    )
)
def test_float_coordinates_match_reference(frame):
    p, g = (np.array(x, dtype=float).reshape(-1, 2) for x in frame)
    got = {tuple(x) for x in match_points(p, g, 6.0).tolist()}
    assert got == {(i, j) for i, j, _ in published_scan(frame[0], frame[1], 6.0)}


def test_tie_keeps_last_prediction_then_last_label():
    # Two predictions at distance 5 from one label: the later prediction wins.
    m = match_points(np.array([[5, 0], [0, 5]]), np.array([[0, 0]]), 6)
    assert m.tolist() == [[1, 0]]
    # One prediction at distance 5 from two labels: the later label wins.
    m = match_points(np.array([[0, 0]]), np.array([[3, 4], [4, 3]]), 6)
    assert m.tolist() == [[0, 1]]


def test_tie_order_changes_true_positives():
    # p0 and p1 are both 1 px from l0; only p0 can also reach l1. Keeping the last prediction
    # (p1) for l0 frees p0 for l1: 2 TP. The opposite rule would give 1 TP.
    pred = np.array([[0, 0], [2, 0]])
    label = np.array([[1, 0], [-5, 0]])
    assert len(match_points(pred, label, 5)) == 2
    assert published_scan(pred.tolist(), label.tolist(), 5) == [(1, 0, 1.0), (0, 1, 5.0)]


def test_exact_radius_counts():
    assert len(match_points(np.array([[0, 0]]), np.array([[6, 0]]), 6)) == 1
    assert len(match_points(np.array([[0, 0]]), np.array([[6, 1]]), 6)) == 0
    assert len(match_points(np.array([[0, 0]]), np.array([[3, 4]]), 5)) == 1


def test_empty_frames():
    m = match_frames(
        [np.zeros((0, 2)), np.array([[1.0, 1.0]]), np.zeros((0, 2))],
        [np.array([[1.0, 1.0]]), np.zeros((0, 2)), np.zeros((0, 2))],
        6,
    )
    assert len(m.frame) == 0
    assert np.isnan(m.nearest_sq).all() and m.nearest_sq.shape == (1,)
    assert match_frames([], [], 6).tp_per_frame(0, [6]).shape == (0, 1)


def test_chunking_gives_the_same_result(monkeypatch):
    rng = np.random.default_rng(0)
    preds = [rng.integers(0, 60, (rng.integers(0, 20), 2)).astype(float) for _ in range(40)]
    labels = [rng.integers(0, 60, (rng.integers(0, 20), 2)).astype(float) for _ in range(40)]
    whole = match_frames(preds, labels, 8)
    monkeypatch.setattr(matching, "_PAIRS_PER_CHUNK", 50)
    chunked = match_frames(preds, labels, 8)
    assert len(whole.frame) > 0
    assert sorted(zip(whole.frame, whole.pred, whole.label)) == sorted(
        zip(chunked.frame, chunked.pred, chunked.label)
    )
    np.testing.assert_array_equal(whole.nearest_sq, chunked.nearest_sq)


def test_nearest_distance_ignores_radius_and_one_to_one():
    m = match_frames([np.array([[0.0, 0.0], [1.0, 0.0]])], [np.array([[0.0, 30.0]])], 6)
    np.testing.assert_allclose(m.nearest_sq, [900.0, 901.0])


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="shape"):
        match_frames([np.zeros((3, 3))], [np.zeros((1, 2))], 6)
    with pytest.raises(ValueError, match="2 label frames"):
        match_frames([np.zeros((1, 2))], [np.zeros((1, 2))] * 2, 6)
    with pytest.raises(ValueError, match="max_radius"):
        match_frames([np.zeros((1, 2))], [np.zeros((1, 2))], float("nan"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12))
def test_pair_index_lists_every_pair_of_each_frame_grouped_by_row(sizes):
    n = np.array([a for a, _ in sizes], dtype=np.int64)
    m = np.array([b for _, b in sizes], dtype=np.int64)
    row, column, per_row = pair_index(n, m)
    expected, r0, c0 = [], 0, 0
    for a, b in sizes:
        expected += [(r0 + i, c0 + j) for i in range(a) for j in range(b)]
        r0, c0 = r0 + a, c0 + b
    assert list(zip(row.tolist(), column.tolist())) == expected
    assert per_row.tolist() == [b for a, b in sizes for _ in range(a)]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=25),
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=25),
    st.integers(1, 40),
)
def test_large_frame_slices_equal_the_published_loop(pred, label, budget):
    """A frame above the pair budget is matched in slices of its predictions; with integer
    coordinates (ties and exact-radius pairs everywhere) it must equal the published loop."""
    old = matching._PAIRS_PER_CHUNK
    matching._PAIRS_PER_CHUNK = budget
    try:
        m = match_frames(
            [np.array(pred, float).reshape(-1, 2)], [np.array(label, float).reshape(-1, 2)], 4
        )
    finally:
        matching._PAIRS_PER_CHUNK = old
    expected = published_scan(pred, label, 4)
    assert sorted(zip(m.pred.tolist(), m.label.tolist())) == sorted((i, j) for i, j, _ in expected)


def test_point_flood_memory_is_bounded_by_slices():
    """200,000 predictions against 30 labels: the slices keep temporaries at the pair budget."""
    import tracemalloc

    rng = np.random.default_rng(1)
    pred = rng.uniform(0, 512, (200_000, 2))
    label = rng.uniform(0, 512, (30, 2))
    tracemalloc.start()
    m = match_frames([pred], [label], 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(m.pred) <= 30
    # 6 M pairs unsliced would need several arrays of 6 M x 8 bytes (~48 MB each).
    assert peak < 40e6, peak

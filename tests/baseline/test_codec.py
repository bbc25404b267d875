import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptor_baseline.codec import HeatmapCodec, decode_heatmaps, render_heatmap


def separated_points(draw_list, min_gap):
    pts = []
    for p in draw_list:
        if all(np.hypot(p[0] - q[0], p[1] - q[1]) >= min_gap for q in pts):
            pts.append(p)
    return np.array(pts, dtype=float).reshape(-1, 2)


@pytest.mark.parametrize(
    "dist, kw",
    [
        ("gaussian", dict(sigma=1)),
        ("gaussian", dict(sigma=2)),
        ("gaussian", dict(sigma=3)),
        ("gaussian", dict(sigma=4)),
        ("tanh", dict(alpha=7)),
        ("tanh", dict(alpha=10.5)),
    ],
)
@settings(max_examples=40, deadline=None)
@given(raw=st.lists(st.tuples(st.floats(12, 500), st.floats(12, 276)), min_size=1, max_size=12))
def test_encode_decode_recovers_separated_points(dist, kw, raw):
    codec = HeatmapCodec(dist, heatmap_size=(512, 288), **kw)
    spread = kw.get("sigma", kw.get("alpha", 0) / 3.5)
    pts = separated_points(raw, 6 * spread + 2)
    got = codec.decode(codec.encode(pts))[0]
    assert len(got) == len(pts)
    d = np.hypot(got[:, None, 0] - pts[None, :, 0], got[:, None, 1] - pts[None, :, 1]).min(axis=0)
    assert d.max() < 0.5


def test_scaled_heatmap_grid_round_trip():
    codec = HeatmapCodec("gaussian", sigma=1.5, heatmap_size=(128, 72))
    pts = np.array([[100.0, 50.0], [400.2, 200.7]])
    got = codec.decode(codec.encode(pts, image_size=(512, 288)), image_size=(512, 288))[0]
    assert np.abs(got - pts).max() < 0.5 * 4  # within half a heatmap pixel, in image pixels


def test_binary_marks_every_point_and_overlaps_take_the_max():
    m = render_heatmap(np.array([[5.4, 5.4]]), (12, 12), "binary", radius=0.2)
    assert m.sum() == 1 and m[5, 5] == 1
    g = render_heatmap(np.array([[5.0, 5.0], [6.0, 5.0]]), (12, 12), sigma=1)
    assert g.max() == 1.0 and g[5, 5] == 1.0  # max, not sum
    t = render_heatmap(np.array([[5.0, 5.0]]), (12, 12), "tanh", alpha=7)
    assert t[5, 5] == 1.0 and 0 < t[5, 7] < 1


def test_decode_batch_and_empty():
    hm = np.zeros((3, 1, 20, 30), np.float32)
    hm[1, 0] = render_heatmap(np.array([[4.0, 4.0], [20.0, 10.0]]), (30, 20), sigma=1)
    out = decode_heatmaps(hm)
    assert [len(o) for o in out] == [0, 2, 0]
    np.testing.assert_allclose(out[1], [[4, 4], [20, 10]], atol=0.1)
    assert render_heatmap(np.zeros((0, 2)), (5, 5)).sum() == 0


def test_points_outside_leave_only_their_inside_spread():
    h = render_heatmap(np.array([[-1.0, 5.0]]), (10, 10), sigma=2)
    assert 0 < h.max() < 1


def test_tanh_is_the_authors_profile():
    from math import pi, tanh

    h = render_heatmap(np.array([[20.0, 10.0]]), (41, 21), "tanh", alpha=7.0)
    for d in (0, 1, 2, 3, 5):
        assert float(h[10, 20 + d]) == pytest.approx(1 - tanh(pi * d / 7.0), abs=1e-6)
    assert float(h[10, 20 + 7]) == pytest.approx(1 - tanh(pi), abs=1e-6)
    assert float(h[10, 20 + 8]) == 0.0  # beyond the reach (alpha)


def test_overlaps_add_and_cut_at_one_or_take_the_maximum():
    pts = np.array([[10.0, 10.0], [13.0, 10.0]])
    summed = render_heatmap(pts, (30, 20), sigma=2.0)
    maxed = render_heatmap(pts, (30, 20), sigma=2.0, combine="max")
    assert float(summed[10, 10]) == 1.0  # 1 + exp(-9/8) cut at 1
    assert float(summed[10, 11]) == pytest.approx(
        min(1.0, np.exp(-1 / 8) + np.exp(-4 / 8)), abs=1e-6
    )
    assert float(maxed[10, 11]) == pytest.approx(np.exp(-1 / 8), abs=1e-6)
    assert float(maxed[10, 11]) < float(summed[10, 11])
    with pytest.raises(ValueError, match="combine"):
        render_heatmap(pts, (30, 20), combine="mean")


def test_variant2_masks_are_single_pixels_by_default():
    codec = HeatmapCodec("gaussian", heatmap_size=(32, 16))
    mask = codec.encode_binary(np.array([[5.4, 7.6], [20.0, 3.0]]))
    assert mask.sum() == 2 and mask[8, 5] == 1 and mask[3, 20] == 1
    disc = codec.encode_binary(np.array([[20.0, 8.0]]), radius=1.0)
    assert disc.sum() == 5

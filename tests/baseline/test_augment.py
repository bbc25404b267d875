import numpy as np
import pytest
import torch

from adaptor_baseline.augment import AugmentConfig, PointAugmenter
from adaptor_baseline.codec import render_heatmap

GEOMETRY_ONLY = AugmentConfig(
    p=1.0, pixel_shift=0, brightness=0, contrast=None, saturation=None, hue=0
)


def test_points_stay_on_their_dots():
    torch.manual_seed(0)
    pts = torch.tensor([[100.3, 50.7], [300.0, 200.0], [256.0, 144.0], [60.0, 250.0]])
    dots = torch.from_numpy(render_heatmap(pts.numpy(), (512, 288), sigma=2.0))
    img = dots[None, None].repeat(4, 3, 1, 1)
    aug = PointAugmenter(GEOMETRY_ONLY)
    out, moved = aug(img, [pts] * 4)
    checked = 0
    for b in range(4):
        hm = out[b, 0].numpy()
        for x, y in moved[b].numpy():
            assert hm[int(round(y)), int(round(x))] > 0.75
            checked += 1
        # every bright dot left in the image has a point on it
        from adaptor_baseline.codec import decode_heatmaps

        found = decode_heatmaps(hm)[0]
        for fx, fy in found:
            assert np.hypot(moved[b][:, 0].numpy() - fx, moved[b][:, 1].numpy() - fy).min() < 1.0
    assert checked >= 8


def test_points_that_leave_the_frame_are_dropped_and_padding_is_black():
    torch.manual_seed(3)
    cfg = AugmentConfig(
        p=1.0,
        hflip=False,
        vflip=False,
        degrees=0,
        shear=0,
        translate=0.1,
        brightness=0,
        contrast=None,
        saturation=None,
        hue=0,
    )
    img = torch.ones(16, 3, 64, 96)
    pts = torch.tensor([[0.5, 30.0], [95.0, 30.0], [48.0, 0.5], [48.0, 63.0], [48.0, 32.0]])
    out, moved = PointAugmenter(cfg)(img, [pts] * 16)
    assert min(len(m) for m in moved) < 5  # some edge points left the frame
    for m in moved:
        assert ((m[:, 0] >= 0) & (m[:, 0] <= 95) & (m[:, 1] >= 0) & (m[:, 1] <= 63)).all()
    assert (out == 0).any()  # constant black padding came in, nothing mirrored


def test_no_points_at_all():
    out, moved = PointAugmenter()(torch.rand(2, 3, 32, 32), [torch.zeros(0, 2), torch.zeros(0, 2)])
    assert out.shape == (2, 3, 32, 32) and [len(m) for m in moved] == [0, 0]


def _colour_only(**kw) -> AugmentConfig:
    base = dict(p=1.0, hflip=False, vflip=False, degrees=0, translate=0, shear=0, pixel_shift=0)
    base.update(brightness=0, contrast=None, saturation=None, hue=0)
    base.update(kw)
    return AugmentConfig(**base)


def test_contrast_scales_around_the_mean_and_brightness_multiplies():
    torch.manual_seed(0)
    img = torch.rand(8, 3, 32, 48) * 0.5 + 0.25  # mean 0.5, away from the clipping range
    low = PointAugmenter(_colour_only(contrast=(0.3, 0.3)))(img, [torch.zeros(0, 2)] * 8)[0]
    grey = lambda x: (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).mean(dim=(1, 2))  # noqa: E731
    assert torch.allclose(
        grey(low), grey(img), atol=1e-3
    )  # the mean stays (it only darkened before)
    assert float(low.std()) == pytest.approx(0.3 * float(img.std()), rel=0.05)
    black = torch.zeros(2, 3, 8, 8)
    out = PointAugmenter(_colour_only(brightness=0.2))(black, [torch.zeros(0, 2)] * 2)[0]
    assert float(out.abs().max()) == 0.0  # multiplicative: black stays black


def test_pixel_shift_is_at_most_one_percent_per_channel():
    torch.manual_seed(1)
    img = torch.full((16, 3, 8, 8), 0.5)
    out = PointAugmenter(_colour_only(pixel_shift=0.01))(img, [torch.zeros(0, 2)] * 16)[0]
    diff = (out - img).amax(dim=(2, 3))
    assert float(diff.abs().max()) <= 0.01 + 1e-6 and float(diff.abs().max()) > 0
    assert torch.allclose(out, img + (out - img)[:, :, :1, :1])  # one offset per image and channel

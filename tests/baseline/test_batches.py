import torch

from adaptor_baseline.batches import random_crops


def _scene(n_images: int = 64, seed: int = 0):
    """Frames of 512 x 288 with one label each, in a corner region that a uniform 128 x 128
    window covers rarely (about 6 % of windows)."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n_images, 1, 2, generator=g) * torch.tensor([40.0, 30.0])
    # channels 0 and 1 hold each pixel's x and y, so a window tells where it was cut
    ys, xs = torch.meshgrid(torch.arange(288.0), torch.arange(512.0), indexing="ij")
    images = torch.stack([xs, ys, torch.zeros_like(xs)]).expand(n_images, 3, 288, 512)
    return images, [p for p in xy]


def _share_with_label(foreground: float, seed: int = 0) -> float:
    images, points = _scene()
    gen = torch.Generator().manual_seed(seed)
    _, moved = random_crops(images, points, (128, 128), gen, foreground)
    return sum(len(p) > 0 for p in moved) / len(moved)


def test_foreground_share_controls_how_often_a_window_holds_a_label():
    uniform = _share_with_label(0.0)
    half = _share_with_label(0.5)
    always = _share_with_label(1.0)
    assert uniform < 0.25
    assert always == 1.0
    assert 0.35 < half < 0.8


def test_windows_hold_the_right_pixels_and_shifted_points():
    images, points = _scene(16)
    gen = torch.Generator().manual_seed(3)
    crops, moved = random_crops(images, points, (128, 96), gen, 1.0)
    assert crops.shape == (16, 3, 96, 128)
    for i in range(16):
        x0, y0 = _origin(images[i], crops[i])
        assert torch.allclose(moved[i], points[i] - torch.tensor([x0, y0], dtype=torch.float32))
        p = moved[i][0]
        # the label sits in the central half unless the frame's edge clamped the window
        assert (0 <= p[0] <= 127) and (0 <= p[1] <= 95)


def _origin(image: torch.Tensor, crop: torch.Tensor) -> tuple[int, int]:
    x0, y0 = int(crop[0, 0, 0]), int(crop[1, 0, 0])
    h, w = crop.shape[-2:]
    assert torch.equal(image[:, y0 : y0 + h, x0 : x0 + w], crop)
    return x0, y0


def test_without_foreground_the_draws_are_unchanged():
    """foreground=0 consumes the generator exactly as uniform crops always did, so runs made
    before the option existed repeat exactly."""
    images, points = _scene(8)
    a, _ = random_crops(images, points, (128, 128), torch.Generator().manual_seed(5))
    b, _ = random_crops(images, points, (128, 128), torch.Generator().manual_seed(5), 0.0)
    assert torch.equal(a, b)


def test_frames_without_labels_get_uniform_windows():
    images = torch.rand(6, 3, 288, 512, generator=torch.Generator().manual_seed(0))
    empty = [torch.zeros((0, 2)) for _ in range(6)]
    crops, moved = random_crops(images, empty, (128, 128), torch.Generator().manual_seed(1), 1.0)
    assert crops.shape == (6, 3, 128, 128) and all(len(p) == 0 for p in moved)


def test_a_label_lands_in_the_central_half_of_its_window():
    """Rotation by up to 60 degrees follows the crop: a label in the window's central half stays
    in the window, one at its edge would often be turned out."""
    images, _ = _scene(200)
    g = torch.Generator().manual_seed(2)
    points = [
        torch.tensor([[256.0, 144.0]]) + torch.randn(1, 2, generator=g) * 20 for _ in range(200)
    ]
    _, moved = random_crops(images, points, (128, 128), torch.Generator().manual_seed(4), 1.0)
    xy = torch.cat(moved)
    assert len(xy) == 200
    assert xy.min() >= 31 and xy.max() <= 97
    assert xy.min() < 40 and xy.max() > 88  # spread over the central half, not one spot

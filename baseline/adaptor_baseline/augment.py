"""Augmentation that moves the points with the image (kornia), the paper's set by default.

Geometric transforms act on the image and on the points together, and targets are rendered
from the moved points afterwards, so no rasterised mask is ever warped and nothing is rounded.
Padding is constant black: mirrored padding would copy sutures without copying their labels.
Points that leave the frame are dropped.

The paper's list, each applied with probability 0.5: horizontal and vertical flips, rotation
±60°, translation ±10 %, shear ±0.1 (a shear factor: ±atan(0.1) = ±5.7°), pixel shift ±1 % (a
per-channel offset of up to 0.01 of the value range), and colour changes. Colour is one
``ColorJitter`` step as in the authors' code (torchvision's formulas, as their albumentations
step uses): brightness multiplies by a factor in 0.8-1.2, contrast blends with the image's grey
mean by a factor in 0.3-1.5 (the authors' range; the paper's text says 0.3-0.5, which would only
ever lower contrast), saturation 0.5-2.0, hue ±0.1.
"""

from __future__ import annotations

import math

import kornia.augmentation as K
import torch
from torch import nn

from adaptor_baseline.config import AugmentConfig

__all__ = ["AugmentConfig", "PointAugmenter", "augment_with_points", "build_pipeline"]


def build_pipeline(cfg: AugmentConfig) -> K.AugmentationSequential:
    ops: list[nn.Module] = []
    if cfg.hflip:
        ops.append(K.RandomHorizontalFlip(p=cfg.p))
    if cfg.vflip:
        ops.append(K.RandomVerticalFlip(p=cfg.p))
    if cfg.degrees:
        ops.append(K.RandomRotation(cfg.degrees, p=cfg.p))
    if cfg.translate:
        ops.append(K.RandomAffine(0.0, translate=(cfg.translate, cfg.translate), p=cfg.p))
    if cfg.shear:
        deg = math.degrees(math.atan(cfg.shear))
        ops.append(K.RandomAffine(0.0, shear=(-deg, deg, -deg, deg), p=cfg.p))
    if cfg.pixel_shift:
        s = cfg.pixel_shift
        ops.append(K.RandomRGBShift(s, s, s, p=cfg.p))
    jitter = {
        "brightness": cfg.brightness,
        "contrast": tuple(cfg.contrast) if cfg.contrast else 0.0,
        "saturation": tuple(cfg.saturation) if cfg.saturation else 0.0,
        "hue": cfg.hue,
    }
    if any(jitter.values()):
        ops.append(K.ColorJitter(**jitter, p=cfg.p))
    return K.AugmentationSequential(*ops, data_keys=["input", "keypoints"])


def augment_with_points(
    pipeline: K.AugmentationSequential, images: torch.Tensor, points: list[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Augment a batch and move its points.

    Args:
        images: ``(B, 3, H, W)`` float in [0, 1].
        points: per image ``(N_b, 2)`` float ``(x, y)`` in pixels (pixel-centre convention).

    Returns:
        The augmented images ``(B, 3, H, W)`` and, per image, the moved points that stay inside
        ``[0, W - 1] x [0, H - 1]``.
    """
    b, _, h, w = images.shape
    n = max((len(p) for p in points), default=0)
    if n == 0:
        return pipeline(images, torch.zeros(b, 1, 2))[0], [torch.zeros(0, 2) for _ in range(b)]
    padded = torch.zeros(b, n, 2, dtype=images.dtype)
    valid = torch.zeros(b, n, dtype=torch.bool)
    for i, p in enumerate(points):
        padded[i, : len(p)] = p.to(images.dtype)
        valid[i, : len(p)] = True
    out, moved = pipeline(images, padded)
    inside = (
        (moved[..., 0] >= 0)
        & (moved[..., 0] <= w - 1)
        & (moved[..., 1] >= 0)
        & (moved[..., 1] <= h - 1)
    )
    keep = valid & inside
    return out.clamp(0, 1), [moved[i][keep[i]] for i in range(b)]


class PointAugmenter(nn.Module):
    """Module form of :func:`augment_with_points`.

    Example:
        >>> torch.manual_seed(0) and None
        >>> aug = PointAugmenter(AugmentConfig(p=1.0, degrees=0, translate=0, shear=0))
        >>> img, pts = aug(torch.rand(1, 3, 32, 48), [torch.tensor([[10.0, 5.0]])])
        >>> pts[0].tolist()  # both flips: x -> 47 - x, y -> 31 - y
        [[37.0, 26.0]]
    """

    def __init__(self, cfg: AugmentConfig | None = None):
        super().__init__()
        self.cfg = cfg or AugmentConfig()
        self.pipeline = build_pipeline(self.cfg)

    def forward(self, images: torch.Tensor, points: list[torch.Tensor]):
        return augment_with_points(self.pipeline, images, points)

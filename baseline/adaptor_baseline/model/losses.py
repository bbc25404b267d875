"""Loss functions of the paper, as plain functions on ``(B, 1, H, W)`` tensors in [0, 1].

* ``heatmap_loss = MSE + 1 - Dice`` (both stages of Variant 1, the baseline's only stage),
* ``fbeta_loss = 1 - F_beta`` (beta = 2; Variant 2's second stage against binary masks). The
  authors' code minimised F_beta itself; here the score is maximised, as the paper intends.

Soft scores are computed per image and averaged over the batch (``over="image"``), or over the
whole batch as one volume (``over="batch"``, the authors' code: ``sum`` over every pixel of every
image). ``eps`` keeps an empty target with an empty prediction at a perfect score
(Dice = F_beta = 1).

Why both: on training crops many images hold no label. Per image, such a crop's Dice is
``1 / (sum(p) + 1)``: its gradient is largest when the output is already faint, so each empty
crop keeps pushing a nearly empty output to exactly 0 (for a crop of 16 x 16 pixels with an
output of 0.002, 28 times the gradient the same pixels get over the batch, and 56 times what the
labelled crop beside it gets: tests/baseline/test_optim.py). Over the batch, the empty crops only
add their false positives to the batch's denominator. The demo's recipe uses the batch
(benchmarks/results/demo-seeds.json).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _dims(pred: torch.Tensor, over: str) -> tuple[int, ...]:
    if over not in ("image", "batch"):
        raise ValueError(f"over must be 'image' or 'batch' (got {over!r})")
    return tuple(range(1 if over == "image" else 0, pred.ndim))


def soft_dice(
    pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0, over: str = "image"
) -> torch.Tensor:
    """Soft Dice ``(2 sum(p t) + eps) / (sum(p) + sum(t) + eps)``: per image ``(B,)``, or one
    value for the whole batch ``()`` with ``over="batch"``.

    Example:
        >>> t = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
        >>> soft_dice(t, t, eps=0).tolist(), soft_dice(1 - t, t, eps=0).tolist()
        ([1.0], [0.0])
        >>> two = torch.cat([t, torch.zeros_like(t)])  # a labelled and an empty image
        >>> soft_dice(two, two).tolist(), round(float(soft_dice(two, two, over="batch")), 4)
        ([1.0, 1.0], 1.0)
        >>> noisy = two + torch.tensor([0.0, 0.5]).view(2, 1, 1, 1)  # the empty one predicts 2.0
        >>> [round(v, 3) for v in soft_dice(noisy, two).tolist()], round(float(soft_dice(noisy, two, over="batch")), 3)
        ([1.0, 0.333], 0.6)
    """
    dims = _dims(pred, over)
    inter = (pred * target).sum(dims)
    return (2 * inter + eps) / (pred.sum(dims) + target.sum(dims) + eps)


def dice_loss(
    pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0, over: str = "image"
) -> torch.Tensor:
    """``1 - mean soft Dice``."""
    return 1 - soft_dice(pred, target, eps, over).mean()


def heatmap_loss(
    pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0, over: str = "image"
) -> torch.Tensor:
    """``MSE + 1 - Dice`` (the paper's L1, and L2 of Variant 1).

    Example:
        >>> t = torch.zeros(1, 1, 4, 4); t[0, 0, 1, 1] = 1
        >>> float(heatmap_loss(t, t))
        0.0
    """
    return F.mse_loss(pred, target) + dice_loss(pred, target, eps, over)


def soft_fbeta(
    pred: torch.Tensor,
    target: torch.Tensor,
    beta: float = 2.0,
    eps: float = 1.0,
    over: str = "image",
) -> torch.Tensor:
    """Soft F_beta per image ``(B,)``, or over the batch ``()`` (formula (1) of the paper):
    ``((1 + b^2) TP + eps) / ((1 + b^2) TP + b^2 FN + FP + eps)`` with soft counts
    ``TP = sum(p t)``, ``FN = sum((1 - p) t)``, ``FP = sum(p (1 - t))``.

    Example:
        >>> t = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
        >>> p = torch.tensor([[[[1.0, 0.0, 1.0, 0.0]]]])  # TP 1, FN 1, FP 1
        >>> round(float(soft_fbeta(p, t, beta=2.0, eps=0)), 4)  # 5 / (5 + 4 + 1)
        0.5
    """
    dims = _dims(pred, over)
    tp = (pred * target).sum(dims)
    fn = ((1 - pred) * target).sum(dims)
    fp = (pred * (1 - target)).sum(dims)
    b2 = beta * beta
    return ((1 + b2) * tp + eps) / ((1 + b2) * tp + b2 * fn + fp + eps)


def fbeta_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    beta: float = 2.0,
    eps: float = 1.0,
    over: str = "image",
) -> torch.Tensor:
    """``1 - mean soft F_beta``: minimising it maximises F_beta."""
    return 1 - soft_fbeta(pred, target, beta, eps, over).mean()

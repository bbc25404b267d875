"""Loss functions of the paper, as plain functions on ``(B, 1, H, W)`` tensors in [0, 1].

* ``heatmap_loss = MSE + 1 - Dice`` (both stages of Variant 1, the baseline's only stage),
* ``fbeta_loss = 1 - F_beta`` (beta = 2; Variant 2's second stage against binary masks). The
  authors' code minimised F_beta itself; here the score is maximised, as the paper intends.

Soft scores are computed per image and averaged over the batch; ``eps`` keeps an empty target
with an empty prediction at a perfect score (Dice = F_beta = 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_dice(pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice per image ``(B,)``: ``(2 sum(p t) + eps) / (sum(p) + sum(t) + eps)``.

    Example:
        >>> t = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
        >>> soft_dice(t, t, eps=0).tolist(), soft_dice(1 - t, t, eps=0).tolist()
        ([1.0], [0.0])
    """
    dims = tuple(range(1, pred.ndim))
    inter = (pred * target).sum(dims)
    return (2 * inter + eps) / (pred.sum(dims) + target.sum(dims) + eps)


def dice_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """``1 - mean soft Dice``."""
    return 1 - soft_dice(pred, target, eps).mean()


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """``MSE + 1 - Dice`` (the paper's L1, and L2 of Variant 1).

    Example:
        >>> t = torch.zeros(1, 1, 4, 4); t[0, 0, 1, 1] = 1
        >>> float(heatmap_loss(t, t))
        0.0
    """
    return F.mse_loss(pred, target) + dice_loss(pred, target, eps)


def soft_fbeta(
    pred: torch.Tensor, target: torch.Tensor, beta: float = 2.0, eps: float = 1.0
) -> torch.Tensor:
    """Soft F_beta per image ``(B,)`` (formula (1) of the paper):
    ``((1 + b^2) TP + eps) / ((1 + b^2) TP + b^2 FN + FP + eps)`` with soft counts
    ``TP = sum(p t)``, ``FN = sum((1 - p) t)``, ``FP = sum(p (1 - t))``.

    Example:
        >>> t = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
        >>> p = torch.tensor([[[[1.0, 0.0, 1.0, 0.0]]]])  # TP 1, FN 1, FP 1
        >>> round(float(soft_fbeta(p, t, beta=2.0, eps=0)), 4)  # 5 / (5 + 4 + 1)
        0.5
    """
    dims = tuple(range(1, pred.ndim))
    tp = (pred * target).sum(dims)
    fn = ((1 - pred) * target).sum(dims)
    fp = (pred * (1 - target)).sum(dims)
    b2 = beta * beta
    return ((1 + b2) * tp + eps) / ((1 + b2) * tp + b2 * fn + fp + eps)


def fbeta_loss(
    pred: torch.Tensor, target: torch.Tensor, beta: float = 2.0, eps: float = 1.0
) -> torch.Tensor:
    """``1 - mean soft F_beta``: minimising it maximises F_beta."""
    return 1 - soft_fbeta(pred, target, beta, eps).mean()

"""The two differentiable layers the paper adds after the U-Net's sigmoid output.

Stage 1, :class:`GaussianLayer`: a fixed Gaussian filter of ``sigma_2`` (kornia). By default
the authors' 3 x 3 kernel with reflected borders: at sigma_2 >= 1 such a kernel is nearly a 3 x 3
box (its corner weight is 0.075 at sigma 1, 0.102 at sigma 2 against 0.111 for a box), so larger
sigma_2 values change it little. ``size=0`` grows the kernel with sigma (``2 ceil(3 sigma) + 1``,
this toolkit's earlier layer) so that sigma_2 means what the paper's text says; zero padding is
the other border option.

Stage 2, :class:`SoftArgmaxLayer`: kornia's convolutional spatial soft-argmax (3x3 windows,
stride 1, padding 1), used for its value map ``val(X) = sum_p softmax(v_p / T) v_p``, the paper's
"local non-maximum suppression". What it really does (``benchmarks/soft_argmax_temperature.py``
measures it): at the default ``T = 1`` on sigmoid outputs in [0, 1], the softmax over a window is
nearly uniform, so the layer is close to a 3x3 mean filter: on a noisy heatmap its output differs
from a 3x3 mean by 0.05 and from 3x3 max pooling by 2.6 (mean absolute differences relative to
the input's own local variation). As ``T -> 0`` it becomes max pooling, which widens peaks. At
every temperature it fills the valley between two peaks 6 px apart (valley/peak 0.135 -> 0.38 to
0.41): it makes close sutures harder, not easier, to separate.

``mode="suppress"`` is a setting that does suppress: the output keeps each pixel's value times
the ratio of its own softmax weight to the largest weight in its window,
``v_c * exp((v_c - max_window v) / T)``; a local maximum keeps its value, a pixel below its
neighbourhood's maximum is damped by ``exp(-gap / T)`` (T = 0.05: a pixel 0.1 below its
neighbour keeps 14 %). It is differentiable and has no parameters, and it deepens the valley of
the same pair to 0.009 (T = 0.1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from kornia.geometry.subpix import conv_soft_argmax2d
from torch import nn


def gaussian_layer(
    x: torch.Tensor, sigma: float, size: int = 3, border: str = "reflect"
) -> torch.Tensor:
    """Gaussian filter of ``sigma`` px, ``(B, C, H, W) -> (B, C, H, W)``.

    Args:
        size: odd kernel size (the authors': 3), or 0 for ``2 * ceil(3 sigma) + 1``.
        border: ``"reflect"`` (the authors') or ``"constant"`` (zeros).

    Example:
        >>> x = torch.zeros(1, 1, 9, 9); x[0, 0, 4, 4] = 1
        >>> round(float(gaussian_layer(x, 1.0).sum()), 4), round(float(gaussian_layer(x, 1.0)[0, 0, 4, 4]), 4)
        (1.0, 0.2042)
    """
    if sigma <= 0:
        return x
    k = size or 2 * math.ceil(3.0 * sigma) + 1
    return gaussian_blur2d(x, (k, k), (sigma, sigma), border_type=border)


class GaussianLayer(nn.Module):
    """Module form of :func:`gaussian_layer`."""

    def __init__(self, sigma: float, size: int = 3, border: str = "reflect"):
        super().__init__()
        self.sigma, self.size, self.border = float(sigma), int(size), border

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_layer(x, self.sigma, self.size, self.border)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}, size={self.size or 'grows with sigma'}, border={self.border!r}"


def conv_soft_argmax_map(
    x: torch.Tensor, temperature: float = 1.0, mode: str = "value"
) -> torch.Tensor:
    """Value map of the 3x3 convolutional soft-argmax, ``(B, C, H, W) -> (B, C, H, W)``.

    Args:
        mode: ``"value"`` (kornia's soft-max-pooled value, the paper's layer) or ``"suppress"``
            (damp every pixel below its window's maximum; see the module docstring).

    Example:
        >>> x = torch.tensor([[[[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.8, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
        >>> [round(v, 3) for v in conv_soft_argmax_map(x, 0.05, "suppress")[0, 0, 1].tolist()]
        [0.0, 1.0, 0.015, 0.0]
    """
    if mode == "value":
        _, value = conv_soft_argmax2d(
            x,
            (3, 3),
            (1, 1),
            (1, 1),
            temperature=temperature,
            normalized_coordinates=False,
            output_value=True,
        )
        return value.reshape(x.shape)
    if mode == "suppress":
        local_max = F.max_pool2d(x, 3, stride=1, padding=1)
        return x * torch.exp((x - local_max) / temperature)
    raise ValueError(f"mode must be 'value' or 'suppress', got {mode!r}")


class SoftArgmaxLayer(nn.Module):
    """Module form of :func:`conv_soft_argmax_map` with the temperature exposed."""

    def __init__(self, temperature: float = 1.0, mode: str = "value"):
        super().__init__()
        self.temperature = float(temperature)
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv_soft_argmax_map(x, self.temperature, self.mode)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, mode={self.mode!r}"

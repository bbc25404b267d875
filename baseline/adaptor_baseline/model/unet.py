"""The U-Net of the paper's baseline: ReLU, batch norm, dropout, bilinear up-sampling.

Two architectures, both ``(B, 3, H, W) -> (B, 1, H, W)`` logits:

* ``"authors"`` (default): the network of the authors' published code. Encoder channels
  ``w, 2w, 4w, 8w`` and a bottom block of ``8w`` (not ``16w``: with bilinear up-sampling the
  bottom is halved); each decoder block takes the concatenation of ``2c`` channels, goes through
  ``c`` and leaves with ``c / 2`` (``w`` at the top). A block is conv 3x3 -> ReLU -> BN ->
  dropout -> conv 3x3 -> ReLU -> BN (batch norm after the activation), with per-level dropout
  rising from 0.3 at the top to 0.5 at the deepest encoder level (0.4 at the bottom), mirrored on
  the way up, as published. Up-sampling is ``x2`` bilinear with aligned corners, padded to the
  skip's size. Weights: Kaiming normal (fan-in, ReLU), zero biases. At ``w = 16``, depth 4:
  1.08 M parameters and 11.3 GFLOP per 288 x 512 forward pass (``tests/baseline/test_model.py``
  counts both with ``torch.utils.flop_counter``).
* ``"symmetric"``: this toolkit's earlier network, kept for comparison: channels doubling to
  ``16w`` at the bottom, (conv -> BN -> ReLU) x 2 blocks, ``Dropout2d`` at one rate, PyTorch's
  default initialisation. 1.96 M parameters, 15.8 GFLOP at ``w = 16``.

Example:
    >>> net = UNet(width=4, depth=2)
    >>> net(torch.zeros(1, 3, 36, 50)).shape
    torch.Size([1, 1, 36, 50])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def authors_dropout(depth: int) -> tuple[list[float], float]:
    """Per-level dropout of the authors' network: encoder levels ``0 .. depth-1`` from 0.3 to 0.5
    (``[0.3, 0.37, 0.43, 0.5]`` at depth 4, as published) and 0.4 at the bottom.

    >>> authors_dropout(4)
    ([0.3, 0.37, 0.43, 0.5], 0.4)
    """
    if depth == 1:
        return [0.3], 0.4
    return [round(0.3 + 0.2 * i / (depth - 1), 2) for i in range(depth)], 0.4


class AuthorsBlock(nn.Sequential):
    """conv 3x3 -> ReLU -> BN -> Dropout -> conv 3x3 -> ReLU -> BN."""

    def __init__(self, c_in: int, c_out: int, c_mid: int | None = None, dropout: float = 0.0):
        c_mid = c_mid or c_out
        super().__init__(
            nn.Conv2d(c_in, c_mid, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(c_mid),
            nn.Dropout(dropout),
            nn.Conv2d(c_mid, c_out, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(c_out),
        )


class SymmetricBlock(nn.Sequential):
    """(conv 3x3 -> BN -> ReLU) x 2, with ``Dropout2d`` after."""

    def __init__(self, c_in: int, c_out: int, dropout: float = 0.0):
        layers: list[nn.Module] = [
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)


class UNet(nn.Module):
    """U-Net returning one channel of logits (see the module docstring).

    Args:
        in_channels: 3 for RGB.
        width: channels at the first level (the paper: 16).
        depth: number of down-sampling steps (the paper: 4).
        dropout: None for the architecture's own rates (authors: per level, see
            :func:`authors_dropout`; symmetric: 0.1), or one rate for every block.
        architecture: ``"authors"`` or ``"symmetric"``.
        head_prior: None (the architecture's own initialisation), or the output bias, e.g. -4:
            a foreground prior of sigmoid(-4) = 0.018 (see ``ModelConfig.head_prior``).

    Shapes: ``(B, in_channels, H, W) -> (B, 1, H, W)``; H and W need not be multiples of
    ``2 ** depth`` (up-sampled maps are padded to the skip's size).
    """

    def __init__(
        self,
        in_channels: int = 3,
        width: int = 16,
        depth: int = 4,
        dropout: float | None = None,
        architecture: str = "authors",
        head_prior: float | None = None,
    ):
        super().__init__()
        self.architecture = architecture
        if architecture == "authors":
            self._build_authors(in_channels, width, depth, dropout)
        elif architecture == "symmetric":
            self._build_symmetric(in_channels, width, depth, 0.1 if dropout is None else dropout)
        else:
            raise ValueError(f"architecture must be 'authors' or 'symmetric', got {architecture!r}")
        if head_prior is not None:
            nn.init.constant_(self.head.bias, head_prior)

    def _build_authors(self, c_in: int, w: int, depth: int, dropout: float | None) -> None:
        levels, bottom = authors_dropout(depth)
        if dropout is not None:
            levels, bottom = [dropout] * depth, dropout
        chans = [w * 2**i for i in range(depth)]
        self.inc = AuthorsBlock(c_in, chans[0], dropout=levels[0])
        self.down = nn.ModuleList(
            AuthorsBlock(chans[i - 1], chans[i], dropout=levels[i]) for i in range(1, depth)
        )
        self.down.append(AuthorsBlock(chans[-1], chans[-1], dropout=bottom))
        self.up = nn.ModuleList(
            AuthorsBlock(2 * chans[i], chans[i] // 2 if i else chans[0], chans[i], levels[i])
            for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(chans[0], 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def _build_symmetric(self, c_in: int, w: int, depth: int, dropout: float) -> None:
        chans = [w * 2**i for i in range(depth + 1)]
        self.inc = SymmetricBlock(c_in, chans[0])
        self.down = nn.ModuleList(
            SymmetricBlock(chans[i], chans[i + 1], dropout) for i in range(depth)
        )
        self.up = nn.ModuleList(
            SymmetricBlock(chans[i + 1] + chans[i], chans[i], dropout if i > 0 else 0.0)
            for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(chans[0], 1, 1)

    def _upsample(self, y: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if self.architecture == "symmetric":
            return F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True)
        dy, dx = skip.shape[-2] - y.shape[-2], skip.shape[-1] - y.shape[-1]
        if dy or dx:
            y = F.pad(y, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for block in self.up:
            skip = skips.pop()
            y = block(torch.cat([skip, self._upsample(y, skip)], dim=1))
        return self.head(y)

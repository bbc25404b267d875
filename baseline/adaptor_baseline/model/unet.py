"""U-Net with ReLU, batch norm, dropout and bilinear up-sampling (the paper's, width configurable)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Sequential):
    """(conv 3x3 -> BN -> ReLU) x 2, with dropout after, ``(B, C_in, H, W) -> (B, C_out, H, W)``."""

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
    """U-Net returning one channel of logits.

    Args:
        in_channels: 3 for RGB.
        width: channels at the first level (the paper: 16); doubled at each level down.
        depth: number of down-sampling steps.
        dropout: ``Dropout2d`` rate in each block.

    Shapes: ``(B, in_channels, H, W) -> (B, 1, H, W)``; H and W need not be multiples of
    ``2 ** depth`` (skips are padded to match).

    Example:
        >>> net = UNet(width=4, depth=2)
        >>> net(torch.zeros(1, 3, 36, 50)).shape
        torch.Size([1, 1, 36, 50])
    """

    def __init__(self, in_channels: int = 3, width: int = 16, depth: int = 4, dropout: float = 0.1):
        super().__init__()
        chans = [width * 2**i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, chans[0])
        self.down = nn.ModuleList(DoubleConv(chans[i], chans[i + 1], dropout) for i in range(depth))
        self.up = nn.ModuleList(
            DoubleConv(chans[i + 1] + chans[i], chans[i], dropout if i > 0 else 0.0)
            for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(chans[0], 1, 1)
        # Start from a low foreground probability (sigmoid(-4) = 0.018): suture pixels are rare,
        # and from the default 0.5 the first epochs only learn to push the background down.
        nn.init.constant_(self.head.bias, -4.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for block in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([skip, y], dim=1))
        return self.head(y)

"""Turning loaded frames into training batches: random crops, cached frames, targets."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from adaptor_baseline.codec import HeatmapCodec


def random_crops(
    images: torch.Tensor,
    points: list[torch.Tensor],
    crop: tuple[int, int],
    gen: torch.Generator,
    foreground: float = 0.0,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A random ``crop = (w, h)`` window per image, points shifted and those outside dropped.

    ``foreground``: the share of windows placed around a label (nnU-Net's foreground
    oversampling): one of the image's points, drawn at random, lands uniformly in the central
    half of the window (so the rotation that follows rarely turns it out), the window clamped to
    the image. Images without points always get a uniform window. With 0 every window is uniform
    (the default): on 512 x 288 frames a 128 x 128 window holds no label 52.9 % (simulator) and
    58.4 % (intra-operative) of the time on the demo's data (``benchmarks/bench_empty_crops.py``),
    and the per-image Dice rewards an all-zero output on each of those.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> im, pts = torch.zeros(4, 3, 288, 512), [torch.tensor([[500.0, 280.0]])] * 4
        >>> _, moved = random_crops(im, pts, (128, 128), g, foreground=1.0)
        >>> [len(p) for p in moved]
        [1, 1, 1, 1]
    """
    b, _, h, w = images.shape
    cw, ch = min(crop[0], w), min(crop[1], h)
    out = torch.empty(b, images.shape[1], ch, cw, dtype=images.dtype)
    moved = []
    for i in range(b):
        x0 = int(torch.randint(0, w - cw + 1, (1,), generator=gen))
        y0 = int(torch.randint(0, h - ch + 1, (1,), generator=gen))
        if foreground > 0 and len(points[i]) and float(torch.rand((), generator=gen)) < foreground:
            k = int(torch.randint(0, len(points[i]), (1,), generator=gen))
            px, py = (float(v) for v in points[i][k])
            u, v = torch.rand(2, generator=gen).tolist()
            x0 = int(round(px - cw * (0.25 + 0.5 * u)))
            y0 = int(round(py - ch * (0.25 + 0.5 * v)))
            x0, y0 = min(max(x0, 0), w - cw), min(max(y0, 0), h - ch)
        out[i] = images[i, :, y0 : y0 + ch, x0 : x0 + cw]
        p = points[i] - torch.tensor([x0, y0], dtype=points[i].dtype)
        keep = (p[:, 0] >= 0) & (p[:, 0] <= cw - 1) & (p[:, 1] >= 0) & (p[:, 1] <= ch - 1)
        moved.append(p[keep])
    return out, moved


def make_targets(
    codec: HeatmapCodec, points: list[torch.Tensor], size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Heatmaps ``(B, 1, H, W)`` (and, when the codec makes them, Variant 2's binary masks)
    rendered from the points on a ``size`` grid."""
    c = dataclasses.replace(codec, heatmap_size=tuple(size))
    heat = np.stack([c.encode(p.numpy()) for p in points])[:, None]
    masks = None
    if c.masks:
        masks = torch.from_numpy(np.stack([c.encode_binary(p.numpy()) for p in points])[:, None])
    return torch.from_numpy(heat), masks


class CachedFrames(torch.utils.data.Dataset):
    """Decoded frames kept in memory (small sets; avoids decoding PNGs every epoch)."""

    def __init__(self, items: list[dict]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]

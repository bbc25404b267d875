"""torch Dataset/DataLoader over an AdaptOR tree; augmentation and targets happen per batch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from adaptor_baseline.data.layout import FRAME_SIZE, FrameRecord, index_dataset, load_sample


class AdaptorFrames(Dataset):
    """Frames of a dataset at a working size.

    Each item: ``{"image": (3, H, W) uint8, "points": (N, 2) float32 in the working grid,
    "key": "folder/video/frame", "scale": (sx, sy), "size": (W0, H0)}``.

    Args:
        records: frames (from :func:`index_dataset`), or a dataset folder.
        size: working ``(width, height)``; images and points are scaled to it.
    """

    def __init__(
        self, records: Sequence[FrameRecord] | str | Path, size: tuple[int, int] = FRAME_SIZE
    ):
        if isinstance(records, (str, Path)):
            records = index_dataset(records)
        self.records = list(records)
        self.size = tuple(size)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> dict:
        s = load_sample(self.records[i], self.size)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(s.image.transpose(2, 0, 1))),
            "points": torch.from_numpy(s.points.astype(np.float32)),
            "key": str(s.key),
            "scale": s.scale,
            "size": s.original_size,
        }


def collate_frames(items: list[dict]) -> dict:
    """Stack images ``(B, 3, H, W)`` uint8; keep points, keys, scales and sizes as lists."""
    return {
        "image": torch.stack([it["image"] for it in items]),
        "points": [it["points"] for it in items],
        "key": [it["key"] for it in items],
        "scale": [it["scale"] for it in items],
        "size": [it["size"] for it in items],
    }


def frame_loader(
    dataset: AdaptorFrames,
    batch_size: int = 4,
    shuffle: bool = False,
    workers: int = 0,
    seed: int = 0,
) -> DataLoader:
    """A DataLoader with :func:`collate_frames`, seeded shuffling, persistent workers if any."""
    gen = torch.Generator()
    gen.manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        collate_fn=collate_frames,
        generator=gen,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
    )

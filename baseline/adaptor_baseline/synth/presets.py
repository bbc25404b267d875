"""Dataset shapes: which folders, videos and frames a synthetic dataset has.

``a1``, ``a2`` and ``b1`` recreate the three datasets of the paper: the surgery and simulation
folder names of A.1 and B.1 are the authors' published ones (``presets/published-folds.csv``, the
same file ``--folds preset:published`` reads), so the published folds work on them unchanged;
their frame counts are the published split's, scaled to the paper's totals (A.1 2,376 frames,
B.1 2,708; the published split lists 2,438 and 2,732). A.2 is five test folders of 100 frames,
named like the challenge's test folder (``aicm1``). Videos hold at most :data:`VIDEO_FRAMES`
frames each (the release does not say how long its videos are).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

from adaptor_baseline.data.folds import preset_path

VIDEO_FRAMES = 100


@dataclass(frozen=True)
class FolderSpec:
    name: str
    videos: tuple[tuple[str, int], ...]  # (video name, frames)

    @property
    def frames(self) -> int:
        return sum(n for _, n in self.videos)


@dataclass(frozen=True)
class DatasetPreset:
    domain: str
    description: str
    folders: tuple[FolderSpec, ...]

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.folders)


def video_name(domain: str, index: int) -> str:
    return f"VID{index:03d}_0" if domain == "sim" else f"Ch1_{index:03d}_V"


def split_videos(domain: str, frames: int, per_video: int = VIDEO_FRAMES) -> tuple:
    """``frames`` as consecutive videos of at most ``per_video`` frames, as equal as possible."""
    n = max(1, math.ceil(frames / per_video))
    sizes = [frames // n + (i < frames % n) for i in range(n)]
    return tuple((video_name(domain, i), s) for i, s in enumerate(sizes))


def scale_to_total(counts: list[int], total: int) -> list[int]:
    """Integer counts proportional to ``counts`` that sum to ``total`` (largest remainders).

    >>> scale_to_total([702, 372, 544, 820], 2376)
    [684, 363, 530, 799]
    """
    exact = [c * total / sum(counts) for c in counts]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _published(dataset: str) -> list[tuple[str, int]]:
    with open(preset_path("published"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["dataset"] == dataset]
    return [(r["surgery_folder"], int(r["frames_in_published_split"])) for r in rows]


def _from_published(dataset: str, domain: str, total: int, text: str) -> DatasetPreset:
    rows = _published(dataset)
    frames = scale_to_total([n for _, n in rows], total)
    folders = tuple(FolderSpec(name, split_videos(domain, n)) for (name, _), n in zip(rows, frames))
    return DatasetPreset(domain, text, folders)


def dataset_preset(name: str) -> DatasetPreset:
    """The shape of ``a1``, ``a2`` or ``b1``."""
    if name == "a1":
        return _from_published("intraop_A1", "intraop", 2376, "A.1: 4 surgeries, 2,376 frames")
    if name == "b1":
        return _from_published("sim_B1", "sim", 2708, "B.1: 10 simulations, 2,708 frames")
    if name == "a2":
        folders = tuple(FolderSpec(f"aicm{i}", split_videos("intraop", 100)) for i in range(1, 6))
        return DatasetPreset("intraop", "A.2: 5 test surgeries x 100 frames", folders)
    raise ValueError(f"unknown dataset preset {name!r}; known: {', '.join(PRESET_NAMES)}")


PRESET_NAMES = ("a1", "a2", "b1")


def folder_name(domain: str, index: int, seed: int) -> str:
    """Release-like folder names: date-like prefix plus a short id (``20210101_sim03``)."""
    tag = "sim" if domain == "sim" else "op"
    return f"2021{(seed % 12) + 1:02d}{index + 1:02d}_{tag}{index:02d}"


def grid(domain: str, surgeries: int, videos: int, frames: int, seed: int) -> DatasetPreset:
    """``surgeries`` folders of ``videos`` videos of ``frames`` frames each."""
    folders = tuple(
        FolderSpec(
            folder_name(domain, s, seed),
            tuple((video_name(domain, v), frames) for v in range(videos)),
        )
        for s in range(surgeries)
    )
    return DatasetPreset(domain, f"{surgeries} x {videos} videos x {frames} frames", folders)

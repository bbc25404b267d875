"""Cross-validation folds over a dataset's frames.

* leave-one-folder-out (the paper's A.1: one surgery per fold),
* grouped folds: ``k`` folds of whole folders (the paper's B.1: two simulations per fold),
* a fold CSV (``folder[,video[,frame]],fold``, or with a header), read by the scoring package,
* the authors' split files (lines ``<folder>/<video> <frame> <side>``), one file per fold:
  ``splits:DIR`` takes every ``*.txt`` in DIR as one fold's validation frames (fold = file stem),
* the preset ``published``: the authors' published composition, shipped with the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from adaptor_score.folds import FoldFileError, assign_folds, leave_one_folder_out, read_fold_file
from adaptor_score.frames import FrameKey
from adaptor_score.safefiles import BadFile, read_text

PRESETS = {"published": "published-folds.csv"}


def grouped_folds(keys: Sequence[FrameKey], k: int) -> list[str]:
    """``k`` folds of whole folders, folders dealt round-robin in sorted order (fold ``1..k``).

    >>> keys = [FrameKey(f, "v", "0") for f in "abcde"]
    >>> grouped_folds(keys, 2)
    ['1', '2', '1', '2', '1']
    """
    folders = sorted({key.folder for key in keys})
    if not 1 <= k <= len(folders):
        raise ValueError(f"cannot make {k} folds from {len(folders)} folders")
    fold_of = {f: str(i % k + 1) for i, f in enumerate(folders)}
    return [fold_of[key.folder] for key in keys]


def preset_path(name: str) -> Path:
    if name not in PRESETS:
        raise ValueError(f"unknown fold preset {name!r}; known: {', '.join(PRESETS)}")
    # Beside the package's files (installed as package data), not via importlib.resources,
    # which cannot resolve an editable install's mapped package directory.
    return Path(__file__).resolve().parents[1] / "presets" / PRESETS[name]


def read_split_file(path: str | Path) -> set[FrameKey]:
    """Frames listed in one of the authors' split files (``<folder>/<video> <frame> <side>``).

    The side (left/right stereo image) is part of the frame name in our layout only when the
    release names frames that way; we keep the frame as written.
    """
    path = Path(path)
    try:
        text = read_text(path, 64 << 20)
    except BadFile as e:
        raise FoldFileError(path, str(e)) from None
    frames = set()
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2 or parts[0].count("/") != 1:
            raise FoldFileError(path, f"line {n}: expected '<folder>/<video> <frame> [side]'")
        folder, video = parts[0].split("/")
        frame = Path(parts[1]).stem
        if frame.isdigit():
            frame = f"{int(frame):06d}"
        frames.add(FrameKey(folder, video, frame))
    return frames


def folds_from_split_files(
    keys: Sequence[FrameKey], files: Mapping[str, str | Path]
) -> list[str | None]:
    """Fold of each frame from ``{fold: split file of its validation frames}``."""
    fold_of: dict[FrameKey, str] = {}
    for fold, f in files.items():
        for key in read_split_file(f):
            if key in fold_of and fold_of[key] != fold:
                raise FoldFileError(f, f"frame {key} is in folds {fold_of[key]} and {fold}")
            fold_of[key] = fold
    return [fold_of.get(k) for k in keys]


def split_files(folder: str | Path) -> dict[str, Path]:
    """``{fold: file}`` for every ``*.txt`` split file in ``folder`` (fold = file stem)."""
    folder = Path(folder)
    files = {f.stem: f for f in sorted(folder.glob("*.txt")) if f.is_file()}
    if not files:
        raise FoldFileError(folder, "no split files (*.txt, one per fold) in this folder")
    return files


def make_folds(keys: Sequence[FrameKey], spec: str | None = None) -> list[str | None]:
    """Folds from a spec: None/``folder`` (leave-one-folder-out), ``groups:K``, ``preset:NAME``,
    ``splits:DIR`` (the authors' split files, one per fold), or the path of a fold CSV."""
    if spec in (None, "", "folder"):
        return leave_one_folder_out(keys)
    if spec.startswith("groups:"):
        k = spec.split(":", 1)[1]
        if not k.isdigit():
            raise ValueError(f"groups:K needs a whole number of folds, got {spec!r}")
        return grouped_folds(keys, int(k))
    if spec.startswith("splits:"):
        return folds_from_split_files(keys, split_files(spec.split(":", 1)[1]))
    if spec.startswith("preset:"):
        return assign_folds(keys, preset_path(spec.split(":", 1)[1]))
    return assign_folds(keys, spec)


__all__ = [
    "FoldFileError",
    "folds_from_split_files",
    "grouped_folds",
    "leave_one_folder_out",
    "make_folds",
    "preset_path",
    "read_fold_file",
    "read_split_file",
    "split_files",
]

"""Reading a ground-truth tree: ``<root>/<folder>/<video>/point_labels/<frame>.json``.

The ground truth is the denominator of every score, so nothing in it is skipped quietly: a folder
that cannot be listed, a dangling symlink, a label file that is not a regular file or cannot be
read or decoded stops the run with :class:`GroundTruthError`, naming the path. Only names that are
not part of the layout (a README next to the surgery folders, files other than ``*.json`` in
``point_labels``) are ignored.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from adaptor_score.contract import LABEL_FOLDER
from adaptor_score.frames import FrameKey, InputFileError
from adaptor_score.jsonfiles import BadFile, decode_points_into, read_bytes
from adaptor_score.safefiles import kind_of

if TYPE_CHECKING:
    import numpy as np


class GroundTruthError(InputFileError):
    """A ground-truth file or folder that cannot be used; stops the run, naming the file."""


@dataclass
class GroundTruth:
    """Labelled points per frame, in a stable (sorted) frame order.

    Attributes:
        root: the tree it was read from.
        points: frame -> ``(M, 2)`` float64 ``(x, y)`` labels.
        sizes: frame -> ``(width, height)`` where the label file states it.
        files: frame -> the label file.
    """

    root: Path
    points: dict[FrameKey, np.ndarray]
    sizes: dict[FrameKey, tuple[int, int]] = field(default_factory=dict)
    files: dict[FrameKey, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[FrameKey]:
        return list(self.points)

    def __len__(self) -> int:
        return len(self.points)

    def subset(self, keys) -> GroundTruth:
        keys = [k for k in keys if k in self.points]
        return GroundTruth(
            self.root,
            {k: self.points[k] for k in keys},
            {k: self.sizes[k] for k in keys if k in self.sizes},
            {k: self.files[k] for k in keys if k in self.files},
        )


def _entries(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise GroundTruthError(path, f"cannot list the folder: {e.strerror or e}") from None


def _mode(entry: os.DirEntry) -> int:
    """The mode of what ``entry`` leads to (symlinks followed); dangling links stop the run."""
    try:
        return entry.stat().st_mode
    except OSError as e:
        what = "dangling symlink" if entry.is_symlink() else "cannot examine"
        raise GroundTruthError(entry.path, f"{what}: {e.strerror or e}") from None


def _subdirs(path: str) -> list[os.DirEntry]:
    return [e for e in _entries(path) if stat.S_ISDIR(_mode(e))]


def label_files(root: Path) -> list[tuple[FrameKey, str]]:
    """``(frame, file)`` for every ``<folder>/<video>/point_labels/*.json`` below ``root``."""
    out = []
    for folder in _subdirs(str(root)):
        for video in _subdirs(folder.path):
            # Listed, not probed: in a folder the user cannot list, a probe of point_labels says
            # "absent" and the video's frames would vanish from the denominator without a word.
            found = [e for e in _entries(video.path) if e.name == LABEL_FOLDER]
            if not found:
                continue
            labels = found[0].path
            if not stat.S_ISDIR(_mode(found[0])):
                raise GroundTruthError(labels, "is not a folder")
            for f in _entries(labels):
                if not f.name.lower().endswith(".json"):
                    continue
                if not f.is_file():  # the entry's type (a symlink is followed); else say what it is
                    mode = _mode(f)
                    if not stat.S_ISREG(mode):
                        raise GroundTruthError(f.path, f"not a regular file: it is {kind_of(mode)}")
                out.append((FrameKey(folder.name, video.name, f.name[: -len(".json")]), f.path))
    return out


def image_size(extra: dict) -> tuple[int, int] | None:
    """The ``(imageWidth, imageHeight)`` a label file states, when both are positive integers."""
    w, h = extra["imageWidth"], extra["imageHeight"]
    if type(w) is int and type(h) is int and w > 0 and h > 0:  # bool is not a size
        return w, h
    return None


@dataclass
class LabelData:
    """What the label files hold, in the order they were given: ``xy`` the points of all files
    one after the other (``x0, y0, x1, ...``), ``counts`` per file and the
    stated ``sizes`` (None where not stated)."""

    xy: list[float] | np.ndarray
    counts: list[int]
    sizes: list[tuple[int, int] | None]


def read_label_files(paths: list[str], out: LabelData | None = None) -> LabelData:
    """Read and decode label files in order (appending to ``out`` when given); the first that
    cannot be used raises :class:`GroundTruthError` naming it, after the files before it were
    appended."""
    out = LabelData([], [], []) if out is None else out
    for f in paths:
        try:
            _, n, extra = decode_points_into(read_bytes(f), out.xy)
        except BadFile as e:
            raise GroundTruthError(f, str(e)) from None
        out.counts.append(n)
        out.sizes.append(image_size(extra))
    return out


def assemble(root: Path, files: list[tuple[FrameKey, str]], data: LabelData) -> GroundTruth:
    """The :class:`GroundTruth` of ``files`` from their decoded ``data``: each frame's points are
    a view of one flat array."""
    import numpy as np  # here only: the label-reading helper process never assembles

    xy = np.array(data.xy, dtype=np.float64).reshape(-1, 2)
    gt = GroundTruth(root, {})
    start = 0
    for (key, f), n, size in zip(files, data.counts, data.sizes):
        gt.points[key] = xy[start : start + n]
        start += n
        if size is not None:
            gt.sizes[key] = size
        gt.files[key] = f
    return gt


def list_ground_truth(root: str | Path) -> list[tuple[FrameKey, str]]:
    """The label files of an AdaptOR tree (see :func:`label_files`); a missing or empty tree
    raises :class:`GroundTruthError`."""
    root = Path(root)
    if not root.is_dir():
        raise GroundTruthError(root, "ground-truth folder does not exist")
    files = label_files(root)
    if not files:
        raise GroundTruthError(
            root, f"no label files found (expected <folder>/<video>/{LABEL_FOLDER}/<frame>.json)"
        )
    return files


def load_ground_truth(root: str | Path) -> GroundTruth:
    """Read every label file of an AdaptOR tree; any broken file raises :class:`GroundTruthError`.

    Example:
        >>> import tempfile, json, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); f = d / "s1/v1/point_labels/000000.json"
        >>> f.parent.mkdir(parents=True); _ = f.write_text(json.dumps({"points": [{"x": 3, "y": 4}]}))
        >>> gt = load_ground_truth(d); gt.keys, gt.points[gt.keys[0]].tolist()
        ([FrameKey(folder='s1', video='v1', frame='000000')], [[3.0, 4.0]])
    """
    files = list_ground_truth(root)
    return assemble(Path(root), files, read_label_files([f for _, f in files]))

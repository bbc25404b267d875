"""The AdaptOR release layout: ``<root>/<folder>/<video>/images/<frame>.png`` with labels at
``<root>/<folder>/<video>/point_labels/<frame>.json``.

The same code reads the real release and our synthetic data. Images of another size than the
network's are resized, and the points scaled with them; the scale is kept so predictions go back
to the original pixel grid. Coordinates follow the pixel-centre convention: pixel ``(i, j)`` is
centred at ``x = i``, ``y = j``, so a resize by ``s`` maps ``x`` to ``(x + 0.5) * s - 0.5``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adaptor_score.contract import (
    FRAME_SIZE,
    IMAGE_FOLDER,
    IMAGE_SUFFIXES,
    LABEL_FOLDER,
    has_image_suffix,
    image_stem,
)
from adaptor_score.frames import FrameKey, InputFileError, key_from_relative_path
from adaptor_score.imagefile import ImageError, read_image
from adaptor_score.jsonfiles import BadFile, decode_points_file
from adaptor_score.safefiles import kind_of, read_bytes

__all__ = ["FRAME_SIZE", "IMAGE_SUFFIXES", "FrameRecord", "LabelError", "index_dataset"]


class LabelError(InputFileError):
    """A missing or malformed label file; names the file."""


@dataclass(frozen=True)
class FrameRecord:
    """One frame of a dataset: its identity, image file and label file (None when unlabelled)."""

    key: FrameKey
    image: Path
    labels: Path | None


def _image_stem(name: str) -> str | None:
    return image_stem(name) if has_image_suffix(name) else None


def _label_exists(label: Path) -> bool:
    """Whether ``label`` is a regular file; absent is False, anything unusable stops the run."""
    try:
        st = os.stat(label)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(label):
            raise LabelError(label, "dangling symlink") from None
        return False
    except OSError as e:
        raise LabelError(label, f"cannot examine the label file: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LabelError(label, f"not a regular file: it is {kind_of(st.st_mode)}")
    return True


def index_dataset(root: str | Path, require_labels: bool = False) -> list[FrameRecord]:
    """Every image below ``root`` (any depth), sorted by frame, with its label file if present.

    Frames are identified as ``<folder>/<video>/[images/]<frame>``. With ``require_labels``, an
    image without ``point_labels/<frame>.json`` raises :class:`LabelError` naming the file.
    """
    root = Path(root)
    if not root.is_dir():
        raise LabelError(root, "dataset folder does not exist")
    records = []

    def unreadable(e: OSError):  # os.walk skips a folder it cannot list, unless told
        raise LabelError(e.filename, f"cannot list the folder: {e.strerror or e}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d != LABEL_FOLDER)
        for name in sorted(filenames):
            stem = _image_stem(name)
            if stem is None:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root)
            key = key_from_relative_path(rel.with_name(stem + ".png"))
            if key is None:
                key = FrameKey("", "", stem)
            video_dir = path.parent.parent if path.parent.name == IMAGE_FOLDER else path.parent
            label = video_dir / LABEL_FOLDER / f"{stem}.json"
            if not _label_exists(label):
                if require_labels:
                    raise LabelError(label, f"missing label file for image {path}")
                label = None
            records.append(FrameRecord(key, path, label))
    records.sort(key=lambda r: r.key)
    keys = [r.key for r in records]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        paths = [str(r.image) for r in records if r.key == dup]
        raise LabelError(paths[0], f"several images for frame {dup}: {', '.join(paths)}")
    return records


def read_labels(path: str | Path) -> np.ndarray:
    """Labelled points ``(N, 2)`` float64 ``(x, y)`` of one label file; errors name the file."""
    try:
        _, pts, _ = decode_points_file(read_bytes(path))
    except BadFile as e:
        raise LabelError(path, str(e)) from None
    return pts


def load_image(path: str | Path) -> np.ndarray:
    """An image as ``(H, W, 3)`` uint8 RGB (:func:`adaptor_score.imagefile.read_image`: 16-bit
    and float data scaled by type, volumes, non-finite values and bombs refused);
    :class:`LabelError` naming the file otherwise."""
    try:
        return read_image(path)
    except ImageError as e:
        raise LabelError(path, e.problem) from None


def scale_points(points: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Map points through a resize by ``(sx, sy)`` in the pixel-centre convention.

    >>> scale_points(np.array([[0.0, 0.0], [511.0, 287.0]]), 0.5, 0.5).tolist()
    [[-0.25, -0.25], [255.25, 143.25]]
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return np.column_stack([(pts[:, 0] + 0.5) * sx - 0.5, (pts[:, 1] + 0.5) * sy - 0.5])


def unscale_points(points: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Inverse of :func:`scale_points`."""
    return scale_points(points, 1.0 / sx, 1.0 / sy)


@dataclass
class Sample:
    """A frame ready for the network: image at the working size, points in that grid, and the
    scale back to the original image (``original = unscale_points(points, *scale)``)."""

    key: FrameKey
    image: np.ndarray  # (H, W, 3) uint8
    points: np.ndarray  # (N, 2) float64, working grid
    scale: tuple[float, float]  # (sx, sy) original -> working
    original_size: tuple[int, int]  # (width, height)


def load_sample(record: FrameRecord, size: tuple[int, int] = FRAME_SIZE) -> Sample:
    """Load a frame and its labels at ``size`` = (width, height), scaling points with the image."""
    image = load_image(record.image)
    h, w = image.shape[:2]
    points = read_labels(record.labels) if record.labels is not None else np.zeros((0, 2))
    sx, sy = size[0] / w, size[1] / h
    if (w, h) != tuple(size):
        image = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
        points = scale_points(points, sx, sy)
    return Sample(record.key, image, points, (sx, sy), (w, h))

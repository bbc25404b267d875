"""Reading a participant's prediction tree, listing every problem instead of stopping.

Rules, so that no score changes silently:

* A file is used entirely or not at all.
* A file belongs to the frame named by its ``folderName``/``subfolderName``/``imageFileName``;
  without those fields, to the frame its path names (``<folder>/<video>/[point_labels/]<frame>``).
* A frame claimed by a broken file, by several files, or by none scores as having no
  predictions (its labels are false negatives) and is listed as a problem.
* Files naming frames that are not in the ground truth are listed and ignored.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adaptor_score.contract import DEFAULT_MAX_BYTES, MAX_TOTAL_BYTES
from adaptor_score.frames import FrameKey, InputFileError, Problem, key_from_relative_path
from adaptor_score.jsonfiles import BadFile, decode_points_file
from adaptor_score.safefiles import read_bytes, walk_files


@dataclass
class Predictions:
    """Usable predictions per frame, plus everything that was wrong."""

    points: dict[FrameKey, np.ndarray]
    files: dict[FrameKey, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)  # files read per format

    def get(self, key: FrameKey) -> np.ndarray:
        return self.points.get(key, np.zeros((0, 2)))


class _Budget:
    """Bytes the run may still read: all files together stay under ``MAX_TOTAL_BYTES``."""

    def __init__(self, total: int):
        self.left = total
        self.total = total

    def read(self, path: str, max_bytes: int) -> bytes:
        if self.left <= 0:
            raise BadFile(f"not read: the prediction files together exceed {self.total:,} bytes")
        raw = read_bytes(path, min(max_bytes, self.left))
        self.left -= len(raw)
        return raw


@dataclass
class Claim:
    """One file's claim on a frame: its points (None when it cannot be used, ``problem`` says
    why), the names it states (None when it states none) and the format read."""

    path: str
    points: np.ndarray | None
    fields: tuple[str, str, str] | None = None
    problem: str | None = None
    format: str | None = None


@dataclass
class ClaimedTree:
    """Every file below a prediction folder, placed on the frame it belongs to by the one rule
    that scoring and validation share: by its ``folderName``/``subfolderName``/
    ``imageFileName``; without them, by its path (``<folder>/<video>/[images|point_labels/]
    <frame>.json``)."""

    claims: dict[FrameKey, list[Claim]] = field(default_factory=dict)
    # files on no frame, each with its problem (and what it holds, when it could be decoded)
    unplaced: list[Claim] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)


_UNPLACEABLE = (
    "cannot tell which frame this is: no folderName/subfolderName/imageFileName and the path is"
    " not <folder>/<video>/<frame>.json"
)


def claim_tree(
    root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES
) -> ClaimedTree:
    """Read and place every ``*.json`` below ``root`` (see :class:`ClaimedTree`)."""
    out = ClaimedTree()
    prefix = os.path.join(str(root), "")
    budget = _Budget(max_total_bytes)
    for path, walk_problem in walk_files(root, (".json",)):
        if walk_problem is not None:
            # An unusable entry at a frame's place claims that frame, so the frame's problem
            # names the real cause rather than "no prediction file".
            by_path = key_from_relative_path(path[len(prefix) :])
            if by_path is not None:
                out.claims.setdefault(by_path, []).append(Claim(path, None, problem=walk_problem))
            else:
                out.unplaced.append(Claim(path, None, problem=walk_problem))
            continue
        try:
            fields, pts, extra = decode_points_file(budget.read(path, max_bytes))
        except BadFile as e:
            by_path = key_from_relative_path(path[len(prefix) :])
            if by_path is not None:
                out.claims.setdefault(by_path, []).append(Claim(path, None, problem=str(e)))
            else:
                out.unplaced.append(Claim(path, None, problem=str(e)))
            continue
        fmt = extra["format"]
        out.formats[fmt] = out.formats.get(fmt, 0) + 1
        if fields is not None:
            name = fields[2]
            dot = name.rfind(".")
            key = FrameKey(fields[0], fields[1], name[:dot] if dot > 0 else name)
        else:
            key = key_from_relative_path(path[len(prefix) :])
            if key is None:
                out.unplaced.append(Claim(path, pts, None, _UNPLACEABLE, fmt))
                continue
        out.claims.setdefault(key, []).append(Claim(path, pts, fields, format=fmt))
    return out


def _check_root(root: Path) -> None:
    """A prediction folder that is missing, not a folder or cannot be listed stops the run: a
    mistyped folder must not score 0 with exit 0."""
    if not root.is_dir():
        why = "is not a folder" if root.exists() else "does not exist"
        raise InputFileError(root, f"the prediction folder {why}; nothing was scored")
    try:
        with os.scandir(root):
            pass
    except OSError as e:
        raise InputFileError(
            root, f"cannot list the prediction folder: {e.strerror or e}"
        ) from None


def _settle(out: Predictions, key: FrameKey, got: list[Claim] | None, root: Path) -> None:
    """The prediction of one expected frame: its one usable file, or a problem (none, several)."""
    if not got:
        guess = root / key.folder / key.video / f"{key.frame}.json"
        out.problems.append(
            Problem(
                str(guess), f"no prediction file for frame {key}; scored as no predictions", key
            )
        )
    elif len(got) > 1:
        names = ", ".join(c.path for c in got)
        for c in got:
            out.problems.append(
                Problem(
                    c.path,
                    f"{len(got)} files claim frame {key} ({names}); scored as no predictions",
                    key,
                )
            )
    elif got[0].points is not None:
        out.points[key] = got[0].points
        out.files[key] = got[0].path


def load_predictions(
    root: str | Path,
    expected: Collection[FrameKey],
    max_bytes: int = DEFAULT_MAX_BYTES,
    ignore: Collection[FrameKey] = (),
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> Predictions:
    """Read every ``*.json`` below ``root`` and check it against the ``expected`` frames.

    Args:
        root: the prediction folder.
        expected: the frames to score; each missing one is a problem.
        max_bytes: larger files are refused.
        max_total_bytes: once the files read add up to this, further files are refused.
        ignore: frames known to the ground truth but not scored now (another fold's frames):
            predictions for them are skipped without a problem.
    """
    root = Path(root)
    expected = set(expected)
    ignore = set(ignore)
    out = Predictions({})
    claims: dict[FrameKey, list[Claim]] = {}
    _check_root(root)
    tree = claim_tree(root, max_bytes, max_total_bytes)
    out.formats = tree.formats
    out.problems.extend(Problem(c.path, c.problem) for c in tree.unplaced)
    for key, found in tree.claims.items():
        if key not in expected:
            if key not in ignore:
                for c in found:
                    note = f"; also: {c.problem}" if c.problem else ""
                    out.problems.append(
                        Problem(c.path, f"frame {key} is not in the ground truth{note}", key)
                    )
            continue
        for c in found:
            if c.problem is not None:
                out.problems.append(
                    Problem(c.path, f"{c.problem}; frame {key} scored as no predictions", key)
                )
        claims[key] = found

    for key in sorted(expected):
        _settle(out, key, claims.get(key), root)
    return out

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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from adaptor_score.contract import DEFAULT_MAX_BYTES, MAX_TOTAL_BYTES
from adaptor_score.frames import FrameKey, InputFileError, Problem, key_from_relative_path
from adaptor_score.jsonfiles import BadFile, decode_points_into
from adaptor_score.safefiles import read_bytes, walk_files

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Predictions:
    """Usable predictions per frame, plus everything that was wrong."""

    points: dict[FrameKey, np.ndarray]
    files: dict[FrameKey, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)  # files read per format

    def get(self, key: FrameKey) -> np.ndarray:
        import numpy as np  # not at the top: the file-reading helper process never needs it

        return self.points.get(key, np.zeros((0, 2)))


class Budget:
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


@dataclass(slots=True)
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


class FileRead(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """What reading one prediction file gave: its number of points (-1: not usable, ``problem``
    says why), the frame names it states, its format, and the bytes it counted against the
    total (:class:`Budget`)."""

    count: int
    problem: str | None = None
    fields: tuple[str, str, str] | None = None
    format: str | None = None
    consumed: int = 0


def read_prediction_files(
    paths: list[str], max_bytes: int, budget: Budget, out: list[float]
) -> list[FileRead]:
    """Read and decode ``paths`` in order, appending their points to ``out``; every file gives
    one :class:`FileRead`, never an exception."""
    reads = []
    append = reads.append
    for path in paths:
        left = budget.left
        try:
            raw = budget.read(path, max_bytes)
        except BadFile as e:
            append(FileRead(-1, str(e), consumed=left - budget.left))
            continue
        try:
            fields, n, extra = decode_points_into(raw, out)
        except BadFile as e:
            append(FileRead(-1, str(e), consumed=len(raw)))
            continue
        append(FileRead(n, None, fields, extra["format"], len(raw)))
    return reads


def walk_predictions(root: str | Path) -> list[tuple[str, str | None]]:
    """Every ``*.json`` entry below ``root`` in walk order, each with the reason it cannot be
    read (None when it can): see :func:`~adaptor_score.safefiles.walk_files`."""
    return list(walk_files(root, (".json",)))


def claim_tree(
    root: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    read: Callable[[list[str], list[float]], list[FileRead]] | None = None,
) -> ClaimedTree:
    """Read and place every ``*.json`` below ``root`` (see :class:`ClaimedTree`).

    ``read(paths, out)`` reads the readable files in walk order, appending their points to
    ``out`` (default: :func:`read_prediction_files` here; the scorer may share the reading with a
    helper process, :mod:`adaptor_score.readhelper`).
    """
    import numpy as np

    entries = walk_predictions(root)
    buf: list[float] = []
    paths = [path for path, problem in entries if problem is None]
    if read is None:
        reads = read_prediction_files(paths, max_bytes, Budget(max_total_bytes), buf)
    else:
        reads = read(paths, buf)
    return place_files(root, entries, reads, np.array(buf, dtype=np.float64).reshape(-1, 2))


def place_files(
    root: str | Path, entries: list[tuple[str, str | None]], reads: list[FileRead], xy: np.ndarray
) -> ClaimedTree:
    """The :class:`ClaimedTree` of a walk: ``entries`` as :func:`walk_predictions` lists them,
    ``reads`` one per readable entry in the same order, ``xy`` ``(P, 2)`` their points one file
    after the other."""
    out = ClaimedTree()
    prefix = os.path.join(str(root), "")

    def refuse(path: str, problem: str) -> None:
        # An unusable file at a frame's place claims that frame, so the frame's problem names
        # the real cause rather than "no prediction file".
        by_path = key_from_relative_path(path[len(prefix) :])
        if by_path is not None:
            out.claims.setdefault(by_path, []).append(Claim(path, None, problem=problem))
        else:
            out.unplaced.append(Claim(path, None, problem=problem))

    next_read = iter(reads).__next__
    start = 0
    claims, formats = out.claims, out.formats
    new_key = tuple.__new__  # FrameKey(...) without its Python-level __new__: 20k keys, 10 ms
    for path, walk_problem in entries:
        if walk_problem is not None:
            refuse(path, walk_problem)
            continue
        r = next_read()
        if r.count < 0:
            refuse(path, r.problem)
            continue
        fmt, fields, n = r.format, r.fields, r.count
        formats[fmt] = formats.get(fmt, 0) + 1
        if fields is not None:
            name = fields[2]
            dot = name.rfind(".")
            key = new_key(FrameKey, (fields[0], fields[1], name[:dot] if dot > 0 else name))
        else:
            key = key_from_relative_path(path[len(prefix) :])
        claim = Claim(path, xy[start : start + n], fields, None if key else _UNPLACEABLE, fmt)
        start += n
        if key is None:
            out.unplaced.append(claim)
        elif key in claims:
            claims[key].append(claim)
        else:
            claims[key] = [claim]
    return out


def check_prediction_folder(root: str | Path) -> None:
    """A prediction folder that is missing, not a folder or cannot be listed stops the run: a
    mistyped folder must not score 0 with exit 0."""
    root = Path(root)
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
    check_prediction_folder(root)
    return settle_predictions(claim_tree(root, max_bytes, max_total_bytes), root, expected, ignore)


def settle_predictions(
    tree: ClaimedTree,
    root: str | Path,
    expected: Collection[FrameKey],
    ignore: Collection[FrameKey] = (),
) -> Predictions:
    """The :class:`Predictions` of a claimed tree for the ``expected`` frames (see
    :func:`load_predictions`)."""
    root = Path(root)
    order = sorted(expected)  # linear when given in order, as the ground truth's keys are
    expected = set(order)
    ignore = set(ignore)
    out = Predictions({})
    claims: dict[FrameKey, list[Claim]] = {}
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

    points, files = out.points, out.files
    for key in order:
        got = claims.get(key)
        if got is not None and len(got) == 1 and got[0].points is not None:  # the common case
            points[key] = got[0].points
            files[key] = got[0].path
        else:
            _settle(out, key, got, root)
    return out

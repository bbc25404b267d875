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
from adaptor_score.frames import FrameKey, Problem, key_from_relative_path
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


def _claim(path: str, root_prefix: str, max_bytes: int, budget: _Budget, formats: dict):
    """(frame or None, points or None, problem or None) for one prediction file."""
    by_path = key_from_relative_path(path[len(root_prefix) :])
    try:
        fields, pts, extra = decode_points_file(budget.read(path, max_bytes))
    except BadFile as e:
        return by_path, None, str(e)
    formats[extra["format"]] = formats.get(extra["format"], 0) + 1
    if fields is not None:
        name = fields[2]
        dot = name.rfind(".")
        return FrameKey(fields[0], fields[1], name[:dot] if dot > 0 else name), pts, None
    if by_path is None:
        return (
            None,
            None,
            (
                "cannot tell which frame this is: no folderName/subfolderName/imageFileName and the"
                " path is not <folder>/<video>/<frame>.json"
            ),
        )
    return by_path, pts, None


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
    if not root.is_dir():
        out.problems.append(Problem(str(root), "prediction folder does not exist"))
        claims: dict[FrameKey, list] = {}
    else:
        claims = {}
        prefix = os.path.join(str(root), "")
        budget = _Budget(max_total_bytes)
        for path, walk_problem in walk_files(root, (".json",)):
            if walk_problem is not None:
                # An unusable entry at a frame's place claims that frame (scored as empty), so
                # the frame's problem names the real cause rather than "no prediction file".
                key = key_from_relative_path(path[len(prefix) :])
                if key is not None and key in expected:
                    out.problems.append(
                        Problem(path, f"{walk_problem}; frame {key} scored as no predictions", key)
                    )
                    claims.setdefault(key, []).append((path, None))
                else:
                    out.problems.append(Problem(path, walk_problem))
                continue
            key, pts, problem = _claim(path, prefix, max_bytes, budget, out.formats)
            if key is not None and key not in expected:
                if key not in ignore:
                    note = f"; also: {problem}" if problem else ""
                    out.problems.append(
                        Problem(str(path), f"frame {key} is not in the ground truth{note}", key)
                    )
                continue
            if problem is not None:
                if key is not None:
                    problem += f"; frame {key} scored as no predictions"
                out.problems.append(Problem(str(path), problem, key))
            if key is not None:
                claims.setdefault(key, []).append((path, pts))

    for key in sorted(expected):
        got = claims.get(key)
        if not got:
            guess = root / key.folder / key.video / f"{key.frame}.json"
            out.problems.append(
                Problem(
                    str(guess), f"no prediction file for frame {key}; scored as no predictions", key
                )
            )
        elif len(got) > 1:
            names = ", ".join(str(p) for p, _ in got)
            for path, _ in got:
                out.problems.append(
                    Problem(
                        str(path),
                        f"{len(got)} files claim frame {key} ({names}); scored as no predictions",
                        key,
                    )
                )
        elif got[0][1] is not None:
            out.points[key] = got[0][1]
            out.files[key] = got[0][0]
    return out

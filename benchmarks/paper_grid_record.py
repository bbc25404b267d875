"""Reading the paper grid's files as hostile input: the kept record (``runs/``, ``labels/``) and
the ``cv`` folders that ``collect`` reads.

Every name that becomes part of a path (dataset, experiment, fold, a prediction's relative path,
a label's ``folder/video/frame``) must be a plain name, so that no file can make ``tables`` write
outside its scratch folder; every point is two finite numbers; every file is read with the
scorer's size-limited reader. A file that breaks a rule raises :class:`GridFileError`, naming the
file and the problem: ``tables`` stops on it (a kept run left out would change the tables
silently), ``collect`` leaves that run's seed out and lists the file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from adaptor_score.safefiles import BadFile, read_text

MAX_BYTES = 64 << 20  # a kept run holds every point of its fold and its test set: ~100 KB here
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class GridFileError(ValueError):
    """A file of the grid that cannot be used: ``path: problem``."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = Path(path), problem


def read_json(path: Path):
    try:
        return json.loads(read_text(path, MAX_BYTES))
    except BadFile as e:
        raise GridFileError(path, str(e)) from None
    except (ValueError, RecursionError) as e:
        raise GridFileError(path, f"not JSON ({e})") from None


def plain_name(path: Path, what: str, value) -> str:
    """``value`` if it is a plain name (letters, digits, ``._-``; not ``.`` or ``..``)."""
    if not isinstance(value, str) or not NAME.fullmatch(value) or set(value) == {"."}:
        raise GridFileError(path, f"{what} {value!r} is not a plain name")
    return value


def relative(path: Path, what: str, value, parts: int | None = None) -> str:
    """A ``/``-separated path of plain names (``parts`` of them when given)."""
    pieces = value.split("/") if isinstance(value, str) else [None]
    if parts is not None and len(pieces) != parts:
        raise GridFileError(path, f"{what} {value!r} is not {parts} names joined by '/'")
    for piece in pieces:
        plain_name(path, what, piece)
    return value


def points(path: Path, what: str, value) -> list[list[float]]:
    """``[[x, y], ...]`` of finite numbers."""
    ok = isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in p)
        for p in value)  # fmt: skip
    if not ok:
        raise GridFileError(path, f"{what}: not a list of [x, y] pairs of finite numbers")
    return value


def _field(path: Path, doc: dict, key: str, kind, optional: bool = False):
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise GridFileError(path, f"{key!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def read_run(path: Path) -> dict:
    """A kept run (``runs/<dataset>/<experiment>/seed-<n>/fold-<fold>.json``), checked."""
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise GridFileError(path, "a kept run is an object")
    for key in ("experiment", "dataset", "fold"):
        plain_name(path, key, doc.get(key))
    if doc.get("test_dataset") is not None:
        plain_name(path, "test_dataset", doc["test_dataset"])
    seed = doc.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise GridFileError(path, f"seed {seed!r} is not a whole number")
    _field(path, doc, "params", dict)
    for part in ("val", "test"):
        frames = _field(path, doc, part, dict, optional=part == "test")
        for rel, pts in (frames or {}).items():
            relative(path, f"{part} file", rel)
            points(path, f"{part} {rel}", pts)
    if doc.get("test") and doc.get("test_dataset") is None:
        raise GridFileError(path, "test predictions without a test_dataset")
    place = (doc["dataset"], doc["experiment"], f"seed-{seed}", f"fold-{doc['fold']}.json")
    if tuple(Path(path).parts[-4:]) != place:  # else two files could claim one run
        raise GridFileError(path, "lies elsewhere than its content says: " + "/".join(place))
    return doc


def read_labels(path: Path) -> dict:
    """A dataset's labels (``labels/<dataset>.json``), checked."""
    doc = read_json(path)
    if not isinstance(doc, dict):
        raise GridFileError(path, "a labels file is an object")
    for key in ("imageWidth", "imageHeight"):
        v = doc.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 1 << 16:
            raise GridFileError(path, f"{key} {v!r} is not a frame size")
    for key, pts in _field(path, doc, "frames", dict).items():
        relative(path, "frame", key, parts=3)
        points(path, f"frame {key}", pts)
    return doc


def points_of(folder: Path) -> dict[str, list]:
    """Every prediction file below ``folder`` (a ``cv`` run's output): relative path ->
    ``[[x, y], ...]``, read with the scorer's point reader."""
    from adaptor_score.jsonfiles import parse_points

    out = {}
    for p in sorted(folder.rglob("*.json")):
        doc = read_json(p)
        try:
            pts = parse_points(doc)
        except (ValueError, TypeError, KeyError) as e:
            raise GridFileError(p, f"not a prediction file ({e})") from None
        out[relative(p, "prediction", p.relative_to(folder).as_posix())] = [
            [float(x), float(y)] for x, y in pts
        ]
    return out

"""Careful reading of label and prediction JSON files.

Every failure becomes a :class:`BadFile` with a sentence a participant can act on; nothing here
guesses a value for a broken field. A file is accepted entirely or not at all.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class BadFile(Exception):
    """An input file that cannot be used; the message says why."""


def _reject_constant(name: str):
    raise BadFile(f"coordinates must be finite numbers, found {name}")


def read_json(path: Path, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse one JSON file, refusing files above ``max_bytes`` and non-standard NaN/Infinity."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise BadFile(f"cannot read the file: {e.strerror or e}") from None
    if size > max_bytes:
        raise BadFile(f"file is {size:,} bytes, above the limit of {max_bytes:,} bytes")
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise BadFile(f"cannot read the file: {e.strerror or e}") from None
    if len(raw) > max_bytes:  # grew while we looked
        raise BadFile(f"file is larger than the limit of {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadFile(f"not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise BadFile("file is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise BadFile(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise BadFile("not valid JSON: nested too deeply") from None


def _number(value, what: str) -> float:
    # bool is an int in Python; a coordinate of `true` is a schema error, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadFile(f"{what} must be a number, found {json.dumps(value)[:40]}")
    v = float(value)
    if not math.isfinite(v):
        raise BadFile(f"{what} must be a finite number, found {value}")
    return v


def parse_points(obj) -> np.ndarray:
    """Points of a label/prediction object as ``(N, 2)`` float64 ``(x, y)``.

    Accepts the challenge's ``{"points": [{"x": .., "y": ..}]}`` and Grand-Challenge's
    "Multiple points" ``{"points": [{"point": [x, y, z]}]}``.

    >>> parse_points({"points": [{"x": 1, "y": 2.5}]}).tolist()
    [[1.0, 2.5]]
    """
    if not isinstance(obj, dict):
        raise BadFile(f"expected a JSON object with a 'points' array, found {type(obj).__name__}")
    if "points" not in obj:
        raise BadFile("no 'points' array (write an empty array when nothing is detected)")
    pts = obj["points"]
    if not isinstance(pts, list):
        raise BadFile(f"'points' must be an array, found {type(pts).__name__}")
    out = np.empty((len(pts), 2), dtype=np.float64)
    for i, p in enumerate(pts):
        if isinstance(p, dict) and "x" in p and "y" in p:
            out[i, 0] = _number(p["x"], f"points[{i}].x")
            out[i, 1] = _number(p["y"], f"points[{i}].y")
        elif isinstance(p, dict) and isinstance(p.get("point"), list) and len(p["point"]) >= 2:
            out[i, 0] = _number(p["point"][0], f"points[{i}].point[0]")
            out[i, 1] = _number(p["point"][1], f"points[{i}].point[1]")
        else:
            raise BadFile(f'points[{i}] must be an object {{"x": number, "y": number}}')
    return out


def frame_fields(obj) -> tuple[str, str, str] | None:
    """The (folderName, subfolderName, imageFileName) of a prediction, or None if absent.

    Raises :class:`BadFile` when the fields are there but not all strings.
    """
    names = ("folderName", "subfolderName", "imageFileName")
    if not isinstance(obj, dict) or not any(n in obj for n in names):
        return None
    missing = [n for n in names if n not in obj]
    if missing:
        raise BadFile(
            f"has {', '.join(n for n in names if n in obj)} but lacks {', '.join(missing)}"
        )
    values = tuple(obj[n] for n in names)
    for n, v in zip(names, values):
        if not isinstance(v, str) or not v or "/" in v or "\\" in v:
            raise BadFile(f"'{n}' must be a non-empty file or folder name, found {json.dumps(v)}")
    return values  # type: ignore[return-value]


def _inside(root_real: str, path: str) -> bool:
    target = os.path.realpath(path)
    return os.path.commonpath([root_real, target]) == root_real


def walk_files(root: Path, suffixes: tuple[str, ...]) -> Iterator[tuple[Path, str | None]]:
    """Files below ``root`` whose lower-case name ends with one of ``suffixes``, in sorted order,
    without following symlinked folders.

    Yields ``(path, problem)``: problem is None for a usable file, else why it is not used (a
    symlink leading outside ``root``, a dangling symlink, or a symlinked folder, never walked).
    """
    root_real = os.path.realpath(root)
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield Path(current), f"cannot list the folder: {e.strerror or e}"
            continue
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                if entry.is_dir():
                    where = "" if _inside(root_real, entry.path) else ": it leads outside"
                    yield Path(entry.path), f"symlinked folder is not followed{where}"
                    continue
                if not entry.name.lower().endswith(suffixes):
                    continue
                if not _inside(root_real, entry.path):
                    target = os.path.realpath(entry.path)
                    yield Path(entry.path), f"symlink leads outside the folder read (to {target})"
                elif not entry.is_file():
                    yield Path(entry.path), "symlink to nothing readable"
                else:
                    yield Path(entry.path), None
            elif entry.is_dir():
                subdirs.append(entry.path)
            elif entry.name.lower().endswith(suffixes):
                yield Path(entry.path), None
        stack.extend(reversed(subdirs))

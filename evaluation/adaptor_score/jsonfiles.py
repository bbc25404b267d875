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
from typing import Any

import msgspec
import numpy as np

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_FIELD_NAMES = ("folderName", "subfolderName", "imageFileName")


class _Point(msgspec.Struct, gc=False):
    x: float
    y: float


class _PointsFile(msgspec.Struct, gc=False):
    points: list[_Point]
    folderName: Any = None
    subfolderName: Any = None
    imageFileName: Any = None
    imageWidth: Any = None
    imageHeight: Any = None


# msgspec decodes and type-checks in C (strict JSON: NaN/Infinity, strings and booleans as
# numbers, missing fields are all rejected). Any file it refuses is read again by the standard
# library path below, which either accepts it (a UTF-8 BOM, Grand-Challenge "Multiple points")
# or produces the message we show.
_DECODER = msgspec.json.Decoder(_PointsFile)


class BadFile(Exception):
    """An input file that cannot be used; the message says why."""


def _reject_constant(name: str):
    raise BadFile(f"coordinates must be finite numbers, found {name}")


def read_bytes(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, refusing files above ``max_bytes`` without reading them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise BadFile(f"cannot read the file: {e.strerror or e}") from None
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise BadFile(f"file is {size:,} bytes, above the limit of {max_bytes:,} bytes")
        # Sized reads: a read of max_bytes would allocate that much for every small file.
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, max(size - total, 0) + 1)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise BadFile(f"file is larger than the limit of {max_bytes:,} bytes")
            if 0 < size == total:
                break  # a regular file read to its stated size: no extra read to see EOF
    except OSError as e:
        raise BadFile(f"cannot read the file: {e.strerror or e}") from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes):
    """Standard-library JSON parse with our messages; rejects NaN and Infinity."""
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


def read_json(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse one JSON file, refusing files above ``max_bytes`` and non-standard NaN/Infinity."""
    return parse_json(read_bytes(path, max_bytes))


def _is_name(v) -> bool:
    return type(v) is str and v != "" and "/" not in v and "\\" not in v


def _fields_of(values: tuple) -> tuple[str, str, str] | None:
    a, b, c = values
    if _is_name(a) and _is_name(b) and _is_name(c):  # the common case, checked cheaply
        return values  # type: ignore[return-value]
    if a is None and b is None and c is None:
        return None
    missing = [n for n, v in zip(_FIELD_NAMES, values) if v is None]
    if missing:
        have = ", ".join(n for n, v in zip(_FIELD_NAMES, values) if v is not None)
        raise BadFile(f"has {have} but lacks {', '.join(missing)}")
    n, v = next((n, v) for n, v in zip(_FIELD_NAMES, values) if not _is_name(v))
    raise BadFile(f"'{n}' must be a non-empty file or folder name, found {json.dumps(v)}")


def decode_points_file(raw: bytes) -> tuple[tuple[str, str, str] | None, np.ndarray, dict]:
    """Decode a label or prediction file.

    Returns ``(fields, points, extra)``: the (folderName, subfolderName, imageFileName) or None,
    the points as ``(N, 2)`` float64 ``(x, y)``, and ``extra`` with imageWidth/imageHeight.
    Raises :class:`BadFile` with the reason.

    >>> decode_points_file(b'{"points": [{"x": 1, "y": 2}]}')[1].tolist()
    [[1.0, 2.0]]
    """
    try:
        doc = _DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        obj = parse_json(raw)
        fields = frame_fields(obj)
        pts = parse_points(obj)
        extra = {k: obj.get(k) for k in ("imageWidth", "imageHeight")}
        return fields, pts, extra
    fields = _fields_of((doc.folderName, doc.subfolderName, doc.imageFileName))
    pts = np.array([(p.x, p.y) for p in doc.points], dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all():  # unreachable for strict JSON; kept as a guard
        raise BadFile("coordinates must be finite numbers")
    return fields, pts, {"imageWidth": doc.imageWidth, "imageHeight": doc.imageHeight}


def _number(value, what: str) -> float:
    # bool is an int in Python; a coordinate of `true` is a schema error, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadFile(f"{what} must be a number, found {json.dumps(value)[:40]}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
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

    Raises :class:`BadFile` when the fields are there but not all non-empty names.
    """
    if not isinstance(obj, dict):
        return None
    return _fields_of(tuple(obj.get(n) for n in _FIELD_NAMES))


def _inside(root_real: str, path: str) -> bool:
    target = os.path.realpath(path)
    return os.path.commonpath([root_real, target]) == root_real


def walk_files(root: str | Path, suffixes: tuple[str, ...]) -> Iterator[tuple[str, str | None]]:
    """Files below ``root`` whose lower-case name ends with one of ``suffixes``, in sorted order,
    without following symlinked folders.

    Yields ``(path, problem)`` with ``path`` a string: problem is None for a usable file, else why it is not used (a
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
            yield current, f"cannot list the folder: {e.strerror or e}"
            continue
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                if entry.is_dir():
                    where = "" if _inside(root_real, entry.path) else ": it leads outside"
                    yield entry.path, f"symlinked folder is not followed{where}"
                    continue
                if not entry.name.lower().endswith(suffixes):
                    continue
                if not _inside(root_real, entry.path):
                    target = os.path.realpath(entry.path)
                    yield entry.path, f"symlink leads outside the folder read (to {target})"
                elif not entry.is_file():
                    yield entry.path, "symlink to nothing readable"
                else:
                    yield entry.path, None
            elif entry.is_dir():
                subdirs.append(entry.path)
            elif entry.name.lower().endswith(suffixes):
                yield entry.path, None
        stack.extend(reversed(subdirs))

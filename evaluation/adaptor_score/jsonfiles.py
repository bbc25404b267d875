"""Careful reading of label and prediction JSON files.

Every failure becomes a :class:`BadFile` with a sentence a participant can act on; nothing here
guesses a value for a broken field. A file is accepted entirely or not at all.

The policy, the same for every reader (scorer, validator, ground truth, baseline):

* **Text**: UTF-8, with or without a byte-order mark. Any other encoding, any invalid byte (in
  any field, known or not), and any string holding a lone UTF-16 surrogate (``"\\ud800"``, valid
  JSON syntax but not Unicode) make the file a problem.
* **JSON**: strict (no NaN/Infinity, no trailing commas); numbers must fit a float64.
* **Points**: finite numbers within ``MAX_COORDINATE`` px of the origin, at most
  ``MAX_POINTS_PER_FRAME`` of them (both in :mod:`adaptor_score.contract`).
* **Anything else that goes wrong while decoding** (nesting too deep for the decoder, a number
  with thousands of digits, memory) is that file's problem too, never a crash of the run.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from adaptor_score.contract import (
    DEFAULT_MAX_BYTES,
    MAX_COORDINATE,
    MAX_POINTS_PER_FRAME,
)
from adaptor_score.safefiles import BadFile, inside, read_bytes, walk_files
from adaptor_score.unicodetext import check_unicode, utf8_body

if TYPE_CHECKING:
    import numpy as np

# numpy is imported where arrays are made, not here: the helper process that reads label files
# (adaptor_score.labelreader) decodes into lists and never needs it (0.08 s of its start-up).

__all__ = [
    "DEFAULT_MAX_BYTES",
    "BadFile",
    "decode_points_file",
    "decode_points_into",
    "frame_fields",
    "inside",
    "parse_json",
    "parse_points",
    "read_bytes",
    "read_json",
    "read_points",
    "walk_files",
]

_FIELD_NAMES = ("folderName", "subfolderName", "imageFileName")


# The coordinate bound is checked by msgspec while it decodes (in C); a file that breaks it
# falls to the standard-library path, which says which point and why.
_Coordinate = Annotated[float, msgspec.Meta(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]


class _Point(msgspec.Struct, gc=False):
    x: _Coordinate
    y: _Coordinate


class _PointsFile(msgspec.Struct, gc=False):
    points: list[_Point]
    folderName: Any = None
    subfolderName: Any = None
    imageFileName: Any = None
    imageWidth: Any = None
    imageHeight: Any = None
    type: Any = None  # Grand-Challenge's "Multiple points" (its points are [x, y, z] lists)


class _Shape(msgspec.Struct, gc=False):
    """Only the length of ``points``: each element stays undecoded bytes."""

    points: list[msgspec.Raw]


# msgspec decodes and type-checks in C (strict JSON: NaN/Infinity, strings and booleans as
# numbers, missing fields are all rejected). Any file it refuses is read again by the standard
# library path below, which either accepts it (Grand-Challenge "Multiple points") or produces the
# message we show.
_DECODER = msgspec.json.Decoder(_PointsFile)
_SHAPE_DECODER = msgspec.json.Decoder(_Shape)
# The standard-library parse builds a Python object per value (about 20 times the file's size);
# above this size the point count is checked first with the compact decoder.
_STDLIB_PARSE_BYTES = 1 << 20


def _reject_constant(name: str):
    raise BadFile(f"coordinates must be finite numbers, found {name}")


def parse_json(raw: bytes):
    """Standard-library JSON parse with our messages; rejects NaN and Infinity."""
    text = utf8_body(raw).decode("utf-8")
    if not text.strip():
        raise BadFile("file is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise BadFile(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise BadFile("not valid JSON: nested too deeply") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise BadFile(f"not usable JSON: {str(e)[:120]}") from None


def read_points(path, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """The points of one label or prediction file as ``(N, 2)`` float64 ``(x, y)``, read with the
    same policy as scoring (:class:`BadFile` says what is wrong).

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "000001.json")
    >>> _ = open(f, "w").write('{"points": [{"x": 3, "y": 4.5}]}')
    >>> read_points(f).tolist()
    [[3.0, 4.5]]
    """
    return decode_points_file(read_bytes(path, max_bytes))[1]


def read_json(path, max_bytes: int = DEFAULT_MAX_BYTES):
    """Parse one JSON file, refusing files above ``max_bytes`` and non-standard NaN/Infinity."""
    return parse_json(read_bytes(path, max_bytes))


def _too_many(n: int, max_points: int) -> BadFile:
    return BadFile(
        f"{n:,} points, above the limit of {max_points:,} per frame (the frames hold at most"
        " about 30 sutures)"
    )


def check_points(pts: np.ndarray) -> np.ndarray:
    """``pts`` when every coordinate is finite and within ``MAX_COORDINATE``; else BadFile."""
    import numpy as np

    bad = ~(np.abs(pts) <= MAX_COORDINATE)  # also catches NaN
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise BadFile(
            f"points[{i}].{'xy'[k]} = {pts[i, k]:g} is not a finite number within"
            f" ±{MAX_COORDINATE:g} px"
        )
    return pts


def _is_name(v) -> bool:
    return type(v) is str and v != "" and "/" not in v and "\\" not in v


def _fields_of(values: tuple) -> tuple[str, str, str] | None:
    a, b, c = values
    if (  # the common case, checked inline (_is_name three times)
        type(a) is str
        and type(b) is str
        and type(c) is str
        and a
        and b
        and c
        and "/" not in a
        and "/" not in b
        and "/" not in c
        and "\\" not in a
        and "\\" not in b
        and "\\" not in c
    ):
        return values  # type: ignore[return-value]
    if a is None and b is None and c is None:
        return None
    missing = [n for n, v in zip(_FIELD_NAMES, values) if v is None]
    if missing:
        have = ", ".join(n for n, v in zip(_FIELD_NAMES, values) if v is not None)
        raise BadFile(f"has {have} but lacks {', '.join(missing)}")
    n, v = next((n, v) for n, v in zip(_FIELD_NAMES, values) if not _is_name(v))
    raise BadFile(f"'{n}' must be a non-empty file or folder name, found {json.dumps(v)}")


def decode_points_file(
    raw: bytes, max_points: int = MAX_POINTS_PER_FRAME
) -> tuple[tuple[str, str, str] | None, np.ndarray, dict]:
    """Decode a label or prediction file.

    Returns ``(fields, points, extra)``: the (folderName, subfolderName, imageFileName) or None,
    the points as ``(N, 2)`` float64 ``(x, y)``, and ``extra`` with imageWidth/imageHeight and the
    ``format`` read (``"challenge"`` or ``"grand-challenge"``).
    Raises :class:`BadFile` with the reason, whatever went wrong.

    >>> decode_points_file(b'{"points": [{"x": 1, "y": 2}]}')[1].tolist()
    [[1.0, 2.0]]
    """
    import numpy as np

    buf: list[float] = []
    fields, _, extra = decode_points_into(raw, buf, max_points)
    return fields, np.array(buf, dtype=np.float64).reshape(-1, 2), extra


def decode_points_into(
    raw: bytes, out: list[float], max_points: int = MAX_POINTS_PER_FRAME
) -> tuple[tuple[str, str, str] | None, int, dict]:
    """:func:`decode_points_file`, appending the points to ``out`` (a list of floats ``x0, y0,
    x1, y1, ...``) and returning their number instead of an array.

    Readers of many files keep one list for all of them and make one ``(P, 2)`` array at the
    end: no numpy array per file (about 4 microseconds each; appending to a list costs 0.1 µs a
    point, less than ``array("d").extend``, measured on 2,000 prediction files). A refused file
    appends nothing.

    >>> buf = []; decode_points_into(b'{"points": [{"x": 1, "y": 2}]}', buf)[1], buf
    (1, [1.0, 2.0])
    """
    start = len(out)
    try:
        # one function, no calls in the common case: each layer cost about 1 µs a file
        body = raw if raw.isascii() else utf8_body(raw)  # (a byte-order mark is not ASCII)
        if b"\\u" in body:
            check_unicode(body)
        try:
            doc = _DECODER.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            fields, pts, extra = _decode_slowly(body, max_points)
            out.extend(pts.ravel().tolist())
            return fields, len(pts), extra
        points = doc.points
        if len(points) > max_points:
            raise _too_many(len(points), max_points)
        fields = _fields_of((doc.folderName, doc.subfolderName, doc.imageFileName))
        # finite and within MAX_COORDINATE: msgspec checked both while decoding
        append = out.append
        for p in points:
            append(p.x)
            append(p.y)
        return (
            fields,
            len(points),
            {
                "imageWidth": doc.imageWidth,
                "imageHeight": doc.imageHeight,
                # an empty Grand-Challenge list decodes here too: its "type" tells it apart
                "format": GRAND_CHALLENGE if doc.type == "Multiple points" else CHALLENGE,
            },
        )
    except BaseException as e:
        del out[start:]  # a file is used entirely or not at all
        if isinstance(e, BadFile) or not isinstance(e, Exception):
            raise
        # RecursionError, MemoryError, ...: this file's problem, not a crash
        raise BadFile(f"cannot be decoded ({type(e).__name__}: {str(e)[:100]})") from None


def _decode_slowly(body: bytes, max_points: int):
    """The standard-library path: other point formats and the messages for broken files."""
    if len(body) > _STDLIB_PARSE_BYTES:
        try:
            shape = _SHAPE_DECODER.decode(body)
        except msgspec.DecodeError as e:
            raise BadFile(f"not valid JSON: {e}") from None
        except msgspec.ValidationError:
            shape = None  # no points array: the parse below says what is wrong
        if shape is not None and len(shape.points) > max_points:
            raise _too_many(len(shape.points), max_points)
    obj = parse_json(body)
    fields = frame_fields(obj)
    pts = parse_points(obj, max_points)
    extra = {k: obj.get(k) for k in ("imageWidth", "imageHeight")}
    extra["format"] = file_format(obj)
    return fields, pts, extra


CHALLENGE = "challenge"
GRAND_CHALLENGE = "grand-challenge"


def file_format(obj) -> str:
    """``"grand-challenge"`` for Grand-Challenge's "Multiple points" JSON (``{"type": "Multiple
    points", "points": [{"point": [x, y, z]}]}``), else ``"challenge"``.

    >>> file_format({"type": "Multiple points", "points": []}), file_format({"points": []})
    ('grand-challenge', 'challenge')
    """
    if not isinstance(obj, dict):
        return CHALLENGE
    pts = obj.get("points")
    if obj.get("type") == "Multiple points" or (
        isinstance(pts, list) and pts and isinstance(pts[0], dict) and "point" in pts[0]
    ):
        return GRAND_CHALLENGE
    return CHALLENGE


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


def parse_points(obj, max_points: int = MAX_POINTS_PER_FRAME) -> np.ndarray:
    """Points of a label/prediction object as ``(N, 2)`` float64 ``(x, y)``.

    Accepts the challenge's ``{"points": [{"x": .., "y": ..}]}`` and Grand-Challenge's
    "Multiple points" ``{"points": [{"point": [x, y, z]}]}``.

    >>> parse_points({"points": [{"x": 1, "y": 2.5}]}).tolist()
    [[1.0, 2.5]]
    """
    import numpy as np

    if not isinstance(obj, dict):
        raise BadFile(f"expected a JSON object with a 'points' array, found {type(obj).__name__}")
    if "points" not in obj:
        raise BadFile("no 'points' array (write an empty array when nothing is detected)")
    pts = obj["points"]
    if not isinstance(pts, list):
        raise BadFile(f"'points' must be an array, found {type(pts).__name__}")
    if len(pts) > max_points:
        raise _too_many(len(pts), max_points)
    out = np.empty((len(pts), 2), dtype=np.float64)
    for i, p in enumerate(pts):
        if isinstance(p, dict) and "x" in p and "y" in p:
            out[i, 0] = _number(p["x"], f"points[{i}].x")
            out[i, 1] = _number(p["y"], f"points[{i}].y")
        elif isinstance(p, dict) and isinstance(p.get("point"), list) and len(p["point"]) >= 2:
            out[i, 0] = _number(p["point"][0], f"points[{i}].point[0]")
            out[i, 1] = _number(p["point"][1], f"points[{i}].point[1]")
        else:
            raise BadFile(_point_problem(i, p))
    return check_points(out)


def _point_problem(i: int, p) -> str:
    """What is wrong with ``points[i]``, in the words a participant can act on.

    >>> print(_point_problem(0, {"x": 1}))
    points[0] has no 'y' (write {"x": number, "y": number})
    >>> print(_point_problem(1, [1, 2]))
    points[1] must be an object {"x": number, "y": number}, found an array
    """
    want = '{"x": number, "y": number}'
    if not isinstance(p, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(p), "a number")
        return f"points[{i}] must be an object {want}, found {kind}"
    if "point" in p:
        return f"points[{i}].point must be an array [x, y, z] of numbers"
    missing = [k for k in ("x", "y") if k not in p]
    return f"points[{i}] has no {' or '.join(repr(k) for k in missing)} (write {want})"


def frame_fields(obj) -> tuple[str, str, str] | None:
    """The (folderName, subfolderName, imageFileName) of a prediction, or None if absent.

    Raises :class:`BadFile` when the fields are there but not all non-empty names.
    """
    if not isinstance(obj, dict):
        return None
    return _fields_of(tuple(obj.get(n) for n in _FIELD_NAMES))

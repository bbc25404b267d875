"""Hand-written files checked against declared schemas (msgspec), with errors that name the key.

The tables manifest, the leaderboard's phase rules and the baseline's sweep files are TOML
written by people. Each declares its shape once as ``msgspec.Struct`` types (field types, required
fields, bounds, no unknown keys); :func:`decode` reads the file safely
(:func:`adaptor_score.safefiles.read_toml`) and converts it, and msgspec's error becomes the
toolkit's: ``<file>: <key>: <problem>``, with the key in the same ``a[0].b`` form as before:

    Object missing required field `ground_truth` - at `$.dataset[0]`
      -> m.toml: dataset[0].ground_truth: is required
    Expected `array | null`, got `str` - at `$.experiment[1].results[0].runs`
      -> m.toml: experiment[1].results[0].runs: must be an array, found a string

What a schema cannot say (unique names, references between tables) each reader checks after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar, get_args, get_origin

import msgspec

from adaptor_score.contract import MAX_RADIUS
from adaptor_score.safefiles import BadFile, read_toml

T = TypeVar("T")

# Text that is not empty or blank and holds no control character (NUL, newline, escape...): names
# and paths alike, since a NUL in a path is a traceback in open() and a newline in a name a forged
# line in every table; a finite number >= 0 (TOML allows nan and inf); a match radius within the
# frame's diagonal.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
Text = Annotated[str, msgspec.Meta(pattern=TEXT_PATTERN)]
NonNegative = Annotated[float, msgspec.Meta(ge=0, le=1e300)]
Radius = Annotated[float, msgspec.Meta(ge=0, le=MAX_RADIUS)]

_NAMES = {
    "str": "a string", "bool": "a boolean", "int": "an integer", "float": "a number",
    "array": "an array", "object": "a table", "null": "nothing",
}  # fmt: skip


def _words(kinds: str, expected: bool = False) -> str:
    """``array | null`` -> ``an array``: what a TOML author can write (strings we expect are
    never blank: ``a non-empty string``)."""
    parts = [p.strip(" `") for p in kinds.split("|")]
    names = {**_NAMES, "str": "a non-empty string"} if expected else _NAMES
    named = [names.get(p, p) for p in parts if p != "null"]
    return " or ".join(named) or "nothing"


def _key(path: str) -> str:
    return path[2:] if path.startswith("$.") else ("" if path == "$" else path)


def _struct_at(schema, key: str):
    """The Struct type found at ``key`` (``a[0].b``) below ``schema``, or None."""
    kind = schema
    for name in re.findall(r"(\w+)", re.sub(r"\[\d+\]", "", key)):
        kind = _unwrap(kind)
        if not (isinstance(kind, type) and issubclass(kind, msgspec.Struct)):
            return None
        field = next((f for f in msgspec.structs.fields(kind) if f.encode_name == name), None)
        if field is None:
            return None
        kind = field.type
    kind = _unwrap(kind)
    return kind if isinstance(kind, type) and issubclass(kind, msgspec.Struct) else None


def _unwrap(kind):
    """``list[X]``, ``X | None`` and ``dict[str, X]`` -> ``X``."""
    for _ in range(4):
        args = [a for a in get_args(kind) if a is not type(None)]
        origin = get_origin(kind)
        if origin in (list, dict) or (args and origin is not Annotated and origin is not Literal):
            kind = args[-1]
        else:
            break
    return kind


def explain(
    error: msgspec.ValidationError, schema=None, hints: dict[str, str] | None = None,
    where: str = "",
) -> tuple[str, str, str]:  # fmt: skip
    """``(kind, key, problem)`` from msgspec's message, kind one of ``required``, ``unknown``,
    ``type`` and ``value``; ``hints`` name what a field must be (by its last key: ``{"runs": "an
    array of paths"}``, ``{"count": "between 0 and 10"}``); ``where`` prefixes the key.

    >>> explain(msgspec.ValidationError("Object missing required field `name` - at `$.dataset[0]`"))
    ('required', 'dataset[0].name', 'is required')
    >>> explain(msgspec.ValidationError("Expected `float`, got `str` - at `$.radius`"))
    ('type', 'radius', 'must be a number, found a string')
    """
    kind, key, problem = _explain(error, schema, hints or {})
    if where:
        key = f"{where}.{key}" if key else where
    return kind, key, problem


def _explain(error, schema, hints: dict[str, str]) -> tuple[str, str, str]:
    text = str(error)
    where = ""
    m = re.search(r" - at `([^`]*)`$", text)
    if m:
        where, text = _key(m.group(1)), text[: m.start()]
    last = "" if where.endswith("]") else where.rsplit(".", 1)[-1]  # an element has no hint
    if m := re.match(r"Object missing required field `([^`]*)`", text):
        return "required", (f"{where}.{m.group(1)}" if where else m.group(1)), "is required"
    if m := re.match(r"Object contains unknown field `([^`]*)`", text):
        struct = _struct_at(schema, where) if schema is not None else None
        allowed = sorted(f.encode_name for f in msgspec.structs.fields(struct)) if struct else []
        also = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return "unknown", where, f"unknown key(s) {m.group(1)}{also}"
    if m := re.match(r"Expected `([^`]*)`, got `([^`]*)`", text):
        hint = hints.get(last, "")
        want = hint if hint and not hint.startswith("between") else _words(m.group(1), True)
        return "type", where, f"must be {want}, found {_words(m.group(2))}"
    if m := re.match(r"Invalid enum value (.*)$", text):
        want = hints.get(last, "one of the allowed values")
        return "value", where, f"must be {want}, found {m.group(1)}"
    if re.match(r"Expected `str` matching regex", text):
        return "value", where, "must be a non-empty string without control characters"
    if m := re.match(r"Expected `(?:float|int)` (>=|<=|>|<) (\S+)", text):
        if hints.get(last, "").startswith("between"):
            return "value", where, f"must be {hints[last]}"
        bound = "at least" if m.group(1).startswith(">") else "at most"
        return "value", where, f"must be a finite number {bound} {float(m.group(2)):g}"
    return "value", where, text


def _default_wording(kind: str, key: str, problem: str) -> str:
    return f"{key}: {problem}" if key else problem


def convert(
    obj, schema: type[T], path: Path, error: Callable[[Path, str], Exception],
    hints: dict[str, str] | None = None, where: str = "",
    wording: Callable[[str, str, str], str] = _default_wording,
) -> T:  # fmt: skip
    """``obj`` (a part of a file, at key ``where``) as ``schema``; the file's error otherwise."""
    try:
        return msgspec.convert(obj, schema)
    except msgspec.ValidationError as e:
        raise error(path, wording(*explain(e, schema, hints, where))) from None


def decode(
    path: str | Path, schema: type[T], error: Callable[[Path, str], Exception],
    max_bytes: int = 1 << 20, hints: dict[str, str] | None = None,
    wording: Callable[[str, str, str], str] = _default_wording,
) -> T:  # fmt: skip
    """The TOML file at ``path`` as ``schema``; ``error(path, wording(kind, key, problem))``
    otherwise (default wording: ``key: problem``)."""
    path = Path(path)
    try:
        doc = read_toml(path, max_bytes)
    except BadFile as e:
        raise error(path, str(e)) from None
    for field in msgspec.structs.fields(schema):  # a missing section first, as a reader would
        if field.required and field.encode_name not in doc:
            raise error(path, wording("required", field.encode_name, "is required"))
    return convert(doc, schema, path, error, hints, wording=wording)

"""Where a command may write: never over or inside what it reads, never outside its root.

Two rules that every writing command applies before it writes anything:

* :func:`check_outputs`: an output file or folder must not be, or lie inside, any input tree of
  the command, and no input may lie inside a folder the command writes into. Seen before this
  rule: ``overlay --out`` equal to the images folder overwrote every frame, ``score --json`` on a
  label file replaced it, ``--csv`` overwrote a prediction file. Paths are compared after
  resolving symlinks and ``..``, so another spelling of the same folder is caught too.
* :func:`child`: a path built from a name that came from a user or a file (an experiment, a fold,
  a team, a frame) is one plain component under its root: no ``/``, no ``..``, no absolute path,
  no NUL, no empty name. Seen: a sweep experiment named ``../../escaped`` wrote outside ``--out``.

Both raise :class:`PathError`, an :class:`~adaptor_score.frames.InputFileError`: exit 2 with the
message in every command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from adaptor_score.frames import InputFileError


class PathError(InputFileError):
    """A path the command must not write to, or a name that would leave its root."""


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(p))))


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def relation(a: str | os.PathLike, b: str | os.PathLike) -> str | None:
    """How path ``a`` stands to ``b`` once both are resolved: ``"is"``, ``"lies inside"``,
    ``"contains"``, or None when they are apart.

    >>> relation("/data/gt/s1", "/data/gt"), relation("/data", "/data/gt"), relation("/a", "/b")
    ('lies inside', 'contains', None)
    """
    ra, rb = _real(a), _real(b)
    if ra == rb:
        return "is"
    if rb in ra.parents:
        return "lies inside"
    if ra in rb.parents:
        return "contains"
    return None


def check_outputs(
    inputs: Mapping[str, str | os.PathLike | None],
    outputs: Mapping[str, str | os.PathLike | None],
) -> None:
    """Refuse outputs that are, or lie inside, an input; inputs inside an output folder; and two
    outputs on the same path. Keys are what the user typed (``"--json"``, ``"GT_DIR"``); a
    ``None`` value is an option not given.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> check_outputs({"GT_DIR": d / "gt"}, {"--json": d / "score.json"})
    >>> check_outputs({"GT_DIR": d / "gt"}, {"--json": d / "gt" / "a" / "s.json"})
    Traceback (most recent call last):
    ...
    adaptor_score.pathguard.PathError: ...s.json: --json lies inside the input GT_DIR (...gt); ...
    """
    ins = {k: (Path(v), _real(v)) for k, v in inputs.items() if v is not None}
    outs = {k: (Path(v), _real(v)) for k, v in outputs.items() if v is not None}
    for ok, (shown, out) in outs.items():
        for ik, (ishown, inp) in ins.items():
            if out == inp:
                raise PathError(shown, f"{ok} is the input {ik} ({ishown}); {_ADVICE}")
            if _within(out, inp):
                raise PathError(shown, f"{ok} lies inside the input {ik} ({ishown}); {_ADVICE}")
            if _within(inp, out):
                raise PathError(shown, f"the input {ik} ({ishown}) lies inside {ok}; {_ADVICE}")
    seen: dict[Path, str] = {}
    for ok, (shown, out) in outs.items():
        if out in seen:
            raise PathError(shown, f"{ok} and {seen[out]} are the same path; give each its own")
        seen[out] = ok


_ADVICE = "nothing was written: choose an output outside every input"


def check_name(name: str, what: str) -> str:
    """``name`` if it is one plain path component, else :class:`PathError` saying ``what`` it is.

    >>> check_name("v1_sigma3", "experiment")
    'v1_sigma3'
    >>> check_name("../x", "experiment")
    Traceback (most recent call last):
    ...
    adaptor_score.pathguard.PathError: ../x: the experiment name cannot be a file name: ...
    """
    bad = None
    if not isinstance(name, str) or not name.strip():
        bad = "it is empty"
    elif name in (".", ".."):
        bad = f"{name!r} names a folder itself"
    elif "/" in name or "\\" in name or "\0" in name:
        bad = "it holds '/', '\\' or NUL"
    elif len(name.encode("utf-8", "surrogateescape")) > 200:
        bad = "it is longer than 200 bytes"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        bad = "it holds a control character"
    if bad:
        raise PathError(name, f"the {what} name cannot be a file name: {bad}")
    return name


def child(root: str | os.PathLike, *names: str, what: str = "name") -> Path:
    """``root / name / ...`` where each name is checked by :func:`check_name`, and the result
    (symlinks resolved) still lies under ``root``.

    >>> child("/runs", "v1", "fold-1")
    PosixPath('/runs/v1/fold-1')
    """
    path = Path(root)
    for name in names:
        path = path / check_name(name, what)
    if not _within(_real(path), _real(root)):
        raise PathError(path, f"the {what} leads outside {root} (through a symbolic link)")
    return path

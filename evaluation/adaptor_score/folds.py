"""Cross-validation folds: leave-one-folder-out by default, or a fold file.

Fold files are CSV. Without a header the columns are positional: ``folder,fold``,
``folder,video,fold`` or ``folder,video,frame,fold``. With a header, columns are found by name:
``folder`` (or ``surgery_folder``, as in the authors' published fold list), optional ``video``
and ``frame``, and ``fold``. The most specific row wins (frame over video over folder).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from adaptor_score.contract import image_stem
from adaptor_score.frames import FrameKey, InputFileError
from adaptor_score.pathguard import PathError, check_name
from adaptor_score.safefiles import BadFile, read_text

_FOLDER_COLUMNS = ("folder", "surgery_folder", "surgery", "simulation")


class FoldFileError(InputFileError):
    """A fold file that cannot be used; names the file."""


def leave_one_folder_out(keys: Sequence[FrameKey]) -> list[str]:
    """Fold of each frame = its surgery/simulation folder."""
    return [k.folder for k in keys]


def read_fold_file(path: str | Path) -> dict[tuple[str, ...], str]:
    """Rules ``(folder[, video[, frame]]) -> fold`` from a fold CSV."""
    path = Path(path)
    try:
        text = read_text(path, 64 << 20)
    except BadFile as e:
        raise FoldFileError(path, str(e)) from None
    try:
        rows = [
            r for r in csv.reader(io.StringIO(text, newline="")) if r and any(c.strip() for c in r)
        ]
    except csv.Error as e:
        raise FoldFileError(path, f"not a readable CSV: {e}") from None
    if not rows:
        raise FoldFileError(path, "empty fold file")
    header = [c.strip().lower() for c in rows[0]]
    rules: dict[tuple[str, ...], str] = {}
    if "fold" in header:
        folder_col = next((header.index(c) for c in _FOLDER_COLUMNS if c in header), None)
        if folder_col is None:
            raise FoldFileError(
                path, f"header needs a folder column ({', '.join(_FOLDER_COLUMNS)})"
            )
        cols = [folder_col] + [header.index(c) for c in ("video", "frame") if c in header]
        if "frame" in header and "video" not in header:
            raise FoldFileError(path, "a 'frame' column needs a 'video' column")
        fold_col = header.index("fold")
        body = [
            (i + 2, [r[c].strip() if c < len(r) else "" for c in cols], r)
            for i, r in enumerate(rows[1:])
        ]
        entries = []
        for line, key, r in body:
            if fold_col >= len(r) or not r[fold_col].strip() or not all(key):
                raise FoldFileError(path, f"line {line}: missing a value")
            entries.append((line, tuple(key), r[fold_col].strip()))
    else:
        entries = []
        for i, r in enumerate(rows):
            cells = [c.strip() for c in r]
            if not 2 <= len(cells) <= 4 or not all(cells):
                raise FoldFileError(
                    path, f"line {i + 1}: expected folder[,video[,frame]],fold, got {','.join(r)!r}"
                )
            entries.append((i + 1, tuple(cells[:-1]), cells[-1]))
    for line, key, fold in entries:
        if len(key) == 3:  # one meaning in both forms: "000000.png" names frame "000000"
            key = (key[0], key[1], image_stem(key[2]))
        try:
            check_name(fold, "fold")  # a fold names a run folder (fold-<name>)
        except PathError as e:
            raise FoldFileError(path, f"line {line}: {e.problem}") from None
        if key in rules and rules[key] != fold:
            raise FoldFileError(
                path, f"line {line}: {'/'.join(key)} is in fold {rules[key]} and fold {fold}"
            )
        rules[key] = fold
    return rules


def assign_folds(keys: Sequence[FrameKey], fold_file: str | Path | None = None) -> list[str | None]:
    """Fold of each frame; None for a frame no rule of the fold file covers."""
    if fold_file is None:
        return list(leave_one_folder_out(keys))
    rules = read_fold_file(fold_file)
    out: list[str | None] = []
    for k in keys:
        out.append(
            rules.get((k.folder, k.video, k.frame))
            or rules.get((k.folder, k.video))
            or rules.get((k.folder,))
        )
    return out

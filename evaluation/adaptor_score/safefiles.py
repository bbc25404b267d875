"""Opening and walking untrusted trees without hanging, recursing or reading without bound.

A prediction tree is written by a participant's container, so anything can be in it: a FIFO named
``000001.json`` (opening it for reading blocks until a writer appears: forever), a character device
(``/dev/zero`` never ends), a thousand nested folders (a recursive walk raises ``RecursionError``),
a hundred thousand empty files. The rules here:

* **Open, then check.** Files are opened with ``O_NONBLOCK`` (a FIFO opens at once instead of
  waiting for a writer) and checked with ``fstat`` on the open descriptor: only a regular file is
  read. Checking the path first and opening it afterwards would leave a window in which the file
  can be swapped for a FIFO.
* **Read to the stated size, never past the limit.**
* **Walk iteratively, with bounds**: depth and number of entries; what lies beyond is reported,
  never silently dropped.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adaptor_score.contract import DEFAULT_MAX_BYTES, MAX_TREE_DEPTH, MAX_TREE_ENTRIES


class BadFile(Exception):
    """An input file that cannot be used; the message says why."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def kind_of(mode: int) -> str:
    """A short description of a non-regular file mode.

    >>> kind_of(stat.S_IFIFO | 0o644)
    'a FIFO (named pipe)'
    """
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | os.PathLike) -> tuple[int, int]:
    """Open ``path`` for reading without blocking; returns ``(fd, size)`` of a regular file.

    Raises :class:`BadFile` for anything else (FIFO, device, socket, folder) or when it cannot be
    opened. The caller closes ``fd``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        try:  # say what it is when that is why (a socket cannot be opened at all: ENXIO)
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise BadFile(f"not a regular file: it is {kind_of(mode)}") from None
        raise BadFile(f"cannot read the file: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadFile(f"not a regular file: it is {kind_of(st.st_mode)}")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def read_bytes(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file, refusing files above ``max_bytes`` without reading them.

    >>> import tempfile; f = tempfile.NamedTemporaryFile(delete=False); _ = f.write(b"{}"); f.close()
    >>> read_bytes(f.name)
    b'{}'
    >>> read_bytes("/dev/null")
    Traceback (most recent call last):
    ...
    adaptor_score.safefiles.BadFile: not a regular file: it is a character device
    """
    raw = read_small(path, max_bytes)  # the common case in one call; else read carefully here
    if raw is not None:
        return raw
    fd, size = open_regular(path)
    try:
        if size > max_bytes:
            raise BadFile(f"file is {size:,} bytes, above the limit of {max_bytes:,} bytes")
        # Sized reads: a read of max_bytes would allocate that much for every small file. A file
        # that grows while it is read is still cut at the limit.
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(max(size - total, 0) + 1, max_bytes + 1 - total))
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


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_small(path: str | os.PathLike, max_bytes: int) -> bytes | None:
    """The bytes of a regular, non-empty file of at most ``max_bytes``, read in one call; None
    when anything is unusual (cannot be opened, not a regular file, empty, too large, changed
    size while read), and then :func:`read_bytes`, which tries this first, reads it again
    carefully and says what is wrong.

    The same rules as :func:`read_bytes` (non-blocking open, ``fstat`` on the open descriptor,
    never past the limit) with one function call instead of three: reading 20,000 small files
    takes 2 µs less each (measured in ``benchmarks/bench_scoring.py``).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        size = st.st_size
        if not (0 < size <= max_bytes and stat.S_ISREG(st.st_mode)):
            return None
        raw = os.read(fd, size + 1)  # one byte more: a file that grew is noticed
    except OSError:
        return None
    finally:
        os.close(fd)
    return raw if len(raw) == size else None


def read_toml(path: str | os.PathLike, max_bytes: int = 1 << 20) -> dict:
    """A TOML document from a regular UTF-8 file; :class:`BadFile` for anything else, including
    nesting deep enough to exhaust the parser's recursion (seen: ``RecursionError`` and exit 1 in
    three commands before this reader).

    >>> import tempfile; f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    >>> _ = f.write("a = " + "[" * 5000 + "]" * 5000); f.close()
    >>> read_toml(f.name)
    Traceback (most recent call last):
    ...
    adaptor_score.safefiles.BadFile: not usable TOML: nested too deeply
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = read_text(path, max_bytes)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BadFile(f"not valid TOML: {e}") from None
    except RecursionError:
        raise BadFile("not usable TOML: nested too deeply") from None


def read_text(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A regular UTF-8 text file (an optional BOM is dropped); :class:`BadFile` otherwise."""
    raw = read_bytes(path, max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadFile(f"not UTF-8 text (byte {e.start})") from None


def inside(root_real: str, path: str) -> bool:
    """Whether ``path``, symlinks resolved, lies inside the resolved folder ``root_real``."""
    target = os.path.realpath(path)
    return os.path.commonpath([root_real, target]) == root_real


@dataclass(frozen=True)
class WalkLimits:
    """Bounds of one walk: folders deeper than ``max_depth`` below the root are not entered, and
    the walk stops after ``max_entries`` entries (files and folders)."""

    max_depth: int = MAX_TREE_DEPTH
    max_entries: int = MAX_TREE_ENTRIES


def walk_files(
    root: str | Path, suffixes: tuple[str, ...], limits: WalkLimits = WalkLimits()
) -> Iterator[tuple[str, str | None]]:
    """Entries below ``root`` whose lower-case name ends with one of ``suffixes``, in sorted
    order, without following symlinked folders; iterative and bounded by ``limits``.

    Yields ``(path, problem)``: problem is None for a usable regular file (or a symlink to one
    inside ``root``), else why it is not used: a symlink leading outside ``root``, a dangling
    symlink, a symlinked folder (never walked), a FIFO, device or socket with a matching name, a
    folder that cannot be listed, a folder below the depth limit, or the walk stopping at its
    entry limit.
    """
    root_real = os.path.realpath(root)
    stack: list[tuple[str, int]] = [(str(root), 0)]
    seen = 0
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield current, f"cannot list the folder: {e.strerror or e}"
            continue
        seen += len(entries)
        if seen > limits.max_entries:
            yield (
                current,
                (
                    f"the tree holds more than {limits.max_entries:,} entries; the walk stopped here"
                    " and what was not reached is not used"
                ),
            )
            return
        subdirs = []
        for entry in entries:
            try:
                problem = _entry_problem(entry, root_real, suffixes)
            except OSError as e:  # the entry vanished or cannot be examined
                problem = f"cannot examine: {e.strerror or e}"
            if problem == "dir":
                if depth + 1 > limits.max_depth:
                    yield (
                        entry.path,
                        (f"folder is nested deeper than {limits.max_depth} levels; not read"),
                    )
                else:
                    subdirs.append((entry.path, depth + 1))
            elif problem != "skip":
                yield entry.path, problem
        stack.extend(reversed(subdirs))


def _entry_problem(entry: os.DirEntry, root_real: str, suffixes: tuple[str, ...]) -> str | None:
    """'dir' to descend, 'skip' to ignore, None for a usable file, else the problem."""
    if entry.is_file(follow_symlinks=False):  # the directory entry's type: no system call
        # (opening it re-checks with fstat, so a swap after this is still caught)
        return None if entry.name.lower().endswith(suffixes) else "skip"
    if entry.is_symlink():
        if entry.is_dir():
            where = "" if inside(root_real, entry.path) else ": it leads outside"
            return f"symlinked folder is not followed{where}"
        if not entry.name.lower().endswith(suffixes):
            return "skip"
        if not inside(root_real, entry.path):
            return f"symlink leads outside the folder read (to {os.path.realpath(entry.path)})"
        try:
            mode = os.stat(entry.path).st_mode
        except OSError:
            return "symlink to nothing readable (dangling)"
        return None if stat.S_ISREG(mode) else f"symlink to {kind_of(mode)}, not a regular file"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    if not entry.name.lower().endswith(suffixes):
        return "skip"
    mode = entry.stat(follow_symlinks=False).st_mode
    return None if stat.S_ISREG(mode) else f"not a regular file: it is {kind_of(mode)}"


@dataclass(frozen=True)
class TreeUsage:
    """What a tree holds: allocated ``bytes`` (at least the stated size of each file), ``entries``
    (files, folders, links, anything), the ``depth`` reached, and whether the walk stopped early
    (``truncated``) because it met ``max_depth`` or ``max_entries``."""

    bytes: int
    entries: int
    depth: int
    truncated: bool


def scan_tree(root: str | Path) -> Iterator[tuple[os.DirEntry, int]]:
    """``(entry, depth)`` for every entry below ``root`` (depth 1 = directly in it), each folder
    before its contents; iterative and lazy (a caller that stops early stops the walk), never
    following symlinks, skipping folders that cannot be listed."""
    stack = [(str(root), 0)]
    while stack:
        current, depth = stack.pop()
        try:
            it = os.scandir(current)
        except OSError:
            continue
        with it:
            for entry in it:
                yield entry, depth + 1
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, depth + 1))
                except OSError:
                    pass


def tree_usage(
    root: str | Path, max_depth: int = MAX_TREE_DEPTH, max_entries: int = MAX_TREE_ENTRIES
) -> TreeUsage:
    """Measure a tree, never raising for what it finds; stops at the first folder deeper than
    ``max_depth`` or past ``max_entries`` entries (``truncated``).

    Each entry counts with ``max(size, allocated blocks)``, so a hundred thousand empty files are
    not free, and entries that vanish during the walk are skipped.
    """
    total = entries = deepest = 0
    for entry, depth in scan_tree(root):
        entries += 1
        if entries > max_entries:
            return TreeUsage(total, entries, deepest, True)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        total += max(st.st_size, getattr(st, "st_blocks", 0) * 512)
        if stat.S_ISDIR(st.st_mode):
            if depth > max_depth:
                return TreeUsage(total, entries, depth, True)
            deepest = max(deepest, depth)
    return TreeUsage(total, entries, deepest, False)


def remove_tree(root: str | Path) -> None:
    """Delete a tree of any depth (``shutil.rmtree`` recurses and fails on very deep trees);
    symlinks are removed, never followed; errors are ignored, as with ``ignore_errors``."""
    folders = [str(root)]
    for entry, _ in scan_tree(root):
        try:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)  # a folder always comes after its parent
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    for folder in reversed(folders):
        try:
            os.rmdir(folder)
        except OSError:
            pass

"""Writing files so that each is complete or absent: a temporary file, flushed, then renamed.

Every file the toolkit writes (reports, tables, overlays, heatmaps, configs, checkpoints, sites)
goes through this module:

* **Temporary file in the same folder, then** ``os.replace``. A kill or a full disk part-way
  leaves the previous file as it was (a rename within one file system is atomic), never a 0-byte
  or truncated one; the temporary file is removed on failure.
* **Flushed to disk** (``fsync``) before the rename, so a power cut cannot leave the new name
  pointing at empty blocks.
* **The rename replaces the name, not the file**: a hard link or symlink at the target (perhaps
  to an input) is replaced, the file it led to is left untouched.
* **Only a regular file is replaced**: a target that exists and is a device, a FIFO, a socket or
  a folder is refused (``--json /dev/null`` run as root would otherwise replace the system's
  ``/dev/null`` with a regular file). A file that is replaced keeps its permission bits (a 0600
  report stays 0600); a new file gets the usual ones (0666 less the umask).
* **Errors name the path**: an ``OSError`` (no space, no permission, read-only file system)
  becomes :class:`WriteError`, an :class:`~adaptor_score.frames.InputFileError` that every command
  line turns into exit 2 with the message.

A folder that is published as a whole (the leaderboard site) is built in a new sibling folder and
swapped in by :func:`replacing_dir`: readers see the old site or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from adaptor_score.frames import InputFileError


class WriteError(InputFileError):
    """A file or folder that could not be written; the previous one (if any) is unchanged."""


def _read_umask() -> int:
    mask = os.umask(0o022)  # read it the only way POSIX allows, and put it back at once
    os.umask(mask)
    return mask


# Read once at import: os.umask is process-wide, so reading it per file from the writer threads
# (predict writes on one) could briefly change it under another thread's file creation.
_UMASK = _read_umask()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends
    without an exception, removed otherwise. Its name is ``.<name>.<random>.tmp``: a file left
    by a kill (``SIGKILL`` runs no clean-up) never matches ``*.json`` or ``*.png`` in a tree that
    is read later. Writers that choose a format by the file name (Pillow, matplotlib) must be
    told the format.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('done', ['a.txt'])
    """
    path = Path(path)
    mode = _mode_to_keep(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp"
        )
        os.close(fd)
        os.chmod(tmp_name, mode)  # mkstemp makes 0600; a new report is as any new file
    except OSError as e:
        raise WriteError(path, f"cannot write: {e.strerror or e}") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        _unlink(tmp)
        raise WriteError(path, f"cannot write: {e.strerror or e}; nothing was replaced") from None
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(path.parent)


_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}  # fmt: skip


def _mode_to_keep(path: Path) -> int:
    """The permission bits the written file gets: those of the regular file it replaces, else
    the usual ones. A target that is anything but a regular file (or a link, whose name is
    replaced) is refused before anything is written."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0o666 & ~_UMASK
    except OSError as e:
        raise WriteError(path, f"cannot write: {e.strerror or e}") from None
    if stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return 0o666 & ~_UMASK
    kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
    raise WriteError(path, f"exists and is {kind}; refusing to replace it with a file")


def _unlink(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (complete or absent)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, errors: str = "strict") -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (complete or absent)."""
    return write_bytes(path, text.encode("utf-8", errors))


def write_with(path: str | os.PathLike, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp)`` (e.g. ``image.save``, ``fig.savefig``, ``torch.save``) and rename the
    result over ``path``. ``tmp`` ends in ``.tmp``: pass the format (``image.save(tmp, "PNG")``)."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


@contextlib.contextmanager
def replacing_dir(path: str | os.PathLike, owned: Callable[[Path], bool]) -> Iterator[Path]:
    """A new, empty folder beside ``path`` to build a whole output in; when the block ends
    without an exception it takes ``path``'s place, the old folder is removed, and on failure the
    new one is removed and ``path`` is untouched.

    ``owned(name)`` says which entries of an existing ``path`` the command itself writes: a
    folder holding anything else is refused (:class:`WriteError`) rather than deleted.

    >>> import tempfile; d = Path(tempfile.mkdtemp()) / "site"
    >>> with replacing_dir(d, lambda p: p.name == "index.html") as new:
    ...     _ = (new / "index.html").write_text("v1")
    >>> [p.name for p in d.iterdir()]
    ['index.html']
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise WriteError(path, "exists and is not a folder; refusing to replace it")
        try:
            foreign = sorted(p.name for p in path.iterdir() if not owned(p))
        except OSError as e:
            raise WriteError(path, f"cannot list the folder: {e.strerror or e}") from None
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise WriteError(
                path,
                f"holds files this command did not write ({shown}); choose an empty or new folder",
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name[:64]}.new-"))
    except OSError as e:
        raise WriteError(path, f"cannot write: {e.strerror or e}") from None
    try:
        yield new
        os.chmod(new, 0o777 & ~_UMASK)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name[:64]}.old-"))
            os.replace(path, old / "site")
        try:
            os.replace(new, path)
        except OSError:
            if old is not None:  # put the old one back: never leave no folder at all
                os.replace(old / "site", path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(new, ignore_errors=True)
        raise WriteError(
            path, f"cannot write: {e.strerror or e}; the previous one is kept"
        ) from None
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise

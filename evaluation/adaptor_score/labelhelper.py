"""The helper process that reads label files, and how the caller shares that reading with it.

The helper (a fresh interpreter running this module, never a fork of a process that may hold
threads) reads the label files from the first one on, while the caller reads the prediction
files. A shared 2-core machine runs the two processes at speeds that drift by 20-40 % from one
run to the next, so no fixed split keeps both busy to the end: when the caller is done with its
own files and the helper is not, the caller reads the remaining label files from the last one
backwards, a chunk at a time, until the two meet.

Two pipes carry the meeting: before each chunk the caller writes where its chunk starts (the
helper stops there), and after each chunk the helper writes how many files it has read (the
caller stops one chunk short of that). Both read only the newest number; a chunk at the meeting
point may be read by both, which changes nothing (the same file, the same rules). The result is
exactly that of one pass in file order: the files are joined in order, and the error reported is
the first broken file (the helper stops at its first, the caller at the first of its chunks).

The helper runs the same function as the caller
(:func:`~adaptor_score.groundtruth.read_label_files`). What it sends back is plain data (msgpack
decoded with a typed schema: counts, sizes, coordinates as float64 bytes, the index and message
of a broken file) checked for consistency, so nothing from it can run code. If it cannot start,
dies or answers anything that does not fit, the caller reads its share itself.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path

import msgspec

from adaptor_score.groundtruth import GroundTruthError, LabelData, read_label_files

CHUNK = 64  # files between two looks at the pipes: about 1 ms of reading
_MARK = struct.Struct("<q")
# Isolated mode (-I): neither the working folder nor PYTHON* variables can put other modules in
# the helper's way; it imports this very copy of the package.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
_HELPER_MAIN = (
    "import sys; sys.path.insert(0, {!r}); "
    "from adaptor_score.labelhelper import _serve; sys.exit(_serve())"
)


class _Request(msgspec.Struct):
    labels: list[str]
    claims_fd: int  # the caller writes the first file of each chunk it takes
    progress_fd: int  # the helper writes how many files it has read


class _Reply(msgspec.Struct):
    counts: list[int] = []
    sizes: list[tuple[int, int] | None] = []
    xy: bytes = b""
    error: tuple[int, str] | None = None  # index of the first broken file, and why


def _newest(fd: int, current: int) -> int:
    """The last number written to a non-blocking pipe, or ``current`` when none is new."""
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return current
    whole = len(data) - len(data) % _MARK.size  # writes of 8 bytes arrive whole (PIPE_BUF)
    return _MARK.unpack_from(data, whole - _MARK.size)[0] if whole else current


class LabelHelper:
    """A running helper process reading ``paths``; :meth:`labels` shares the rest and returns
    all of them, as :func:`~adaptor_score.groundtruth.read_label_files` would."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        self.read_here = 0  # label files the caller read itself (shared or left by the helper)
        claims_r, self._claims_w = os.pipe()
        self._progress_r, progress_w = os.pipe()
        os.set_blocking(self._progress_r, False)
        # The request and the reply travel as unnamed temporary files: through a pipe (64 KiB)
        # the 1.5 MB request would need a writer thread, which waits up to 5 ms for the
        # interpreter lock at every refill while this process reads (0.1 s measured).
        self._reply = tempfile.TemporaryFile()
        try:
            with tempfile.TemporaryFile() as request:
                request.write(msgspec.msgpack.encode(_Request(paths, claims_r, progress_w)))
                request.seek(0)
                self.proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", _HELPER_MAIN.format(_PACKAGE_PARENT)],
                    stdin=request,
                    stdout=self._reply,
                    stderr=subprocess.DEVNULL,
                    pass_fds=(claims_r, progress_w),
                )
        except BaseException:
            self._release()
            raise
        finally:
            os.close(claims_r)  # the helper's ends: it holds its own copies
            os.close(progress_w)

    def labels(self) -> LabelData:
        """Every label file's points; :class:`GroundTruthError` for the first broken one."""
        low, parts, seen, mine_error = len(self.paths), [], 0, None
        while mine_error is None and self.proc.poll() is None:
            seen = _newest(self._progress_r, seen)
            start = max(low - CHUNK, seen + CHUNK)  # one chunk of room for the helper's current
            if start >= low:
                break
            try:
                os.write(self._claims_w, _MARK.pack(start))
            except OSError:
                break  # the helper has just ended: its reply decides the rest
            part = LabelData([], [], [])
            try:
                read_label_files(self.paths[start:low], part)
            except GroundTruthError as e:
                mine_error = e  # the first broken file of [start, end of the list)
            parts.append(part)
            self.read_here += low - start
            low = start
        head = self._helper_part(low)
        if mine_error is not None:
            raise mine_error  # every file before `low` was read without error
        return _join([head, *reversed(parts)])

    def _helper_part(self, low: int) -> LabelData:
        """Files ``[0, low)``: the helper's, completed here if it stopped short or failed."""
        reply = self._wait()
        head = LabelData([], [], [])
        if reply is not None:
            n = min(len(reply.counts), low)
            if reply.error is not None and reply.error[0] < low:
                raise GroundTruthError(self.paths[reply.error[0]], reply.error[1])
            import numpy as np

            end = 2 * sum(reply.counts[:n])
            head = LabelData(
                np.frombuffer(reply.xy, "<f8")[:end], reply.counts[:n], reply.sizes[:n]
            )
        if len(head.counts) < low:
            rest = LabelData([], [], [])
            self.read_here += low - len(head.counts)
            read_label_files(self.paths[len(head.counts) : low], rest)  # raises at the first
            head = _join([head, rest])
        return head

    def _wait(self) -> _Reply | None:
        """The helper's reply once it has exited, or None when it is unusable."""
        self._close("_claims_w")  # the end of the claims: the helper stops where they stopped
        try:
            code = self.proc.wait()
            self._reply.seek(0)
            raw = self._reply.read()
        except OSError:
            self.proc.kill()
            return None
        finally:
            self._release()
        if code != 0:
            return None
        try:
            reply = msgspec.msgpack.decode(raw, type=_Reply)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        n = len(reply.counts)
        fits = (
            n <= len(self.paths)
            and len(reply.sizes) == n
            and min(reply.counts, default=0) >= 0
            and len(reply.xy) == 16 * sum(reply.counts)
            and (reply.error is None or reply.error[0] == n < len(self.paths))
        )
        return reply if fits else None

    def stop(self) -> None:
        """End the helper without using what it read."""
        self.proc.kill()
        self.proc.wait()
        self._release()

    def _release(self) -> None:
        self._close("_claims_w")
        self._close("_progress_r")
        self._reply.close()

    def _close(self, name: str) -> None:
        """Close a pipe end once: a second close of its number could close a file opened
        since under the same number."""
        fd = getattr(self, name)
        if fd >= 0:
            setattr(self, name, -1)
            try:
                os.close(fd)
            except OSError:
                pass


def _join(parts: list[LabelData]) -> LabelData:
    import numpy as np

    xy = np.concatenate([np.asarray(p.xy, dtype=np.float64) for p in parts] or [np.zeros(0)])
    return LabelData(xy, [c for p in parts for c in p.counts], [s for p in parts for s in p.sizes])


def _float64_bytes(values: list[float]) -> bytes:
    xy = array("d", values)
    if sys.byteorder != "little":  # pragma: no cover
        xy.byteswap()
    return xy.tobytes()


def _serve() -> int:
    from adaptor_score.filereader import paused_gc

    request = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=_Request)
    os.set_blocking(request.claims_fd, False)
    os.set_blocking(request.progress_fd, False)
    out, error, limit = LabelData([], [], []), None, len(request.labels)
    with paused_gc():
        while len(out.counts) < limit:
            limit = min(limit, _newest(request.claims_fd, limit))
            done = len(out.counts)
            if done >= limit:
                break
            try:
                read_label_files(request.labels[done : min(done + CHUNK, limit)], out)
            except GroundTruthError as e:
                error = (len(out.counts), e.problem)
                break
            try:
                os.write(request.progress_fd, _MARK.pack(len(out.counts)))
            except OSError:
                pass  # the caller is not looking (full pipe) or no longer (closed): either is fine
    reply = _Reply(out.counts, out.sizes, _float64_bytes(out.xy), error)
    sys.stdout.buffer.write(msgspec.msgpack.encode(reply))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())

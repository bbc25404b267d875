"""The helper process that reads files for a scoring run, and how the caller shares with it.

The helper (a fresh interpreter in isolated mode, never a fork of a process that may hold
threads) reads the label files from the first one on while the caller walks and reads the
prediction files from the first one on. A shared 2-core machine runs the two at speeds that
drift by 20-40 % from one run to the next, so no fixed split keeps both busy to the end; instead
whoever finishes its own list first takes the other's from the back, a chunk at a time, until
the two meet: the helper the last prediction files, or the caller the last label files.

Pipes carry the meeting: before each chunk, each side writes where its claim now reaches, and
reads where the other's does; both read only the newest number. Near the meeting point a chunk
may be read by both, which changes nothing (the same file, the same rules). The result is that
of one pass in order:

* files are joined in order, and for labels the error reported is the first broken file (each
  side stops at the first of its own part);
* the limit on the prediction files' total size counts in walk order. Each side counts its own
  part; when both together stay more than one file's limit below the total, every file met the
  limits of one pass. Otherwise the caller reads the helper's part again, continuing its count.

Both sides run the same readers (:func:`~adaptor_score.groundtruth.read_label_files`,
:func:`~adaptor_score.predictions.read_prediction_files`). What the helper sends back is plain
data (msgpack decoded with a typed schema) checked for consistency, so nothing from it can run
code; if it cannot start, dies or answers anything that does not fit, the caller reads its part.
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
from adaptor_score.predictions import Budget, FileRead, read_prediction_files

CHUNK = 64  # files between two looks at the pipes: about 1 ms of reading
_MAX_INT = 2**63 - 1
_MARK = struct.Struct("<q")
# Isolated mode (-I): neither the working folder nor PYTHON* variables can put other modules in
# the helper's way; it imports this very copy of the package.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
_HELPER_MAIN = (
    "import sys; sys.path.insert(0, {!r}); "
    "from adaptor_score.readhelper import _serve; sys.exit(_serve())"
)


class _Request(msgspec.Struct):
    labels: list[bytes]  # file names as the file system has them (os.fsencode): any bytes
    max_bytes: int
    max_total_bytes: int
    # label claims and progress, the prediction list, prediction claims and progress
    fds: tuple[int, int, int, int, int]


class _Reply(msgspec.Struct):
    counts: list[int] = []  # label files [0, len(counts)) read without error
    sizes: list[tuple[int, int] | None] = []
    xy: bytes = b""
    error: tuple[int, str] | None = None  # index of the first broken label file, and why
    pred_start: int = -1  # prediction files [pred_start, end) were read (-1: none)
    reads: list[FileRead] = []
    pred_xy: bytes = b""


class _Pipe:
    """One end of a pipe carrying numbers; closed once (a second close of its number could
    close a file opened since under the same number)."""

    def __init__(self, fd: int, blocking: bool = False):
        self.fd = fd
        os.set_blocking(fd, blocking)

    def newest(self, current: int) -> int:
        """The last number written, or ``current`` when none is new (or the writer is gone)."""
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return current
        whole = len(data) - len(data) % _MARK.size  # writes of 8 bytes arrive whole (PIPE_BUF)
        return _MARK.unpack_from(data, whole - _MARK.size)[0] if whole else current

    def send(self, n: int) -> bool:
        """Write ``n``; False when the reader is gone or the pipe is full (not waited for)."""
        try:
            os.write(self.fd, _MARK.pack(n))
            return True
        except OSError:
            return False

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


class ReadHelper:
    """A running helper process reading ``label_paths``; :meth:`predictions` and
    :meth:`labels` share the rest and return everything as one pass would."""

    def __init__(self, label_paths: list[str], max_bytes: int, max_total_bytes: int):
        self.label_paths = label_paths
        # msgpack carries 64-bit numbers; a larger limit means the same as the largest
        max_bytes, max_total_bytes = min(max_bytes, _MAX_INT), min(max_total_bytes, _MAX_INT)
        self.max_bytes, self.max_total_bytes = max_bytes, max_total_bytes
        self.labels_here = 0  # label files the caller read itself
        self.predictions_there = 0  # prediction files whose reading the helper's was kept
        self._reply: _Reply | None = None
        self._exited = False
        # The request and the reply travel as unnamed temporary files: through a pipe (64 KiB)
        # the 1.5 MB request would need a writer thread, which waits up to 5 ms for the
        # interpreter lock at every refill while this process reads (0.1 s measured).
        self._pred_list = tempfile.TemporaryFile()
        self._reply_file = tempfile.TemporaryFile()
        self._pipes: list[_Pipe] = []  # this side's ends, closed by _release whatever happens
        theirs: list[int] = []
        try:
            # label claims (we write), label progress (we read), prediction claims, progress
            for we_write in (True, False, True, False):
                r, w = os.pipe()
                self._pipes.append(_Pipe(w if we_write else r))
                theirs.append(r if we_write else w)
            self._label_claims, self._label_progress, self._pred_claims, self._pred_progress = (
                self._pipes
            )
            fds = (theirs[0], theirs[1], self._pred_list.fileno(), theirs[2], theirs[3])
            with tempfile.TemporaryFile() as request:
                request.write(
                    msgspec.msgpack.encode(_Request([os.fsencode(p) for p in label_paths],
                                                    max_bytes, max_total_bytes, fds))  # fmt: skip
                )
                request.seek(0)
                self.proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", _HELPER_MAIN.format(_PACKAGE_PARENT)],
                    stdin=request,
                    stdout=self._reply_file,
                    stderr=subprocess.DEVNULL,
                    pass_fds=fds,
                )
        except BaseException:
            self._release()
            raise
        finally:
            for fd in theirs:  # the helper holds its own copies
                os.close(fd)

    def predictions(self, paths: list[str], out: list[float]) -> list[FileRead]:
        """Read ``paths`` from the first one on (points appended to ``out``) while the helper,
        once done with the labels, reads from the last one back; one :class:`FileRead` each."""
        self._pred_list.write(msgspec.msgpack.encode([os.fsencode(p) for p in paths]))
        self._pred_list.flush()
        self._pred_claims.send(0)  # the list is complete
        budget = Budget(self.max_total_bytes)
        reads: list[FileRead] = []
        hi, back = 0, len(paths)
        while hi < len(paths):
            back = self._pred_progress.newest(back)
            end = min(hi + CHUNK, back)
            if end <= hi or not self._pred_claims.send(end):
                break
            reads += read_prediction_files(paths[hi:end], self.max_bytes, budget, out)
            hi = end
        self._pred_claims.close()  # the helper stops at its next look
        if hi == len(paths):
            return reads  # whatever the helper read at the end was read here too
        reply = self._wait()
        if (
            reply is not None
            and 0 <= reply.pred_start <= hi
            and len(reply.reads) == (len(paths) - reply.pred_start)
        ):
            theirs = reply.reads[hi - reply.pred_start :]
            used = self.max_total_bytes - budget.left + sum(r.consumed for r in theirs)
            if used + self.max_bytes < self.max_total_bytes:  # one pass's limits (docstring)
                skip = 2 * sum(max(r.count, 0) for r in reply.reads[: hi - reply.pred_start])
                out.extend(_floats(reply.pred_xy)[skip:].tolist())
                self.predictions_there = len(theirs)
                return reads + theirs
        return reads + read_prediction_files(paths[hi:], self.max_bytes, budget, out)

    def labels(self) -> LabelData:
        """Every label file's points; :class:`GroundTruthError` for the first broken one."""
        low, parts, seen, mine_error = len(self.label_paths), [], 0, None
        while not self._exited and mine_error is None and self.proc.poll() is None:
            seen = self._label_progress.newest(seen)
            start = max(low - CHUNK, seen + CHUNK)  # one chunk of room for the helper's current
            if start >= low or not self._label_claims.send(start):
                break
            part = LabelData([], [], [])
            try:
                read_label_files(self.label_paths[start:low], part)
            except GroundTruthError as e:
                mine_error = e  # the first broken file of [start, end of the list)
            parts.append(part)
            self.labels_here += low - start
            low = start
        head = self._helper_labels(low)
        if mine_error is not None:
            raise mine_error  # every file before `low` was read without error
        return _join([head, *reversed(parts)])

    def _helper_labels(self, low: int) -> LabelData:
        """Label files ``[0, low)``: the helper's, completed here if it stopped short."""
        reply = self._wait()
        head = LabelData([], [], [])
        if reply is not None:
            n = min(len(reply.counts), low)
            if reply.error is not None and reply.error[0] < low:
                raise GroundTruthError(self.label_paths[reply.error[0]], reply.error[1])
            end = 2 * sum(reply.counts[:n])
            head = LabelData(_floats(reply.xy)[:end], reply.counts[:n], reply.sizes[:n])
        if len(head.counts) < low:
            rest = LabelData([], [], [])
            self.labels_here += low - len(head.counts)
            read_label_files(self.label_paths[len(head.counts) : low], rest)  # raises at the first
            head = _join([head, rest])
        return head

    def _wait(self) -> _Reply | None:
        """The helper's reply once it has exited (once), or None when it is unusable."""
        if self._exited:
            return self._reply
        self._exited = True
        self._label_claims.close()  # no more claims: the helper stops where they stopped
        self._pred_claims.close()
        try:
            code = self.proc.wait()
            self._reply_file.seek(0)
            raw = self._reply_file.read()
        except OSError:
            self.proc.kill()
            return None
        finally:
            self._release()
        if code == 0:
            try:
                reply = msgspec.msgpack.decode(raw, type=_Reply)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return None
            if _fits(reply, len(self.label_paths)):
                self._reply = reply
        return self._reply

    def stop(self) -> None:
        """End the helper without using what it read."""
        if not self._exited:
            self._exited = True
            self.proc.kill()
            self.proc.wait()
            self._release()

    def _release(self) -> None:
        for pipe in self._pipes:
            pipe.close()
        self._reply_file.close()
        self._pred_list.close()


def _fits(reply: _Reply, n_labels: int) -> bool:
    n = len(reply.counts)
    return (
        n <= n_labels
        and len(reply.sizes) == n
        and min(reply.counts, default=0) >= 0
        and len(reply.xy) == 16 * sum(reply.counts)
        and (reply.error is None or reply.error[0] == n < n_labels)
        and all(r.count >= -1 and r.consumed >= 0 for r in reply.reads)
        and len(reply.pred_xy) == 16 * sum(max(r.count, 0) for r in reply.reads)
    )


def _floats(raw: bytes):
    import numpy as np

    return np.frombuffer(raw, "<f8")


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
    request = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=_Request)
    request.labels = [os.fsdecode(p) for p in request.labels]
    label_claims, label_progress, pred_list, pred_claims, pred_progress = request.fds
    label_claims, label_progress = _Pipe(label_claims), _Pipe(label_progress)
    reply = _Reply()
    out, limit = LabelData([], [], []), len(request.labels)
    while len(out.counts) < limit:
        limit = min(limit, label_claims.newest(limit))
        done = len(out.counts)
        if done >= limit:
            break
        try:
            read_label_files(request.labels[done : min(done + CHUNK, limit)], out)
        except GroundTruthError as e:
            reply.error = (len(out.counts), e.problem)
            break
        label_progress.send(len(out.counts))  # not waited for: only the newest counts
    reply.counts, reply.sizes, reply.xy = out.counts, out.sizes, _float64_bytes(out.xy)
    if reply.error is None and len(out.counts) == len(request.labels):
        _read_predictions_from_the_back(
            request, pred_list, _Pipe(pred_claims, blocking=True), _Pipe(pred_progress), reply
        )
    sys.stdout.buffer.write(msgspec.msgpack.encode(reply))
    sys.stdout.buffer.flush()
    return 0


def _read_predictions_from_the_back(request, list_fd, claims, progress, reply) -> None:
    """Once the caller has sent the prediction list, read it from the last file back."""
    first = claims.newest(-1)  # blocks until the list is complete, or the caller closes
    if first < 0:
        return
    with os.fdopen(list_fd, "rb", closefd=False) as f:
        f.seek(0)
        paths = [os.fsdecode(p) for p in msgspec.msgpack.decode(f.read(), type=list[bytes])]
    os.set_blocking(claims.fd, False)
    budget, chunks, lo, hi = Budget(request.max_total_bytes), [], len(paths), first
    while True:
        hi = claims.newest(hi)
        start = max(lo - CHUNK, hi)
        if start >= lo or not progress.send(start):
            break
        buf: list[float] = []
        chunks.append((read_prediction_files(paths[start:lo], request.max_bytes, budget, buf), buf))
        lo = start
    if chunks:
        reply.pred_start = lo
        reply.reads = [r for reads, _ in reversed(chunks) for r in reads]
        reply.pred_xy = _float64_bytes([v for _, buf in reversed(chunks) for v in buf])

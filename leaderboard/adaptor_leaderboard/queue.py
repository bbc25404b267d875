"""Running many submissions, one at a time, resumable: ``adaptor-leaderboard run QUEUE``.

A queue is a folder of archives (the team is each file's name without ``.tar``/``.tar.gz``) or
a list file (``.tsv``/``.txt``: ``team<TAB>image or archive[<TAB>institute]`` per line, ``#``
comments). Every item runs under the same limits through :func:`runner.run_submission`.

Resuming after a crash or a reboot runs nothing twice and charges nothing twice: an item is done
when the ledger holds a submission of its team with the same archive (name and SHA-256) or, for
an image name, the same image digest, that was scored or failed on the team's side. One queue
runs at a time (a lock file in the work folder); a submission of the queue's that a crash left
``queued`` or ``running`` is marked failed on our side (not charged) and its item runs again.
A broken item (an archive that is not one image, an unknown image) is reported and the queue goes
on; it is not claimed, so it costs the team nothing.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.archive import (
    ARCHIVE_SUFFIXES,
    ArchiveInfo,
    inspect_archive,
)
from adaptor_score.outputs import duration_text
from adaptor_score.safefiles import BadFile, read_text

LIST_SUFFIXES = (".tsv", ".txt")


@dataclass(frozen=True)
class Item:
    team: str
    image: str  # an image name or an archive's path
    institute: str = ""


class QueueError(ValueError):
    """A queue that cannot be read; the message names the file and line."""


def is_queue(source: str) -> bool:
    p = Path(source)
    return p.is_dir() or (p.is_file() and p.name.lower().endswith(LIST_SUFFIXES))


def read_queue(source: str | Path) -> list[Item]:
    """The items of a folder of archives or of a list file, in order."""
    src = Path(source)
    if src.is_dir():
        items = []
        for p in sorted(src.iterdir()):
            suffix = next((s for s in ARCHIVE_SUFFIXES if p.name.lower().endswith(s)), None)
            if suffix:  # a FIFO, a folder or a dangling link is an item too: refused when its turn
                items.append(Item(p.name[: -len(suffix)], str(p)))  # comes, never left uncounted
        if not items:
            raise QueueError(f"{src}: holds no .tar or .tar.gz archive")
        return items
    try:
        text = read_text(src, 1 << 20)  # a regular UTF-8 file of at most 1 MiB, never a FIFO
    except BadFile as e:
        raise QueueError(f"{src}: {e}") from None
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) not in (2, 3) or not all(cells[:2]):
            raise QueueError(f"{src}:{n}: expected team<TAB>image or archive[<TAB>institute]")
        image = cells[1]
        if image.lower().endswith(ARCHIVE_SUFFIXES) and not Path(image).is_absolute():
            image = str(src.parent / image)  # archives are named relative to the list
        items.append(Item(cells[0], image, cells[2] if len(cells) == 3 else ""))
    if not items:
        raise QueueError(f"{src}: lists no submission")
    return items


def _resolve(item: Item, client, say=None) -> tuple[str, str, ArchiveInfo | str]:
    """``(ledger field, value, what to run)``: an archive is inspected here, once (it is read in
    full for its SHA-256), and handed on as it is; an image name by its current digest."""
    import docker

    if item.image.lower().endswith(ARCHIVE_SUFFIXES):
        info = inspect_archive(item.image, say=say)
        return "archive", info.record, info
    try:
        return "digest", client.images.get(item.image).id, item.image
    except docker.errors.ImageNotFound:  # said in words, not as the engine's HTTP 404
        raise ValueError(f"image {item.image!r} is not on the container engine: load it"
                         " (docker load / podman load) or list its archive instead") from None


def _earlier(ledger, item: Item, field: str, value: str) -> list:
    """The team's submissions of this same archive or image."""
    return [s for s in ledger.submissions(team=item.team) if getattr(s, field) == value]


def _reason(e: Exception) -> str:
    """One line for the queue's report: the error's own words (an engine's HTTP error says its
    status and explanation), never a traceback."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 500 else text[:499] + "…"


def _remember(ledger, item: Item, phase: str, reason: str, say, source: str = "") -> None:
    """Record the refusal for the team's report; a ledger that cannot take it is said, and the
    queue goes on."""
    from adaptor_leaderboard.ledger import LedgerError
    from adaptor_leaderboard.refusals import record_refusal

    try:
        record_refusal(ledger, item.team, phase, source or Path(item.image).name, reason)
    except LedgerError as e:
        say(f"  the refusal could not be recorded: {e}")


class _Lock:
    def __init__(self, work_dir: Path):
        work_dir.mkdir(parents=True, exist_ok=True)
        self.path = work_dir / ".queue.lock"

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise QueueError(f"{self.path}: another queue is running in this work folder") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def run_queue(items: list[Item], client, ledger, run_one, work_dir: Path, say, after_scored=None,
              phase: str = "test", on_done=None):  # fmt: skip
    """Run the items not done yet, one at a time; ``run_one(item, source)`` runs one submission
    (``source``: the inspected archive or the image name) and
    returns its :class:`~adaptor_leaderboard.runner.RunResult`; ``after_scored()`` is called
    after each scored one (``--publish``); ``on_done(item, submission)`` for an item done
    before (``--translate`` added later runs the translation alone). Returns
    ``{status: count}``."""
    import requests

    import docker
    from adaptor_leaderboard.identity import team_name
    from adaptor_leaderboard.ledger import LedgerError

    # Whatever one item raises is that item's problem: the queue reports it and goes on.
    item_errors = (ValueError, LedgerError, docker.errors.DockerException,
                   requests.exceptions.RequestException, OSError)  # fmt: skip
    counts = {"scored": 0, "failed": 0, "done before": 0, "refused": 0}
    start, ran = time.monotonic(), 0
    with _Lock(Path(work_dir)):
        for n, item in enumerate(items, start=1):
            head = f"[{n} of {len(items)}] {item.team}: {Path(item.image).name}"
            try:
                known = ledger.canonical_team(item.team) or team_name(item.team)
                item = Item(known, item.image, item.institute)  # the ledger's spelling
                field, value, source = _resolve(item, client, lambda line, h=head: say(f"{h}: {line}"))
            except item_errors as e:
                counts["refused"] += 1
                say(f"{head}: refused, not claimed: {_reason(e)}")
                _remember(ledger, item, phase, _reason(e), say)
                continue
            earlier = _earlier(ledger, item, field, value)
            done = [s for s in earlier if s.status == "scored" or (s.status == "failed" and s.charged)]
            if done:
                counts["done before"] += 1
                say(f"{head}: done before (submission {done[0].submission_id}); not run again")
                if on_done is not None:  # e.g. the translation task added afterwards
                    on_done(item, done[0])
                continue
            for s in earlier:  # one queue at a time (the lock): what is in progress is stale
                if s.status in ("queued", "running"):
                    ledger.fail(s.submission_id, "interrupted: the queue stopped during its run;"
                                " run again by the queue", ours=True)  # fmt: skip
            spent = time.monotonic() - start
            left = f", about {duration_text(spent / ran * (len(items) - n + 1))} left" if ran else ""
            say(f"{head}: running ({duration_text(spent)} so far{left})")
            try:
                r = run_one(item, source)
            except (PermissionError, ValueError, *item_errors) as e:
                counts["refused"] += 1
                say(f"{head}: refused, not charged: {_reason(e)}")
                _remember(ledger, item, phase, _reason(e), say, value)
                continue
            ran += 1
            counts[r.status] = counts.get(r.status, 0) + 1
            say(f"{head}: {r.status}" + (f", F1 {r.f1:.4f}" if r.f1 is not None else f": {r.reason}"))
            if r.status == "scored" and after_scored is not None:
                after_scored()
    return counts

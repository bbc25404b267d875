"""Submissions that arrive as image archives (``docker save team/x | gzip > team.tar.gz``).

Before anything is claimed, an archive is checked: a regular file within the size limit that
unpacks to at most four times it, a tar (plain or gzip) that holds exactly one image (``docker save``'s ``manifest.json``, or an OCI
``index.json`` with one manifest), whose tags belong to nobody else: a tag another team submitted,
or one the engine already holds for another image that no submission of this team brought, would
be overwritten by loading, so it is refused. Its SHA-256 is computed while it is read; the image
is then loaded into the engine and run by its id (the digest the ledger records), never by a tag
that someone could move.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
MAX_ARCHIVE_BYTES = 20 << 30  # 20 GiB: a CUDA image with its weights is a few GB
MAX_MANIFEST_BYTES = 1 << 20
UNPACK_FACTOR = 4  # layers compress to a third at best: more is a bomb
# A saved image holds a few files per layer (a real CUDA image: under 300 members); tarfile keeps
# every member it has read, so a stream of empty members would grow memory without bound.
MAX_MEMBERS = 10_000
MANIFESTS = ("manifest.json", "index.json")


def member_path(name: str) -> str:
    """A member's name as the engines' loaders resolve it (``path.Clean`` in Go, the extracted
    file for Docker): ``./manifest.json`` is ``manifest.json``, ``.manifest.json`` is not.

    >>> member_path("./manifest.json"), member_path(".manifest.json"), member_path("a/../index.json")
    ('manifest.json', '.manifest.json', 'index.json')
    """
    return posixpath.normpath("/" + name).lstrip("/")


class ArchiveError(ValueError):
    """An archive that cannot be a submission; the message names the file and the problem."""


def is_archive(name: str) -> bool:
    """A name that means an archive: anything named ``*.tar``/``*.tar.gz``/``*.tgz`` is checked
    as one (a FIFO or a folder named so is refused as not a regular file), never looked up as an
    image name (which said "image ... not found")."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    sha256: str
    size: int
    tags: tuple[str, ...]
    image_id: str | None = None  # from the manifest's config name, where it says it

    @property
    def record(self) -> str:
        """What the ledger's ``archive`` column holds: ``"team.tar.gz sha256:..."``."""
        return f"{self.path.name} sha256:{self.sha256}"


class _Hashing:
    """A read-only file object that hashes what passes through it (and says how far it got)."""

    def __init__(self, f, progress=None):
        self.f, self.h, self.n, self.progress = f, hashlib.sha256(), 0, progress

    def read(self, n=-1):
        data = self.f.read(n)
        self.h.update(data)
        self.n += len(data)
        if self.progress is not None:
            self.progress(self.n)
        return data


class _Counting:
    """A read-only file object that reports the bytes read so far (an image load's progress).
    Everything else (``fileno``, ``tell``, ``seek``) is the file's own: the HTTP client sizes
    the upload from them, and without them it sent a chunked body that podman's API refused
    ("payload does not match any of the supported image formats", seen with a gzip archive)."""

    def __init__(self, f, progress):
        self.f, self.n, self.progress = f, 0, progress

    def read(self, n=-1):
        data = self.f.read(n)
        self.n += len(data)
        self.progress(self.n)
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)


def byte_progress(say, what: str, total: int, every: float = 5.0):
    """A ``progress(bytes_done)`` that says ``what: 256 of 725 MB (35 %)`` at most every
    ``every`` seconds (a multi-GB archive takes a minute to hash and another to load).

    >>> lines = []
    >>> p = byte_progress(lines.append, "reading a.tar", 4_000_000, every=0)
    >>> p(1_000_000); lines
    ['reading a.tar: 1 of 4 MB (25 %)']
    """
    import time

    last = [time.monotonic()]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every and done < total:
            last[0] = now
            say(f"{what}: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB ({100 * done / total:.0f} %)")

    return progress


def inspect_archive(path: str | Path, max_bytes: int = MAX_ARCHIVE_BYTES,
                    say=None) -> ArchiveInfo:  # fmt: skip
    """Check ``path`` as described in the module; :class:`ArchiveError` otherwise. ``say``:
    where to report how far the reading (and hashing) got, every few seconds."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise ArchiveError(f"{path}: cannot open the archive ({e.strerror or e})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):  # checked on the descriptor, before any read
        os.close(fd)
        raise ArchiveError(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > max_bytes:
            raise ArchiveError(f"{path}: {st.st_size:,} bytes, above the limit of {max_bytes:,}")
        hashing = _Hashing(f, byte_progress(say, f"reading {path.name}", st.st_size)
                           if say is not None else None)  # fmt: skip
        manifests = {}
        try:
            unpacked = 0
            with tarfile.open(fileobj=hashing, mode="r|*") as tar:
                for count, member in enumerate(tar, 1):
                    unpacked += member.size
                    if unpacked > UNPACK_FACTOR * max_bytes:  # a gzip bomb
                        raise ArchiveError(f"{path}: unpacks to more than {UNPACK_FACTOR} times"
                                           f" the limit of {max_bytes:,} bytes")  # fmt: skip
                    if count > MAX_MEMBERS:
                        raise ArchiveError(f"{path}: more than {MAX_MEMBERS:,} members; a saved"
                                           " image holds a few per layer")  # fmt: skip
                    name = member_path(member.name)
                    if name in MANIFESTS:
                        if name in manifests:  # loaders differ on which one wins: refuse both
                            raise ArchiveError(f"{path}: holds {name} twice ({member.name!r}"
                                               " again); a saved image has one")  # fmt: skip
                        if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
                            raise ArchiveError(f"{path}: {member.name} is not a small file")
                        manifests[name] = tar.extractfile(member).read()
            while hashing.read(1 << 20):  # the rest (padding), so the hash covers the file
                pass
        except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as e:
            raise ArchiveError(f"{path}: not a readable tar archive ({e})") from None
    tags, image_id = _one_image(path, manifests)
    return ArchiveInfo(path, hashing.h.hexdigest(), hashing.n, tags, image_id)


def _one_image(path: Path, manifests: dict[str, bytes]) -> tuple[tuple[str, ...], str | None]:
    image_id = None
    try:
        if "manifest.json" in manifests:  # docker save / podman save (docker-archive)
            doc = json.loads(manifests["manifest.json"])
            if not isinstance(doc, list) or len(doc) != 1 or not isinstance(doc[0], dict):
                n = len(doc) if isinstance(doc, list) else "no"
                raise ArchiveError(f"{path}: holds {n} images; a submission is exactly one")
            tags = doc[0].get("RepoTags") or []
            found = re.search(r"([0-9a-f]{64})(?:\.json)?$", str(doc[0].get("Config", "")))
            image_id = f"sha256:{found[1]}" if found else None
        elif "index.json" in manifests:  # an OCI layout
            doc = json.loads(manifests["index.json"])
            entries = doc.get("manifests", []) if isinstance(doc, dict) else []
            if len(entries) != 1:
                raise ArchiveError(f"{path}: holds {len(entries)} images; a submission is exactly one")
            ref = (entries[0].get("annotations") or {}).get("org.opencontainers.image.ref.name")
            tags = [ref] if ref else []
        else:
            raise ArchiveError(f"{path}: no manifest.json or index.json: not a saved image")
    except (ValueError, AttributeError, RecursionError) as e:
        if isinstance(e, ArchiveError):
            raise
        if isinstance(e, RecursionError):
            e = "nested too deep"
        raise ArchiveError(f"{path}: its image manifest is not valid JSON ({e})") from None
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise ArchiveError(f"{path}: its image tags are not a list of names")
    return tuple(tags), image_id


def check_tags(info: ArchiveInfo, team: str, client, ledger) -> None:
    """Refuse an archive whose loading would move a tag that is not this team's."""
    import docker

    submissions = ledger.submissions()
    others = {s.image: s.team for s in submissions if s.team != team}
    mine = {s.digest for s in submissions if s.team == team}
    for tag in info.tags:
        if tag in others:
            raise ArchiveError(
                f"{info.path}: its tag {tag} is team {others[tag]}'s submission; loading it would"
                " overwrite theirs: retag the image (docker tag) and save it again"
            )
        try:
            held = client.images.get(tag).id
        except docker.errors.ImageNotFound:
            continue
        if held not in mine and held != info.image_id:
            raise ArchiveError(
                f"{info.path}: the engine already holds {tag} for another image that no"
                f" submission of {team} brought; loading would overwrite it: retag and save again"
            )


def load_archive(info: ArchiveInfo, client, say=None) -> str:
    """Load the archive into the engine; the image's id (``sha256:...``). A gzip archive is
    decompressed on the way: podman's API loads only plain tar (Docker's takes both). ``say``:
    where to report how much of the file the engine has read, every few seconds."""
    import gzip

    with open(info.path, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        source = raw if say is None else _Counting(
            raw, byte_progress(say, f"loading {info.path.name} into the engine", info.size))
        f = gzip.GzipFile(fileobj=source) if gz else source
        images = client.images.load(f)
    if len(images) != 1:
        raise ArchiveError(f"{info.path}: the engine loaded {len(images)} images from it")
    return images[0].id

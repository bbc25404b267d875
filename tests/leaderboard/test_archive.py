"""Image archives as submissions: what is refused before anything is claimed (no engine needed:
the archive's own checks, and tag ownership against a ledger and a stand-in for the engine)."""

import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from adaptor_leaderboard.archive import ArchiveError, check_tags, inspect_archive, is_archive
from adaptor_leaderboard.ledger import Ledger


def saved_image(path, manifest, gz=False, extra=b"layer bytes" * 100):
    """A ``docker save``-shaped archive with this manifest.json."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("abc/layer.tar", extra)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = gzip.compress(buf.getvalue()) if gz else buf.getvalue()
    path.write_bytes(data)
    return path


ONE = [{"Config": "c.json", "RepoTags": ["team-a/detector:v1"], "Layers": ["abc/layer.tar"]}]


@pytest.mark.parametrize("gz", [False, True])
def test_one_image_is_accepted_with_its_tags_and_sha256(tmp_path, gz):
    p = saved_image(tmp_path / ("a.tar.gz" if gz else "a.tar"), ONE, gz)
    info = inspect_archive(p)
    assert info.tags == ("team-a/detector:v1",)
    assert info.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() and info.size == p.stat().st_size
    assert is_archive(str(p)) and not is_archive("team-a/detector:v1")


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: saved_image(p, ONE * 2), "holds 2 images"),
        (lambda p: saved_image(p, []), "holds 0 images"),
        (lambda p: saved_image(p, {"not": "a list"}), "holds no images"),
        (lambda p: saved_image(p, [{"RepoTags": "x"}]), "tags are not a list"),
        (lambda p: p.write_bytes(b"not a tar at all" * 100), "not a readable tar archive"),
        (lambda p: p.write_bytes(gzip.compress(b"x" * 1000)[:-20]), "not a readable tar archive"),
        (lambda p: os.mkfifo(p), "not a regular file"),
    ],
)
def test_anything_but_one_saved_image_is_refused_naming_the_file(tmp_path, make, needle):
    p = tmp_path / "team.tar"
    make(p)
    with pytest.raises(ArchiveError, match=needle) as e:
        inspect_archive(p)
    assert str(p) in str(e.value)


def test_an_archive_over_the_limit_is_refused_unread(tmp_path):
    p = saved_image(tmp_path / "big.tar", ONE)
    with pytest.raises(ArchiveError, match="above the limit of 100"):
        inspect_archive(p, max_bytes=100)


def test_an_oci_layout_with_two_manifests_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = json.dumps({"manifests": [{}, {}]}).encode()
        info = tarfile.TarInfo("index.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "oci.tar").write_bytes(buf.getvalue())
    with pytest.raises(ArchiveError, match="holds 2 images"):
        inspect_archive(tmp_path / "oci.tar")


class _Images:
    def __init__(self, held):
        self.held = held

    def get(self, tag):
        import docker

        if tag not in self.held:
            raise docker.errors.ImageNotFound(tag)
        return type("Image", (), {"id": self.held[tag]})()


def test_a_tag_of_another_team_or_of_an_unknown_image_is_refused(tmp_path):
    pytest.importorskip("docker")
    info = inspect_archive(saved_image(tmp_path / "a.tar", ONE))
    client = type("Client", (), {"images": _Images({})})()
    with Ledger(tmp_path / "l.sqlite") as ledger:
        check_tags(info, "A", client, ledger)  # a new tag: fine
        ledger.add_submission("B", "test", image="team-a/detector:v1", digest="sha256:b")
        with pytest.raises(ArchiveError, match="team B's submission"):
            check_tags(info, "A", client, ledger)
    with Ledger(tmp_path / "m.sqlite") as ledger:
        held = type("Client", (), {"images": _Images({"team-a/detector:v1": "sha256:z"})})()
        with pytest.raises(ArchiveError, match="already holds team-a/detector:v1"):
            check_tags(info, "A", held, ledger)
        ledger.add_submission("A", "test", image="team-a/detector:v1", digest="sha256:z")
        check_tags(info, "A", held, ledger)  # the team's own earlier image: it may replace it
        assert ledger.submissions()[0].archive == ""


def test_an_archive_that_unpacks_far_beyond_the_limit_is_refused(tmp_path):
    """A small gzip file holding a huge layer (a bomb) is refused while it is read."""
    p = saved_image(tmp_path / "bomb.tar.gz", ONE, gz=True, extra=bytes(4 << 20))
    assert p.stat().st_size < 100_000
    with pytest.raises(ArchiveError, match="unpacks to more than 4 times"):
        inspect_archive(p, max_bytes=200_000)


def _tar(path, members, gz=False):
    """An archive of ``members``: (name, bytes) pairs in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue()) if gz else buf.getvalue())
    return path


B = [{"Config": "c.json", "RepoTags": ["team-b/det:1"], "Layers": []}]
HARMLESS = [{"Config": "c.json", "RepoTags": ["team-a/harmless:1"], "Layers": []}]


@pytest.mark.parametrize("decoy", [".manifest.json", "..manifest.json", "x/manifest.json",
                                   "/.manifest.json", "manifest.json.bak"])  # fmt: skip
def test_a_decoy_manifest_is_not_the_manifest_the_engine_reads(tmp_path, decoy):
    """The engine reads the member named exactly manifest.json (after cleaning the path): a
    decoy named like it must not be the one whose tags are checked."""
    p = _tar(tmp_path / "a.tar", [("manifest.json", json.dumps(B).encode()),
                                  (decoy, json.dumps(HARMLESS).encode())])  # fmt: skip
    assert inspect_archive(p).tags == ("team-b/det:1",)


@pytest.mark.parametrize("second", ["./manifest.json", "manifest.json", "a/../manifest.json",
                                    "./index.json"])  # fmt: skip
def test_two_members_that_are_the_same_manifest_are_refused(tmp_path, second):
    first = "index.json" if "index" in second else "manifest.json"
    body = json.dumps(B if first == "manifest.json" else {"manifests": [{}]}).encode()
    p = _tar(tmp_path / "a.tar", [(first, body), (second, json.dumps(HARMLESS).encode())])
    with pytest.raises(ArchiveError, match="twice") as e:
        inspect_archive(p)
    assert str(p) in str(e.value)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_manifest_nested_beyond_any_reason_is_refused_not_a_recursion_error(tmp_path, opener):
    p = _tar(tmp_path / "deep.tar", [("manifest.json", (opener * 100_000).encode())])
    with pytest.raises(ArchiveError, match="not valid JSON"):
        inspect_archive(p)


def test_a_stream_of_empty_members_is_refused_at_the_member_limit(tmp_path):
    from adaptor_leaderboard.archive import MAX_MEMBERS

    members = [("manifest.json", json.dumps(ONE).encode())] + [
        (f"e{i}", b"") for i in range(MAX_MEMBERS + 5)]  # fmt: skip
    p = _tar(tmp_path / "many.tar.gz", members, gz=True)
    with pytest.raises(ArchiveError, match="more than 10,000 members"):
        inspect_archive(p)


def test_a_fifo_or_folder_named_like_an_archive_is_refused_as_an_archive(tmp_path):
    os.mkfifo(tmp_path / "x.tar")
    (tmp_path / "d.tar.gz").mkdir()
    for name in ("x.tar", "d.tar.gz"):
        assert is_archive(str(tmp_path / name))
        with pytest.raises(ArchiveError, match="not a regular file|cannot open") as e:
            inspect_archive(tmp_path / name)
        assert name in str(e.value)


def test_reading_and_loading_a_large_archive_say_how_far_they_got(tmp_path):
    from adaptor_leaderboard.archive import load_archive

    p = saved_image(tmp_path / "big.tar.gz", ONE, gz=True, extra=os.urandom(3 << 20))
    lines = []
    import adaptor_leaderboard.archive as archive_module

    real = archive_module.byte_progress
    archive_module.byte_progress = lambda say, what, total, every=5.0: real(say, what, total, 0)
    try:
        info = inspect_archive(p, say=lines.append)

        class Images:
            def load(self, f):
                while f.read(1 << 16):
                    pass
                return [type("Image", (), {"id": "sha256:" + "0" * 64})()]

        class Client:
            images = Images()

        load_archive(info, Client(), say=lines.append)
    finally:
        archive_module.byte_progress = real
    assert any(x.startswith("reading big.tar.gz: ") and "MB (" in x for x in lines)
    assert any(x.startswith("loading big.tar.gz into the engine: ") for x in lines)

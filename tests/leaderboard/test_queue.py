"""A queue of submissions: read from a folder or a list, run one at a time, resumed after a
crash without running or charging anything twice (the engine and the run stood in for: the real
run is tested under make test-containers)."""

import hashlib
import io
import json
import tarfile
import threading

import pytest

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.queue import Item, QueueError, is_queue, read_queue, run_queue
from adaptor_leaderboard.runner import RunResult


def archive(path, tag):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = json.dumps([{"Config": "c.json", "RepoTags": [tag], "Layers": []}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return path


def identity(path):
    return f"{path.name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"


@pytest.fixture
def folder(tmp_path):
    q = tmp_path / "queue"
    q.mkdir()
    for team in ("alpha", "beta", "gamma"):
        archive(q / f"{team}.tar", f"{team}/x:1")
    (q / "delta.tar.gz").write_bytes(b"not an archive")  # the broken one
    (q / "notes.md").write_text("ignored")
    return q


def test_a_folder_names_teams_after_files_and_a_list_names_them_itself(folder, tmp_path):
    assert [i.team for i in read_queue(folder)] == ["alpha", "beta", "delta", "gamma"]
    lst = tmp_path / "queue.tsv"
    lst.write_text("# team, image or archive, institute\nTeam A\tqueue/alpha.tar\tUni A\n"
                   "Team B\tregistry.example/b:2\n")  # fmt: skip
    items = read_queue(lst)
    assert items == [Item("Team A", str(tmp_path / "queue" / "alpha.tar"), "Uni A"),
                     Item("Team B", "registry.example/b:2")]  # fmt: skip
    assert is_queue(str(folder)) and is_queue(str(lst)) and not is_queue("alpha/x:1")
    lst.write_text("only one cell\n")
    with pytest.raises(QueueError, match="queue.tsv:1: expected"):
        read_queue(lst)
    for bad, said in ((b"Team \xe9\tx:1\n", "not UTF-8"), (b"T\tx:1\n" * 200_000, "limit")):
        lst.write_bytes(bad)  # latin-1 and an oversized list: said, naming the file
        with pytest.raises(QueueError, match=f"queue.tsv: .*{said}"):
            read_queue(lst)


def test_a_broken_list_exits_2_before_any_engine_is_sought(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import adaptor_leaderboard.engine as engine_module
    from adaptor_leaderboard.cli import main

    monkeypatch.setattr(engine_module, "_listening", lambda *a: pytest.fail("engine sought"))
    (tmp_path / "q.tsv").write_bytes(b"Team \xe9\tx:1\n")
    r = CliRunner().invoke(main, ["run", str(tmp_path / "q.tsv"), "--input", str(tmp_path),
                                  "--ground-truth", str(tmp_path)])  # fmt: skip
    assert r.exit_code == 2 and "q.tsv" in r.output and "not UTF-8" in r.output, r.output


def test_resuming_runs_nothing_twice_and_the_broken_item_costs_nothing(folder, tmp_path):
    items = read_queue(folder)
    ran = []

    def run_one(item, source):
        ran.append(item.team)
        sid = ledger.add_submission(item.team, "test", archive=identity(folder / f"{item.team}.tar"))
        ledger.set_status(sid, "running")
        if item.team == "beta" and len(ran) == 2:
            raise KeyboardInterrupt  # the machine goes down during beta's run
        ledger.set_status(sid, "scored")
        return RunResult(sid, "scored", "", 1.0, 0, 0.5)

    lines = []
    with Ledger(tmp_path / "l.sqlite") as ledger:
        with pytest.raises(KeyboardInterrupt):
            run_queue(items, None, ledger, run_one, tmp_path / "work", lines.append)
        published = []
        counts = run_queue(items, None, ledger, run_one, tmp_path / "work", lines.append,
                           lambda: published.append(1))  # fmt: skip
        subs = ledger.submissions()
    assert ran == ["alpha", "beta", "beta", "gamma"]  # alpha not again; beta again after the crash
    assert counts == {"scored": 2, "failed": 0, "done before": 1, "refused": 1}
    assert len(published) == 2
    beta = [s for s in subs if s.team == "beta"]
    assert [(s.status, s.charged) for s in beta] == [("failed", False), ("scored", True)]
    assert not any(s.team == "delta" for s in subs)  # refused before any claim
    assert any("[3 of 4] delta: delta.tar.gz: refused, not claimed" in line for line in lines)
    assert any("[1 of 4] alpha: alpha.tar: done before" in line for line in lines)


def test_one_queue_at_a_time_per_work_folder(folder, tmp_path):
    items = read_queue(folder)[:1]
    inside = threading.Event()
    release = threading.Event()

    def slow(item, source):
        inside.set()
        release.wait(10)
        return RunResult("x", "failed", "stopped", 0.0, 1)

    def first_queue():
        with Ledger(tmp_path / "l.sqlite") as own:
            run_queue(items, None, own, slow, tmp_path / "w", print)

    t = threading.Thread(target=first_queue)
    t.start()
    assert inside.wait(10)
    with Ledger(tmp_path / "l.sqlite") as ledger, pytest.raises(QueueError, match="another queue"):
        run_queue(items, None, ledger, slow, tmp_path / "w", print)
    release.set()
    t.join(10)


@pytest.mark.parametrize("spelling", ["Team  A", "team a", " Team A ", "Team\u00a0A"])
def test_a_team_spelled_otherwise_is_recognised_on_resume_and_not_charged_twice(tmp_path, spelling):
    q = tmp_path / "q"
    q.mkdir()
    archive(q / "x.tar", "team-a/x:1")
    lst = tmp_path / "q.tsv"
    lst.write_text(f"{spelling}\tq/x.tar\n")
    ran = []

    def run_one(item, source):
        ran.append(item.team)
        sid = ledger.add_submission(item.team, "test", archive=identity(q / "x.tar"))
        ledger.set_status(sid, "scored")
        return RunResult(sid, "scored", "", 1.0, 0, 0.5)

    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.register_team("Team A", institute="Uni A")
        for _ in range(2):
            counts = run_queue(read_queue(lst), None, ledger, run_one, tmp_path / "w", print)
        assert ran == ["Team A"] and counts["done before"] == 1
        assert len(ledger.submissions()) == 1


def test_items_that_break_are_reported_and_the_queue_goes_on(tmp_path):
    """A control character in a team name, an archive the engine cannot load, a FIFO and a
    dangling link named like archives: each is refused (not claimed, not charged), counted and
    reported in words, and the good item after them still runs."""
    import os

    import docker

    q = tmp_path / "q"
    q.mkdir()
    archive(q / "good.tar", "good/x:1")
    archive(q / "engine-says-no.tar", "bad/x:1")
    os.mkfifo(q / "fifo.tar")
    (q / "dangling.tar.gz").symlink_to(tmp_path / "nowhere.tar.gz")
    lst = tmp_path / "q.tsv"
    lst.write_text("Team\u0007Bell\tq/good.tar\n" + "".join(
        f"{p.stem.split('.')[0]}\tq/{p.name}\n" for p in sorted(q.iterdir())))  # fmt: skip
    ran, lines = [], []

    def run_one(item, source):
        if "engine-says-no" in item.image:
            raise docker.errors.APIError("500 Server Error: payload does not match")
        ran.append(item.team)
        sid = ledger.add_submission(item.team, "test", archive=source.record)
        ledger.set_status(sid, "scored")
        return RunResult(sid, "scored", "", 1.0, 0, 0.5)

    with Ledger(tmp_path / "l.sqlite") as ledger:
        counts = run_queue(read_queue(lst), None, ledger, run_one, tmp_path / "w", lines.append)
        assert [s.team for s in ledger.submissions()] == ["good"]
    assert ran == ["good"]
    assert counts == {"scored": 1, "failed": 0, "done before": 0, "refused": 4}, lines
    said = "\n".join(lines)
    assert "control character" in said and "payload does not match" in said
    assert "fifo.tar: refused, not claimed" in said and "not a regular file" in said
    assert "dangling.tar.gz: refused, not claimed" in said and "Traceback" not in said
    assert [i.team for i in read_queue(q)] == ["dangling", "engine-says-no", "fifo", "good"]


def test_an_image_the_engine_lacks_is_said_in_words(tmp_path):
    import docker

    class Images:
        def get(self, name):
            raise docker.errors.ImageNotFound('404 Client Error: Not Found ("No such image")')

    class Client:
        images = Images()

    lst = tmp_path / "q.tsv"
    lst.write_text("Team A\tnonexistent:9\n")
    lines = []
    with Ledger(tmp_path / "l.sqlite") as ledger:
        counts = run_queue(read_queue(lst), Client(), ledger, None, tmp_path / "w", lines.append)
    assert counts["refused"] == 1
    said = "\n".join(lines)
    assert "'nonexistent:9' is not on the container engine" in said and "404" not in said

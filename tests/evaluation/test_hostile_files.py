"""Hostile files and trees: FIFOs, devices, sockets, deep trees, many files, unreadable ground
truth. Every reader must answer within seconds, list the file as a problem (or stop on a broken
ground truth with exit 2), and never hang or recurse."""

import json
import os
import signal
import socket
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from adaptor_score.folds import FoldFileError, read_fold_file
from adaptor_score.groundtruth import GroundTruthError, load_ground_truth
from adaptor_score.manifest import ManifestError, load_manifest
from adaptor_score.safefiles import (
    BadFile,
    WalkLimits,
    read_bytes,
    remove_tree,
    tree_usage,
    walk_files,
)
from adaptor_score.scoring import score
from adaptor_score.validate import validate_submission
from tests.evaluation.helpers import write_points


@contextmanager
def deadline(seconds: int = 20):
    """Fail (instead of hanging the suite) when the block takes longer than ``seconds``."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s: something blocked")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def make_socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def make_char_device(path: Path) -> bool:
    try:
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))  # like /dev/zero
    except (PermissionError, OSError):
        return False
    return True


NON_REGULAR = {
    "fifo": lambda p: os.mkfifo(p) or True,
    "socket": lambda p: make_socket(p) or True,
    "chardev": make_char_device,
}


@pytest.fixture
def gt(tmp_path):
    root = tmp_path / "gt"
    for frame in ("000000", "000001", "000002"):
        write_points(root / "s1" / "v1" / "point_labels" / f"{frame}.json", [(10, 10), (50, 50)])
    return root


@pytest.mark.parametrize("kind", sorted(NON_REGULAR))
def test_non_regular_prediction_files_are_problems_not_hangs(tmp_path, gt, kind):
    pred = tmp_path / "pred" / "s1" / "v1"
    for frame in ("000000", "000002"):
        write_points(pred / f"{frame}.json", [(10, 10), (50, 50)])
    if not NON_REGULAR[kind](pred / "000001.json"):
        pytest.skip(f"cannot create a {kind} here")
    with deadline():
        report = score(gt, tmp_path / "pred", (6.0,))
    s = report.overall()[0]
    assert (s.tp, s.fp, s.fn) == (4, 0, 2)  # the frame of the odd file scores as empty
    [p] = [p for p in report.problems if p.file.endswith("000001.json")]
    assert "not a regular file" in p.problem


@pytest.mark.parametrize("kind", sorted(NON_REGULAR))
def test_validate_lists_non_regular_outputs_and_images(tmp_path, kind):
    from PIL import Image

    images = tmp_path / "in" / "s1" / "v1" / "images"
    images.mkdir(parents=True)
    Image.new("RGB", (512, 288)).save(images / "000000.png")
    if not NON_REGULAR[kind](images / "000001.png"):
        pytest.skip(f"cannot create a {kind} here")
    out = tmp_path / "out" / "s1" / "v1" / "images"
    out.mkdir(parents=True)
    NON_REGULAR[kind](out / "000000.json")
    write_points(out / "000001.json", [], fields=("s1", "v1", "000001.png"))
    with deadline():
        problems, n = validate_submission(tmp_path / "out", tmp_path / "in")
    text = "\n".join(f"{p.file}: {p.problem}" for p in problems)
    assert n == 1  # the odd "image" is listed, not checked as one
    assert "000001.png: not a regular file" in text
    assert "000000.json: not a regular file" in text


def test_read_bytes_never_reads_a_device_or_fifo(tmp_path):
    os.mkfifo(tmp_path / "f.json")
    with deadline(5):
        for path in (tmp_path / "f.json", "/dev/zero", "/dev/null", tmp_path):
            with pytest.raises(BadFile, match="not a regular file"):
                read_bytes(path)


def test_ground_truth_fifo_dangling_link_and_unlistable_folders_stop_the_run(
    tmp_path, gt, monkeypatch
):
    labels = gt / "s1" / "v1" / "point_labels"
    os.mkfifo(labels / "000009.json")
    with deadline(), pytest.raises(GroundTruthError, match="000009.json: not a regular file"):
        load_ground_truth(gt)
    os.remove(labels / "000009.json")
    os.symlink(tmp_path / "nowhere.json", labels / "000010.json")
    with pytest.raises(GroundTruthError, match="000010.json: dangling symlink"):
        load_ground_truth(gt)
    os.remove(labels / "000010.json")
    os.symlink(tmp_path / "no-such-surgery", gt / "s2")  # a dangling surgery folder
    with pytest.raises(GroundTruthError, match="s2: dangling symlink"):
        load_ground_truth(gt)
    os.remove(gt / "s2")
    # a folder that cannot be listed (permissions do not stop root, so the OS error is simulated)
    real_scandir = os.scandir

    def refuse(path):
        if str(path).endswith("point_labels"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(
        GroundTruthError, match="point_labels: cannot list the folder: Permission denied"
    ):
        load_ground_truth(gt)
    monkeypatch.undo()
    (labels / "000001.json").write_bytes(b"\xff\xfe{}")  # unreadable content: also fatal
    r = CliRunner().invoke(main, ["score", str(gt), str(tmp_path)])
    assert r.exit_code == 2 and "000001.json: not UTF-8 text" in r.output


def test_label_folder_that_is_a_file_stops_the_run(tmp_path):
    (tmp_path / "gt" / "s" / "v").mkdir(parents=True)
    (tmp_path / "gt" / "s" / "v" / "point_labels").write_text("oops")
    with pytest.raises(GroundTruthError, match="point_labels: is not a folder"):
        load_ground_truth(tmp_path / "gt")


def test_manifest_fold_file_and_rules_that_are_fifos_are_refused(tmp_path):
    from adaptor_leaderboard.ranking import load_rules

    for name in ("m.toml", "folds.csv", "rules.toml"):
        os.mkfifo(tmp_path / name)
    with deadline():
        with pytest.raises(ManifestError, match="not a regular file"):
            load_manifest(tmp_path / "m.toml")
        with pytest.raises(FoldFileError, match="not a regular file"):
            read_fold_file(tmp_path / "folds.csv")
        with pytest.raises(ValueError, match="not a regular file"):
            load_rules(tmp_path / "rules.toml", "test")


def deep_tree(root: Path, depth: int) -> Path:
    """``root/d/d/.../d/000000.json``, made one folder at a time (``mkdir(parents=True)``
    recurses and fails at this depth)."""
    root.mkdir(exist_ok=True)
    p = root
    for _ in range(depth):
        p = p / "d"
        os.mkdir(p)
    (p / "000000.json").write_text('{"points": []}')
    return p


def test_a_thousand_nested_folders_neither_recurse_nor_hide(tmp_path, gt):
    deep_tree(tmp_path / "pred", 1000)
    with deadline():
        found = list(walk_files(tmp_path / "pred", (".json",)))
        report = score(gt, tmp_path / "pred", (6.0,))
        usage = tree_usage(tmp_path / "pred", max_depth=16)
    assert len(found) == 1 and "nested deeper than 32 levels" in found[0][1]
    assert any("nested deeper" in p.problem for p in report.problems)
    assert usage.truncated and usage.depth == 17
    remove_tree(tmp_path / "pred")
    assert not (tmp_path / "pred").exists()


def test_walks_stop_at_their_entry_limit_and_say_so(tmp_path):
    many = tmp_path / "pred" / "s1" / "v1"
    many.mkdir(parents=True)
    for i in range(300):
        (many / f"{i:06d}.json").write_text('{"points": []}')
    found = list(walk_files(tmp_path / "pred", (".json",), WalkLimits(max_entries=100)))
    assert len(found) == 1 and "more than 100 entries" in found[0][1]
    usage = tree_usage(tmp_path / "pred", max_entries=100)
    assert usage.truncated and usage.entries == 101


def test_empty_files_are_not_free(tmp_path):
    for i in range(200):
        (tmp_path / f"{i}.json").touch()
    usage = tree_usage(tmp_path)
    assert usage.entries == 200 and not usage.truncated


def test_watchdog_kills_on_a_deep_tree_and_survives_a_measuring_error(tmp_path, monkeypatch):
    import time

    from adaptor_leaderboard import container

    class Container:
        kills = 0

        def kill(self):
            Container.kills += 1

    out = tmp_path / "out"
    out.mkdir()
    limits = container.RunLimits(output_max_depth=8, watch_seconds=0.05)
    dog = container.Watchdog(Container(), out, limits)
    dog.start()
    time.sleep(0.2)
    assert dog.is_alive() and dog.violation is None
    deep_tree(out, 50)
    dog.join(timeout=5)
    assert dog.violation == "output nested deeper than 8 folders" and Container.kills == 1

    def explode(*_a, **_k):
        raise RuntimeError("the tree changed under us")

    monkeypatch.setattr(container, "tree_usage", explode)
    assert "could not be measured" in container.output_violation(out, limits)


def test_total_bytes_read_are_bounded(tmp_path, gt):
    from adaptor_score.groundtruth import load_ground_truth as load
    from adaptor_score.predictions import load_predictions

    pred = tmp_path / "pred" / "s1" / "v1"
    for frame in ("000000", "000001", "000002"):
        write_points(pred / f"{frame}.json", [(10, 10)] * 20)
    keys = load(gt).keys
    size = (pred / "000000.json").stat().st_size
    preds = load_predictions(tmp_path / "pred", keys, max_total_bytes=2 * size)
    assert len(preds.points) == 2
    assert any("together exceed" in p.problem for p in preds.problems)


def test_score_json_still_written_with_every_kind_of_problem(tmp_path, gt):
    pred = tmp_path / "pred" / "s1" / "v1"
    pred.mkdir(parents=True)
    os.mkfifo(pred / "000000.json")
    (pred / "000001.json").write_bytes(b'{"points": [], "x": ' + b"[" * 50000 + b"]" * 50000 + b"}")
    (pred / "000002.json").write_bytes(b'{"points": [], "note": "\\udc00"}')
    with deadline():
        r = CliRunner().invoke(
            main, ["score", str(gt), str(tmp_path / "pred"), "--json", str(tmp_path / "s.json")]
        )
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "s.json").read_text())
    assert len(doc["problems"]) == 3 and doc["overall"][0]["fn"] == 6


def test_the_watchdog_reports_progress_while_a_container_runs(tmp_path):
    import time

    from adaptor_leaderboard import container

    class Container:
        def kill(self):
            pass

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_text("{}")
    lines = []
    limits = container.RunLimits(watch_seconds=0.02, report_seconds=0.05)
    dog = container.Watchdog(Container(), out, limits, lines.append)
    dog.start()
    time.sleep(0.3)
    dog.done.set()
    dog.join(timeout=5)
    assert lines and "output so far: 1 entries" in lines[0]

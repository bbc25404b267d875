"""Reading on two cores: the helper process must never change a result, only the time.

Each test scores a tree with the helper forced on (``min_files=1``) and compares with one
process (``ADAPTOR_SCORE_WORKERS=1``): a helper that keeps up, one slowed so that this process
shares its label files from the back, one that fails, and broken label files on either side of
the meeting point.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from adaptor_score import readhelper
from adaptor_score.filereader import read_inputs
from adaptor_score.frames import FrameKey
from adaptor_score.groundtruth import GroundTruthError
from adaptor_score.jsonfiles import BadFile, decode_points_file, decode_points_into
from adaptor_score.predictions import claim_tree
from adaptor_score.safefiles import read_bytes, read_small
from adaptor_score.scoring import score

from .helpers import write_label, write_prediction

N = 300
KEYS = [FrameKey(f"s{i // 100}", f"v{(i // 10) % 10}", f"{i % 10:06d}") for i in range(N)]

# The helper, each label file read 3 ms late: this process reads most of them from the back.
SLOW_HELPER = (
    "import sys, time; sys.path.insert(0, {!r}); import adaptor_score.readhelper as h; "
    "read = h.read_label_files; "
    "h.read_label_files = lambda paths, out=None: (time.sleep(0.003 * len(paths)), "
    "read(paths, out))[1]; sys.exit(h._serve())"
)


@pytest.fixture()
def tree(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for i, k in enumerate(KEYS):
        labels = [(i % 50 + j * 20.5, (i * 7) % 200 + j) for j in range(i % 13)]
        write_label(gt, k, labels)
        if i % 17:
            write_prediction(pred, k, [(x + (i % 5), y - 1) for x, y in labels[: i % 9]])
    return gt, pred


def _one_process(gt, pred, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("ADAPTOR_SCORE_WORKERS", "1")
        return score(gt, pred, (4, 6, 10)).to_dict()


def _with_helper(gt, pred):
    inputs = read_inputs(gt, pred, min_files=1)
    report = score(gt, pred, (4, 6, 10), inputs=inputs)
    return report.to_dict(), inputs


def test_helper_gives_what_one_process_gives(tree, monkeypatch):
    gt, pred = tree
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    got, inputs = _with_helper(gt, pred)
    assert inputs.helper_files > 0
    assert got == _one_process(gt, pred, monkeypatch)


def test_a_slow_helper_is_met_from_the_back_with_the_same_result(tree, monkeypatch):
    gt, pred = tree
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    monkeypatch.setattr(readhelper, "_HELPER_MAIN", SLOW_HELPER)
    monkeypatch.setattr(readhelper, "CHUNK", 16)
    got, inputs = _with_helper(gt, pred)
    assert 0 < inputs.helper_files < N  # both read label files
    assert got == _one_process(gt, pred, monkeypatch)


@pytest.mark.parametrize("broken", [3, 150, N - 2])
@pytest.mark.parametrize("slow", [False, True])
def test_the_first_broken_label_file_is_the_one_reported(tree, monkeypatch, broken, slow):
    gt, pred = tree
    for i in (broken, broken + 1) if broken + 1 < N else (broken,):
        k = KEYS[i]
        (gt / k.folder / k.video / "point_labels" / f"{k.frame}.json").write_text("{broken")
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    if slow:
        monkeypatch.setattr(readhelper, "_HELPER_MAIN", SLOW_HELPER)
        monkeypatch.setattr(readhelper, "CHUNK", 16)
    with pytest.raises(GroundTruthError) as got:
        _with_helper(gt, pred)
    with monkeypatch.context() as m:
        m.setenv("ADAPTOR_SCORE_WORKERS", "1")
        with pytest.raises(GroundTruthError) as want:
            score(gt, pred, (6,))
    assert (got.value.file, got.value.problem) == (want.value.file, want.value.problem)
    assert got.value.file.endswith(f"{KEYS[broken].video}/point_labels/{KEYS[broken].frame}.json")


@pytest.mark.parametrize(
    "main",
    [
        "import sys; sys.exit(3)",  # dies
        "import sys; sys.stdout.write('not msgpack'); sys.exit(0)",  # answers nonsense
        # answers well-formed data that does not fit (more files than were asked for)
        "import sys, msgspec; sys.stdout.buffer.write(msgspec.msgpack.encode("
        "{{'counts': [0] * 9999, 'sizes': [None] * 9999}})); sys.exit(0)",
    ],
)
def test_a_failing_helper_leaves_the_result_unchanged(tree, monkeypatch, main):
    gt, pred = tree
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    monkeypatch.setattr(readhelper, "_HELPER_MAIN", main)
    got, inputs = _with_helper(gt, pred)
    assert inputs.helper_files == 0
    assert got == _one_process(gt, pred, monkeypatch)


def test_a_missing_prediction_folder_after_a_broken_label_reports_the_label(tree, monkeypatch):
    gt, pred = tree
    k = KEYS[40]
    (gt / k.folder / k.video / "point_labels" / f"{k.frame}.json").write_text("[]")
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    with pytest.raises(GroundTruthError, match="000000.json"):
        read_inputs(gt, pred / "missing", min_files=1)


def test_small_trees_and_one_core_read_in_process(tree, monkeypatch):
    gt, pred = tree
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    assert read_inputs(gt, pred).helper_files == 0  # below MIN_FILES
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "1")
    assert read_inputs(gt, pred, min_files=1).helper_files == 0


def test_read_small_reads_only_plain_non_empty_files_within_the_limit(tmp_path):
    f = tmp_path / "a.json"
    f.write_bytes(b'{"points": []}')
    assert read_small(str(f), 100) == b'{"points": []}'
    assert read_small(str(f), 5) is None  # too large: read_bytes says so
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert read_small(str(empty), 100) is None and read_bytes(empty) == b""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert read_small(str(fifo), 100) is None  # returns at once instead of blocking
    assert read_small("/dev/zero", 100) is None
    assert read_small(str(tmp_path / "missing.json"), 100) is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"points": [{"x": 1, "y": 2.5}], "folderName": "a", "subfolderName": "b",'
        b' "imageFileName": "c.png"}',
        b'\xef\xbb\xbf{"points": [{"x": 1, "y": 2}]}',
        b'{"type": "Multiple points", "points": [{"point": [3, 4, 0]}]}',
        b'{"points": [{"x": 1, "y": 2}], "note": "\\u00e9"}',
    ],
)
def test_decoding_into_a_shared_list_equals_decoding_alone(raw):
    buf = [9.0]
    fields, n, extra = decode_points_into(raw, buf)
    f2, pts, extra2 = decode_points_file(raw)
    assert (fields, extra) == (f2, extra2)
    assert buf[0] == 9.0 and buf[1:] == pts.ravel().tolist() and n == len(pts)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"points": [{"x": 1, "y": 2}, {"x": "one", "y": 2}]}',
        b'{"points": [{"x": 1, "y": 2}], "note": "\\ud800"}',
        json.dumps({"points": [{"x": 1, "y": 2}] * 10_001}).encode(),
        b'{"points": [{"x": 1, "y": 2}], "folderName": "a"}',
    ],
)
def test_a_refused_file_appends_nothing(raw):
    buf = [1.0, 2.0]
    with pytest.raises(BadFile):
        decode_points_into(raw, buf)
    assert buf == [1.0, 2.0]


def _slow_here(monkeypatch, seconds_per_file=0.003):
    """This process reads prediction files 3 ms late: the helper, done with the labels, reads
    the last prediction files."""
    read = readhelper.read_prediction_files

    def slow(paths, *args):
        time.sleep(seconds_per_file * len(paths))
        return read(paths, *args)

    monkeypatch.setattr(readhelper, "read_prediction_files", slow)
    monkeypatch.setattr(readhelper, "CHUNK", 16)


def test_the_helper_reads_the_last_prediction_files_when_it_is_ahead(tree, monkeypatch):
    gt, pred = tree
    want = _one_process(gt, pred, monkeypatch)
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    _slow_here(monkeypatch)
    got, inputs = _with_helper(gt, pred)
    assert inputs.helper_predictions > 0 and inputs.helper_files == N
    assert got == want


def _claims(tree):
    return {
        k: [(c.path, c.problem, None if c.points is None else c.points.tolist()) for c in v]
        for k, v in tree.claims.items()
    }


@pytest.mark.parametrize("share", [0.5, 1.01, 3.0])
def test_the_total_size_limit_counts_in_walk_order_whoever_reads(tree, monkeypatch, share):
    """The limit cuts the tree in the middle (0.5), lies just above it (1.01: within one file's
    limit, so the helper's part is read again here) or far above (3.0: the helper's part is
    kept); the claims equal one pass's in every case."""
    gt, pred = tree
    size = sum(f.stat().st_size for f in pred.rglob("*.json"))
    total, max_bytes = int(size * share), 1000
    want = _claims(claim_tree(pred, max_bytes, total))
    refused = [c for v in want.values() for c in v if c[1] and "limit" in c[1]]
    assert bool(refused) == (share < 1)
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    _slow_here(monkeypatch)
    inputs = read_inputs(gt, pred, max_bytes=max_bytes, max_total_bytes=total, min_files=1)
    inputs.ground_truth()
    assert _claims(inputs.tree) == want
    assert (inputs.helper_predictions > 0) == (share == 3.0)


def test_a_helper_that_cannot_start_leaks_no_descriptor(tree, monkeypatch):
    gt, pred = tree
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")

    def refuse(*args, **kwargs):
        raise OSError("no process to be had")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(readhelper.subprocess, "Popen", refuse)
    got, inputs = _with_helper(gt, pred)
    assert inputs.helper_files == 0
    assert len(os.listdir("/proc/self/fd")) == before
    monkeypatch.undo()
    assert got == _one_process(gt, pred, monkeypatch)

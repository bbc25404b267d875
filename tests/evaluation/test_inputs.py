"""Every bad-input case: listed with its file, its frame scored as empty, the rest unaffected."""

import json
import os

import pytest

from adaptor_score.frames import FrameKey, InputFileError
from adaptor_score.groundtruth import GroundTruthError, load_ground_truth
from adaptor_score.jsonfiles import BadFile, read_json
from adaptor_score.scoring import score
from tests.evaluation.helpers import K1, K2, K3, make_tree, write_label, write_prediction

LABELS = {K1: [(10, 10), (50, 50)], K2: [(100, 100)], K3: [(200, 200), (210, 220)]}


def good_tree(tmp_path):
    return make_tree(tmp_path, {k: (v, v) for k, v in LABELS.items()})


def frame_counts(report, key):
    i = report.frames.keys.index(key)
    return int(report.frames.tp[i, 0]), int(report.frames.n_pred[i]), int(report.frames.n_label[i])


def assert_only_k1_broken(report, needle):
    assert any(needle in p.problem for p in report.problems), [p.problem for p in report.problems]
    assert frame_counts(report, K1) == (0, 0, 2)  # its labels are false negatives
    assert frame_counts(report, K2) == (1, 1, 1)
    assert frame_counts(report, K3) == (2, 2, 2)
    s = report.overall()[0]
    assert (s.tp, s.fp, s.fn) == (3, 0, 2)


def k1_file(pred):
    return pred / K1.folder / K1.video / f"{K1.frame}.json"


def test_clean_tree_has_no_problems(tmp_path):
    gt, pred = good_tree(tmp_path)
    report = score(gt, pred)
    assert report.problems == []
    assert report.overall()[0].f1 == 1.0


def test_missing_prediction_file(tmp_path):
    gt, pred = good_tree(tmp_path)
    k1_file(pred).unlink()
    report = score(gt, pred)
    assert_only_k1_broken(report, "no prediction file for frame")
    assert report.problems[0].frame == K1


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"{not json", "not valid JSON"),
        (b"", "file is empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'[{"x": 1, "y": 2}]', "expected a JSON object"),
        (b'{"folderName": "x"}', "lacks subfolderName"),
        (b'{"points": {"x": 1}}', "'points' must be an array"),
        (b'{"pts": []}', "no 'points' array"),
        (b'{"points": [{"x": NaN, "y": 1}]}', "found NaN"),
        (b'{"points": [{"x": Infinity, "y": 1}]}', "found Infinity"),
        (b'{"points": [{"x": -Infinity, "y": 1}]}', "found -Infinity"),
        (b'{"points": [{"x": 1e400, "y": 1}]}', "finite number"),
        (b'{"points": [{"x": "10", "y": 1}]}', "must be a number"),
        (b'{"points": [{"x": true, "y": 1}]}', "must be a number"),
        (b'{"points": [{"x": 1}]}', "points[0] has no 'y'"),
        (b'{"points": [[1, 2]]}', "points[0] must be an object"),
    ],
)
def test_broken_file_empties_its_frame_only(tmp_path, content, needle):
    gt, pred = good_tree(tmp_path)
    k1_file(pred).write_bytes(content)
    report = score(gt, pred)
    assert_only_k1_broken(report, needle)
    problem = next(p for p in report.problems if needle in p.problem)
    assert problem.file == str(k1_file(pred))
    assert "scored as no predictions" in problem.problem


def test_partially_valid_points_are_not_half_used(tmp_path):
    gt, pred = good_tree(tmp_path)
    obj = json.loads(k1_file(pred).read_text())
    obj["points"].append({"x": "oops", "y": 3})
    k1_file(pred).write_text(json.dumps(obj))
    assert_only_k1_broken(score(gt, pred), "must be a number")


def test_huge_file_is_refused(tmp_path):
    gt, pred = good_tree(tmp_path)
    obj = json.loads(k1_file(pred).read_text())
    obj["padding"] = "x" * 5000
    k1_file(pred).write_text(json.dumps(obj))
    assert_only_k1_broken(score(gt, pred, max_bytes=4000), "above the limit of 4,000 bytes")


def test_duplicate_files_claiming_one_frame(tmp_path):
    gt, pred = good_tree(tmp_path)
    extra = write_prediction(pred, K1, LABELS[K1], path=pred / "elsewhere" / "copy.json")
    report = score(gt, pred)
    assert_only_k1_broken(report, "2 files claim frame")
    assert {p.file for p in report.problems} == {str(k1_file(pred)), str(extra)}


def test_unknown_frame_is_listed_and_ignored(tmp_path):
    gt, pred = good_tree(tmp_path)
    write_prediction(pred, FrameKey("aicm9", "VID", "000009"), [(1, 1)])
    report = score(gt, pred)
    assert [p.problem for p in report.problems] == [
        "frame aicm9/VID/000009 is not in the ground truth"
    ]
    assert report.overall()[0].fp == 0


def test_symlink_outside_tree(tmp_path):
    gt, pred = good_tree(tmp_path)
    outside = tmp_path / "secret.json"
    outside.write_text(k1_file(pred).read_text())
    k1_file(pred).unlink()
    os.symlink(outside, k1_file(pred))
    report = score(gt, pred)
    assert_only_k1_broken(report, "symlink leads outside")


def test_symlinked_folder_is_not_followed(tmp_path):
    gt, pred = good_tree(tmp_path)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", pred / "linked")
    report = score(gt, pred)
    assert any(
        "symlinked folder is not followed: it leads outside" in p.problem for p in report.problems
    )
    assert report.overall()[0].tp == 5


def test_symlink_inside_tree_is_read(tmp_path):
    gt, pred = good_tree(tmp_path)
    real = pred / "store" / "k1.json"
    real.parent.mkdir()
    k1_file(pred).rename(real)
    os.symlink(real, k1_file(pred))
    report = score(gt, pred)
    assert any("2 files claim frame" in p.problem for p in report.problems)  # both paths are files


def test_file_placed_by_path_without_fields(tmp_path):
    gt, pred = good_tree(tmp_path)
    k1_file(pred).unlink()
    write_prediction(
        pred,
        K1,
        LABELS[K1],
        fields=False,
        path=pred / K1.folder / K1.video / "point_labels" / f"{K1.frame}.json",
    )
    report = score(gt, pred)
    assert report.problems == []
    assert frame_counts(report, K1) == (2, 2, 2)


def test_fields_win_over_path(tmp_path):
    gt, pred = good_tree(tmp_path)
    k1_file(pred).unlink()
    write_prediction(pred, K1, LABELS[K1], path=pred / "flat" / "anything.json")
    report = score(gt, pred)
    assert report.problems == []
    assert frame_counts(report, K1) == (2, 2, 2)


def test_unplaceable_file(tmp_path):
    gt, pred = good_tree(tmp_path)
    (pred / "loose.json").write_text('{"points": []}')
    report = score(gt, pred)
    assert any("cannot tell which frame" in p.problem for p in report.problems)
    assert report.overall()[0].tp == 5


def test_a_missing_prediction_folder_stops_the_run_naming_it(tmp_path):
    """A mistyped folder once scored F1 0.0000 with exit 0; now nothing is scored."""
    gt, _ = good_tree(tmp_path)
    with pytest.raises(InputFileError, match="nope: the prediction folder does not exist"):
        score(gt, tmp_path / "nope")
    (tmp_path / "file").write_text("{}")
    with pytest.raises(InputFileError, match="file: the prediction folder is not a folder"):
        score(gt, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()  # an existing empty folder is a submission without files: every label missed
    s = score(gt, empty).overall()[0]
    assert (s.tp, s.fp, s.fn, s.ppv, s.f1) == (0, 0, 5, 0.0, 0.0)


def test_broken_ground_truth_stops_with_its_name(tmp_path):
    gt, pred = good_tree(tmp_path)
    f = write_label(gt, K2, [])
    f.write_text('{"points": [{"x": "a", "y": 1}]}')
    with pytest.raises(GroundTruthError) as e:
        score(gt, pred)
    assert e.value.file == str(f) and "must be a number" in e.value.problem


def test_empty_ground_truth_is_an_error(tmp_path):
    (tmp_path / "gt").mkdir()
    with pytest.raises(GroundTruthError, match="no label files"):
        load_ground_truth(tmp_path / "gt")


def test_empty_frames_score(tmp_path):
    gt, pred = make_tree(tmp_path, {K1: ([], []), K2: ([], [(5, 5)])})
    report = score(gt, pred)
    s = report.overall()[0]
    assert (s.tp, s.fp, s.fn) == (0, 1, 0)
    assert report.problems == []


def test_read_json_on_a_folder(tmp_path):
    with pytest.raises(BadFile, match="not a regular file: it is a folder"):
        read_json(tmp_path)

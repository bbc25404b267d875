import pytest

from adaptor_score.folds import FoldFileError, assign_folds, read_fold_file
from adaptor_score.frames import FrameKey
from adaptor_score.scoring import score
from tests.evaluation.helpers import K1, K2, K3, make_tree

KEYS = [K1, K2, K3]


def test_default_is_leave_one_folder_out():
    assert assign_folds(KEYS) == [K1.folder, K1.folder, K3.folder]


def test_positional_fold_file_most_specific_rule_wins(tmp_path):
    f = tmp_path / "folds.csv"
    f.write_text(
        f"{K1.folder},A\n{K1.folder},{K1.video},{K2.frame}.png,B\n{K3.folder},{K3.video},C\n"
    )
    assert assign_folds(KEYS, f) == ["A", "B", "C"]


def test_header_fold_file_and_published_format(tmp_path):
    f = tmp_path / "published.csv"
    f.write_text(
        "dataset,fold,surgery_folder,frames_in_published_split\n"
        f"intraop_A1,1,{K1.folder},702\nintraop_A1,2,{K3.folder},372\n"
    )
    assert assign_folds(KEYS, f) == ["1", "1", "2"]


def test_published_folds_preset_is_readable(tmp_path):
    from pathlib import Path

    shared = Path(__file__).resolve().parents[3] / "shared" / "reference" / "published-folds.csv"
    if not shared.exists():
        pytest.skip("shared/reference not beside this checkout")
    rules = read_fold_file(shared)
    assert rules[("20190319_aa5346",)] == "1" and rules[("20200715_aa0718",)] == "5"


def test_conflicting_rules_name_the_line(tmp_path):
    f = tmp_path / "folds.csv"
    f.write_text("s1,1\ns1,2\n")
    with pytest.raises(FoldFileError, match="line 2: s1 is in fold 1 and fold 2"):
        read_fold_file(f)


@pytest.mark.parametrize("text", ["s1\n", "a,b,c,d,e\n", "s1,\n", ""])
def test_malformed_fold_files(tmp_path, text):
    f = tmp_path / "folds.csv"
    f.write_text(text)
    with pytest.raises(FoldFileError):
        read_fold_file(f)


def test_scoring_with_folds_and_uncovered_frames(tmp_path):
    gt, pred = make_tree(
        tmp_path, {K1: ([(1, 1)], [(1, 1)]), K2: ([(5, 5)], []), K3: ([(9, 9)], [(9, 9)])}
    )
    f = tmp_path / "folds.csv"
    f.write_text(
        f"folder,video,frame,fold\n{K1.folder},{K1.video},{K1.frame},x\n{K3.folder},{K3.video},{K3.frame},y\n"
    )
    report = score(gt, pred, fold_file=f)
    folds = report.by_fold()
    assert set(folds) == {"x", "y"}
    assert folds["x"][0].f1 == 1.0 and folds["y"][0].f1 == 1.0
    assert any("1 frames are in no fold" in p.problem for p in report.problems)
    assert report.overall()[0].fn == 1  # the uncovered frame still counts overall
    f1 = next(s for s in report.fold_summary() if s.metric == "f1")
    assert (f1.mean, f1.std, f1.folds) == (1.0, 0.0, 2)


def test_fold_std_is_sample_std(tmp_path):
    a, b, c = FrameKey("s1", "v", "0"), FrameKey("s2", "v", "0"), FrameKey("s3", "v", "0")
    gt, pred = make_tree(
        tmp_path, {a: ([(0, 0)], [(0, 0)]), b: ([(0, 0)], []), c: ([(0, 0), (50, 50)], [(0, 0)])}
    )
    report = score(gt, pred)
    f1 = next(s for s in report.fold_summary() if s.metric == "f1")
    import numpy as np

    vals = [1.0, 0.0, 2 / 3]
    assert f1.mean == pytest.approx(np.mean(vals)) and f1.std == pytest.approx(np.std(vals, ddof=1))

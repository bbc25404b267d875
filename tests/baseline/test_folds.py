import pytest

from adaptor_baseline.data.folds import (
    folds_from_split_files,
    grouped_folds,
    make_folds,
    preset_path,
    read_split_file,
)
from adaptor_baseline.data.layout import index_dataset
from adaptor_score.folds import FoldFileError
from adaptor_score.frames import FrameKey


def test_folds_are_disjoint_and_complete(synth_sim):
    keys = [r.key for r in index_dataset(synth_sim)]
    for spec in (None, "groups:2", "groups:3"):
        folds = make_folds(keys, spec)
        assert all(f is not None for f in folds)  # complete
        by_folder = {}
        for k, f in zip(keys, folds):
            by_folder.setdefault(k.folder, set()).add(f)
        assert all(len(v) == 1 for v in by_folder.values())  # a folder never spans folds
    assert len(set(make_folds(keys, "groups:2"))) == 2
    with pytest.raises(ValueError):
        grouped_folds(keys, 4)


def test_published_preset():
    keys = [
        FrameKey("20190319_aa5346", "v", "0"),
        FrameKey("20181217_p6jzf", "v", "0"),
        FrameKey("20200715_aa0718", "v", "0"),
        FrameKey("unknown", "v", "0"),
    ]
    assert make_folds(keys, "preset:published") == ["1", "1", "5", None]
    assert preset_path("published").exists()
    with pytest.raises(ValueError, match="unknown fold preset"):
        preset_path("nope")


def test_split_files(tmp_path):
    a, b = tmp_path / "fold1.txt", tmp_path / "fold2.txt"
    a.write_text("# fold 1\ns1/v1 000001 left\ns1/v1 2 right\n")
    b.write_text("s2/v1 000003.png left\n")
    assert read_split_file(a) == {FrameKey("s1", "v1", "000001"), FrameKey("s1", "v1", "000002")}
    keys = [
        FrameKey("s1", "v1", "000001"),
        FrameKey("s2", "v1", "000003"),
        FrameKey("s3", "v", "0"),
    ]
    assert folds_from_split_files(keys, {"1": a, "2": b}) == ["1", "2", None]
    b.write_text("s1/v1 000001 left\n")
    with pytest.raises(FoldFileError, match="in folds 1 and 2"):
        folds_from_split_files(keys, {"1": a, "2": b})
    a.write_text("bad line\n")
    with pytest.raises(FoldFileError, match="line 1"):
        read_split_file(a)


def test_split_files_are_reachable_from_the_folds_option(tmp_path):
    from adaptor_baseline.data.folds import make_folds

    keys = [FrameKey("s1", "v1", f"{i:06d}") for i in range(4)]
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "a.txt").write_text("s1/v1 000000.png left\ns1/v1 1 left\n")
    (splits / "b.txt").write_text("# comment\ns1/v1 000002.png left\n")
    assert make_folds(keys, f"splits:{splits}") == ["a", "a", "b", None]
    with pytest.raises(FoldFileError, match="no split files"):
        make_folds(keys, f"splits:{tmp_path / 'nothing'}")
    with pytest.raises(ValueError, match="whole number"):
        make_folds(keys, "groups:x")

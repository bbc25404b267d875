"""Hostile inputs, round 4, in the scorer: the reading helper never changes an outcome, outputs
never replace special files, manifest paths and rules are bounded. Each class with several
members, built in a temporary folder."""

from __future__ import annotations

import os
import socket
import stat

import pytest
from click.testing import CliRunner

from adaptor_score import atomic, workers
from adaptor_score.atomic import WriteError
from adaptor_score.cli import main
from adaptor_score.filereader import read_inputs
from adaptor_score.frames import FrameKey
from adaptor_score.scoring import score

from .helpers import write_label, write_prediction

KEYS = [FrameKey(f"s{i // 40}", f"v{(i // 10) % 4}", f"{i % 10:06d}") for i in range(120)]


@pytest.fixture()
def tree(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for i, k in enumerate(KEYS):
        labels = [(10 + 20 * j + i % 7, 30 + j) for j in range(i % 5)]
        write_label(gt, k, labels)
        if i % 11:
            write_prediction(pred, k, [(x + 1, y) for x, y in labels[: i % 4]])
    return gt, pred


def _raw_file(folder, name: bytes, data: bytes) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(os.fsencode(folder), name), "wb") as f:
        f.write(data)


def _plant(kind, gt, pred):
    """One member of the class of things the helper met and one process did not fail on."""
    video = pred / "s0" / "v0"
    if kind == "non-utf8 prediction name":
        _raw_file(video, b"\xff.json", b'{"points": [{"x": 1, "y": 2}]}')
    elif kind == "non-utf8 label name":
        _raw_file(gt / "s1" / "v1" / "point_labels", b"\xfe\xff.json", b'{"points": []}')
    elif kind == "non-utf8 folder":
        _raw_file(os.path.join(os.fsencode(pred), b"s\xff"), b"x.json", b'{"points": []}')
    elif kind == "latin-1 prediction name":
        _raw_file(video, "caf\u00e9".encode("latin-1") + b".json", b"not json")
    return None


def _compare(gt, pred, monkeypatch, max_bytes=2 << 20):
    with monkeypatch.context() as m:
        m.setenv("ADAPTOR_SCORE_WORKERS", "1")
        alone = score(gt, pred, (6, 10), max_bytes=max_bytes).to_dict()
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "2")
    inputs = read_inputs(gt, pred, max_bytes, min_files=1)
    shared = score(gt, pred, (6, 10), max_bytes=max_bytes, inputs=inputs).to_dict()
    return alone, shared, inputs


@pytest.mark.parametrize(
    "kind",
    ["non-utf8 prediction name", "non-utf8 label name", "non-utf8 folder",
     "latin-1 prediction name"],
)  # fmt: skip
def test_the_helper_gives_what_one_process_gives_on_hostile_names(tree, monkeypatch, kind):
    gt, pred = tree
    _plant(kind, gt, pred)
    alone, shared, inputs = _compare(gt, pred, monkeypatch)
    assert inputs.helper_files > 0  # the helper did read its share
    assert shared == alone


@pytest.mark.parametrize("max_bytes", [2**63 - 1, 2**64, 2**70, 10**30])
def test_a_limit_beyond_64_bits_means_no_limit_helper_or_not(tree, monkeypatch, max_bytes):
    gt, pred = tree
    alone, shared, inputs = _compare(gt, pred, monkeypatch, max_bytes)
    assert shared == alone and inputs.helper_files > 0


@pytest.mark.parametrize("value", ["²", "⁵", "٣", "1e3", "-2", "0", "", "99999999999"])
def test_a_workers_setting_that_is_no_number_is_ignored(monkeypatch, value):
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", value)
    assert workers.workers() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("ADAPTOR_SCORE_WORKERS", "3")
    assert workers.workers() == 3


def test_the_cli_scores_hostile_names_with_a_huge_limit(tree, tmp_path):
    gt, pred = tree
    _plant("non-utf8 prediction name", gt, pred)
    r = CliRunner().invoke(main, ["score", str(gt), str(pred), "--max-bytes", str(2**70),
                                  "--json", str(tmp_path / "s.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s.json").stat().st_size > 0


# ----------------------------------------------------------------------------- special files


def _special(kind: str, path):
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        return s
    elif kind == "folder":
        path.mkdir()
    elif kind == "character device":
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    return None


@pytest.mark.parametrize("kind", ["fifo", "socket", "folder", "character device"])
def test_an_output_onto_a_special_file_is_refused_and_it_stays(tree, tmp_path, kind):
    gt, pred = tree
    target = tmp_path / "out.json"
    keep = _special(kind, target)
    before = os.lstat(target)
    with pytest.raises(WriteError, match="exists and is"):
        atomic.write_text(target, "{}")
    r = CliRunner().invoke(main, ["score", str(gt), str(pred), "--json", str(target)])
    assert r.exit_code == 2 and str(target) in r.output
    assert "refusing to replace it" in r.output or "is a directory" in r.output  # click's own
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    if keep is not None:
        keep.close()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o755])
def test_a_rewritten_file_keeps_its_permissions(tmp_path, mode):
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(mode)
    atomic.write_text(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == mode


# ----------------------------------------------------------------------------- manifests

CONTROL = ["\u0000", "\n", "\r", "\x1b[2J", "\x7f", "\t"]


def _manifest(tmp_path, field: str, bad: str):
    from tests.evaluation.test_tables import build

    text = build(tmp_path).read_text()
    replacements = {
        "ground_truth": ('ground_truth = "gt_cv"', f'ground_truth = "gt{bad}cv"'),
        "folds path": ('s1 = "baseline-g1/cv/s1"', f's1 = "baseline-g1/cv{bad}/s1"'),
        "runs path": ('"baseline-g1/test/s1"', f'"baseline-g1/test{bad}s1"'),
        "experiment name": ('name = "v1-tanh"', f'name = "v1{bad}tanh"'),
    }
    old, new = replacements[field]
    assert old in text
    escaped = new.replace("\u0000", "\\u0000").replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\x1b", "\\u001b").replace("\x7f", "\\u007f").replace("\t", "\\t")
    path = tmp_path / "manifest.toml"
    path.write_text(text.replace(old, escaped, 1))
    return path


@pytest.mark.parametrize("bad", CONTROL, ids=["nul", "newline", "cr", "escape", "del", "tab"])
@pytest.mark.parametrize("field", ["ground_truth", "folds path", "runs path", "experiment name"])
def test_control_characters_in_manifest_paths_and_names_are_refused_by_key(tmp_path, field, bad):
    path = _manifest(tmp_path, field, bad)
    for command in (["tables", str(path), "--out", str(tmp_path / "t")],
                    ["compare", str(path), "--reference", "baseline-g1", "--out",
                     str(tmp_path / "c")]):  # fmt: skip
        r = CliRunner().invoke(main, command)
        assert r.exit_code == 2, r.output
        assert "without control characters" in r.output and "Traceback" not in r.output
        key = {"ground_truth": "ground_truth", "folds path": "folds", "runs path": "runs",
               "experiment name": "name"}[field]  # fmt: skip
        assert key in r.output


@pytest.mark.parametrize("radius", ["-1", "588", "1e9", "nan", "inf"])
def test_a_radius_outside_the_frame_is_refused_everywhere(tmp_path, tree, radius):
    gt, pred = tree
    r = CliRunner().invoke(main, ["score", str(gt), str(pred), "--radius", radius])
    assert r.exit_code == 2 and "--radius" in r.output
    from tests.evaluation.test_tables import build

    m = build(tmp_path)
    m.write_text(m.read_text().replace("radius = 6", f"radius = {radius}", 1))
    r = CliRunner().invoke(main, ["tables", str(m), "--out", str(tmp_path / "t")])
    assert r.exit_code == 2 and "radius: must be between 0 and 587 px" in r.output


# ----------------------------------------------------------------------------- images


def test_a_grey_and_alpha_png_is_read_as_grey(tmp_path):
    import numpy as np
    from PIL import Image

    from adaptor_score.imagefile import read_image

    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    alpha = np.full((3, 4), 7, np.uint8)
    Image.fromarray(np.stack([grey, alpha], axis=-1), mode="LA").save(tmp_path / "la.png")
    got = read_image(tmp_path / "la.png")
    assert got.shape == (3, 4, 3) and (got == grey[..., None]).all()


def _mhd(folder, data_file: str, extra: str = "", dims="4 3", kind="MET_UCHAR"):
    folder.mkdir(parents=True, exist_ok=True)
    header = folder / "frame.mhd"
    header.write_text(
        f"ObjectType = Image\nNDims = 2\nDimSize = {dims}\nElementType = {kind}\n{extra}"
        f"ElementDataFile = {data_file}\n"
    )
    return header


@pytest.mark.parametrize(
    "target",
    ["../secret.raw", "/etc/hostname", "sub/../../secret.raw", "LIST", "img%03d.raw 1 3 1",
     "fifo.raw", "link.raw", "missing.raw", "folder.raw"],
)  # fmt: skip
def test_a_metaimage_reads_only_a_regular_file_beside_it(tmp_path, target):
    from adaptor_score.imagefile import ImageError, read_image

    (tmp_path / "secret.raw").write_bytes(bytes(range(12)))
    images = tmp_path / "images"
    header = _mhd(images, target)
    os.mkfifo(images / "fifo.raw")
    (images / "link.raw").symlink_to(tmp_path / "secret.raw")
    (images / "folder.raw").mkdir()
    with pytest.raises(ImageError, match="ElementDataFile"):
        read_image(header)  # a FIFO would hang SimpleITK: refused before it opens anything


def test_a_metaimage_with_its_data_beside_it_is_read(tmp_path):
    from adaptor_score.imagefile import read_image

    header = _mhd(tmp_path, "frame.raw")
    (tmp_path / "frame.raw").write_bytes(bytes(range(0, 240, 20)))
    assert read_image(header)[..., 0].ravel().tolist() == list(range(0, 240, 20))


@pytest.mark.parametrize(
    ("extra", "kind", "dims"),
    [("ElementNumberOfChannels = 32\n", "MET_DOUBLE", "3000 3000"),
     ("ElementNumberOfChannels = 4\n", "MET_DOUBLE", "5000 3000"),
     ("", "MET_DOUBLE", "3000 3000")],
)  # fmt: skip
def test_components_and_type_width_count_in_the_budget(tmp_path, extra, kind, dims):
    """A 1 KB header asking for gigabytes is refused before SimpleITK allocates anything."""
    from adaptor_score.imagefile import ImageError, read_image

    header = tmp_path / "bomb.mha"
    header.write_text(f"ObjectType = Image\nNDims = 2\nDimSize = {dims}\nElementType = {kind}\n"
                      f"{extra}ElementDataFile = LOCAL\n")  # fmt: skip
    with open(header, "ab") as f:
        f.write(bytes(1000))
    with pytest.raises(ImageError, match="decodes to more than the limit"):
        read_image(header)


@pytest.mark.parametrize("which", ["predictions", "images"])
@pytest.mark.parametrize("how", ["missing", "a file"])
def test_validate_refuses_a_folder_that_is_not_there_with_exit_2(tree, tmp_path, which, how):
    gt, pred = tree
    bad = tmp_path / "nope"
    if how == "a file":
        bad.write_text("x")
    args = [str(bad), "--images", str(gt)] if which == "predictions" else [str(pred), "--images",
                                                                            str(bad)]  # fmt: skip
    r = CliRunner().invoke(main, ["validate", *args])
    assert r.exit_code == 2, r.output
    assert str(bad) in r.output
    assert any(w in r.output for w in ("does not exist", "not a folder", "is a file"))


@pytest.mark.parametrize(
    "option", [["--seed", "-1"], ["--replicates", "1000000000"], ["--replicates", "1e9"],
               ["--radius", "7"], ["--radius", "nan"]],
)  # fmt: skip
def test_compare_options_out_of_bounds_are_refused_with_exit_2(tmp_path, option):
    from tests.evaluation.test_tables import build

    m = build(tmp_path)
    r = CliRunner().invoke(main, ["compare", str(m), "--reference", "baseline-g1", "--out",
                                  str(tmp_path / "c"), *option])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and ("radius 7 px was not scored" in r.output
                                            or option[0] in r.output)  # fmt: skip
    assert not (tmp_path / "c" / "compare.csv").exists()


def test_a_reader_that_goes_away_costs_no_file(tree, tmp_path):
    """`score ... --json s.json | head -1`: the JSON is written, and the command exits 0."""
    import subprocess
    import sys

    gt, pred = tree
    script = (f"{sys.executable} -m adaptor_score.cli score {gt} {pred} --radius 6 --per-video"
              f" --json {tmp_path / 's.json'} | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}")  # fmt: skip
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "s.json").stat().st_size > 0 and "Traceback" not in r.stderr


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_itk_pixels_outlive_the_reader(tmp_path, dtype):
    """The reader converts from a view of SimpleITK's buffer; what it returns must own its
    pixels (an 8-bit RGB image needs no conversion and was once returned as that view)."""
    import gc

    import numpy as np
    import SimpleITK as sitk

    from adaptor_score.imagefile import read_image

    rng = np.random.default_rng(1)
    arr = rng.integers(0, 255, (40, 64, 3)).astype(dtype)
    sitk.WriteImage(sitk.GetImageFromArray(arr, isVector=True), str(tmp_path / "f.mha"))
    got = read_image(tmp_path / "f.mha")
    gc.collect()
    _ = [np.ones((40, 64, 3)) for _ in range(50)]  # reuse freed memory, were any freed
    want = arr if dtype == "uint8" else read_image(tmp_path / "f.mha")
    assert got.flags["OWNDATA"] or got.base is not None and got.base.flags["OWNDATA"]
    assert np.array_equal(got, want)

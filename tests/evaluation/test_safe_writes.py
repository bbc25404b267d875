"""Nothing we write destroys what was there: outputs never over inputs, every file complete or
absent, names never leave their root. Each class is tried with several members."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from adaptor_score import atomic
from adaptor_score.atomic import WriteError, replacing_dir
from adaptor_score.cli import main
from adaptor_score.pathguard import PathError, check_name, check_outputs, child
from tests.evaluation.helpers import K1, K2, K3, make_tree


@pytest.fixture
def tree(tmp_path):
    gt, pred = make_tree(
        tmp_path, {K1: ([(10, 10)], [(11, 10)]), K2: ([(50, 50)], []), K3: ([(5, 5)], [(5, 5)])}
    )
    images = tmp_path / "images"
    (images / K1.folder / K1.video / "images").mkdir(parents=True)
    return gt, pred, images


def label_file(gt):
    return gt / K1.folder / K1.video / "point_labels" / f"{K1.frame}.json"


def pred_file(pred):
    return pred / K1.folder / K1.video / f"{K1.frame}.json"


@pytest.mark.parametrize(
    "args_for",
    [
        lambda gt, pred, im: ["score", gt, pred, "--json", label_file(gt)],  # over a label
        lambda gt, pred, im: ["score", gt, pred, "--csv", pred_file(pred)],  # over a prediction
        lambda gt, pred, im: ["score", gt, pred, "--json", gt / "new" / "s.json"],  # inside GT
        lambda gt, pred, im: ["score", gt, pred, "--json", pred / "report.json"],  # in PRED_DIR
        lambda gt, pred, im: ["score", gt, pred, "--json", gt / ".." / "gt" / "x.json"],
        lambda gt, pred, im: ["validate", pred, "--images", im, "--json", pred_file(pred)],
        lambda gt, pred, im: ["overlay", gt, pred, "--out", im, "--images", im],  # = the images
        lambda gt, pred, im: ["overlay", gt, pred, "--out", gt / "overlays"],  # inside the GT
        lambda gt, pred, im: ["overlay", gt, pred, "--out", gt.parent],  # holds the inputs
        lambda gt, pred, im: ["score", gt, pred, "--json", im / "r.json", "--csv", im / "r.json"],
    ],
)
def test_an_output_over_or_around_an_input_is_refused_and_nothing_changes(tree, args_for):
    gt, pred, images = tree
    before = {p: p.read_bytes() for p in [*gt.rglob("*.json"), *pred.rglob("*.json")]}
    listing = sorted(map(str, gt.parent.rglob("*")))
    r = CliRunner().invoke(main, [str(a) for a in args_for(gt, pred, images)])
    assert r.exit_code == 2, r.output
    assert "nothing was written" in r.output or "same path" in r.output
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(map(str, gt.parent.rglob("*"))) == listing


def test_a_symlinked_spelling_of_an_input_is_caught(tree, tmp_path):
    gt, pred, _ = tree
    (tmp_path / "alias").symlink_to(gt)
    with pytest.raises(PathError, match="lies inside the input GT_DIR"):
        check_outputs({"GT_DIR": gt}, {"--json": tmp_path / "alias" / "a" / "x.json"})


def test_outputs_beside_the_inputs_are_fine(tree, tmp_path):
    gt, pred, _ = tree
    r = CliRunner().invoke(
        main,
        ["score", str(gt), str(pred), "--json", str(tmp_path / "s.json"), "--csv",
         str(tmp_path / "f.csv")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "s.json").stat().st_size > 0


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "score.json"
    atomic.write_text(path, "good\n")

    def broken(tmp):
        # a temporary left by a SIGKILL must never be read as a prediction or image later
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".tmp"
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic.write_with(path, broken)
    assert path.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["score.json"]  # no temporary left


def test_atomic_write_replaces_a_link_not_what_it_points_to(tmp_path):
    original = tmp_path / "label.json"
    original.write_text("label")
    (tmp_path / "hard.json").hardlink_to(original)
    (tmp_path / "soft.json").symlink_to(original)
    atomic.write_text(tmp_path / "hard.json", "report")
    atomic.write_text(tmp_path / "soft.json", "report")
    assert original.read_text() == "label"
    assert not (tmp_path / "soft.json").is_symlink()


def test_new_files_have_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    atomic.write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def _limited_run(args, limit_bytes):
    """Run adaptor-score in a process whose files cannot grow past ``limit_bytes``: the kernel
    answers a write past it with EFBIG, as a full disk answers with ENOSPC."""

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    code = "import sys; from adaptor_score.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )


def test_a_write_that_cannot_finish_keeps_the_previous_report(tree, tmp_path):
    gt, pred, _ = tree
    report = tmp_path / "score.json"
    report.write_text('{"previous": "good report"}\n')
    r = _limited_run(["score", gt, pred, "--json", report], 512)
    assert r.returncode == 2, r.stderr
    assert "score.json" in r.stderr and "cannot write" in r.stderr
    assert "Traceback" not in r.stderr
    assert report.read_text() == '{"previous": "good report"}\n'
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_replacing_dir_swaps_a_whole_site_or_keeps_the_old_one(tmp_path):
    site = tmp_path / "site"
    owned = lambda p: p.name in ("index.html", "board.json")  # noqa: E731
    with replacing_dir(site, owned) as new:
        (new / "index.html").write_text("v1")
    with pytest.raises(RuntimeError), replacing_dir(site, owned) as new:
        (new / "index.html").write_text("v2 half")
        raise RuntimeError("disk full while rendering")
    assert (site / "index.html").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no .new- or .old- folder left
    (site / "notes.txt").write_text("the organiser's own file")
    with pytest.raises(WriteError, match="holds files this command did not write"):
        with replacing_dir(site, owned) as new:
            (new / "index.html").write_text("v3")
    assert (site / "notes.txt").exists() and (site / "index.html").read_text() == "v1"


@pytest.mark.parametrize(
    "name", ["../../escaped", "..", ".", "/abs/olute", "a/b", "a\\b", "", "  ", "x\0y", "a\nb"]
)
def test_names_that_would_leave_their_root_are_refused(name):
    with pytest.raises(PathError):
        check_name(name, "experiment")
    with pytest.raises(PathError):
        child("/runs", name)


def test_child_refuses_a_symlink_out_of_its_root(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "exp").symlink_to(tmp_path)
    with pytest.raises(PathError, match="leads outside"):
        child(tmp_path / "root", "exp", "fold-1")
    assert child(tmp_path / "root", "v1_g3", "fold-1") == tmp_path / "root" / "v1_g3" / "fold-1"


@pytest.mark.parametrize("nest", ["[" * 20000 + "]" * 20000, "{a = " * 5000 + "1" + "}" * 5000])
def test_deeply_nested_manifests_are_a_named_refusal(tmp_path, nest):
    m = tmp_path / "deep.toml"
    m.write_text(f"x = {nest}\n")
    r = CliRunner().invoke(main, ["tables", str(m), "--out", str(tmp_path / "t")])
    assert r.exit_code == 2, r.output
    assert "deep.toml" in r.output and ("nested too deeply" in r.output or "TOML" in r.output)
    assert not (tmp_path / "t").exists()


def test_tables_never_write_around_the_runs_they_read(tree, tmp_path):
    gt, pred, _ = tree
    m = tmp_path / "m.toml"
    m.write_text(
        f'[[dataset]]\nname = "cv"\nground_truth = "{gt}"\n[[experiment]]\nname = "e"\n'
        f'[[experiment.results]]\ndataset = "cv"\nruns = ["{pred}"]\n'
    )
    r = CliRunner().invoke(main, ["tables", str(m), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "lies inside --out" in r.output, r.output
    r = CliRunner().invoke(main, ["tables", str(m), "--out", str(tmp_path / "tables")])
    assert r.exit_code == 0, r.output

"""Strangers' files in the baseline's commands: nothing loaded runs code, no run is silently
replaced, every way a configuration enters is checked, names stay under their root, and fold
files mean one thing everywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adaptor_baseline.checkpoints import CheckpointError, load_model, read_checkpoint
from adaptor_baseline.cli import main
from adaptor_baseline.config import TrainConfig, preset, with_overrides
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import index_dataset
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.train import train

TINY = {
    "model.width": 4, "model.depth": 2, "input_size": (128, 72), "batch_size": 2, "epochs": 1,
    "steps_per_epoch": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("safety") / "data"
    generate_dataset(out, "sim", surgeries=2, videos=1, frames=2, seed=3, workers=1, max_points=8)
    return out


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("safety-run") / "run"
    train(with_overrides(preset("variant1"), **TINY), data, out)
    return out


class _Payload:
    """Unpickling this calls os.mkdir(marker): code a model file must never get to run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _crafted(path: Path, run: Path, marker: Path) -> Path:
    good = torch.load(run / "model.pt", weights_only=True)
    torch.save({**good, "extra": _Payload(marker)}, path)
    return path


def test_a_crafted_model_file_is_refused_without_running_its_code(run, data, tmp_path):
    marker = tmp_path / "code-ran"
    bad = _crafted(tmp_path / "model.pt", run, marker)
    r = CliRunner().invoke(
        main, ["predict", "--weights", str(bad), "--input", str(data), "--output",
               str(tmp_path / "pred")],
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "model.pt: refused" in r.output and "could run code" in r.output
    assert not marker.exists()
    with pytest.raises(CheckpointError):
        load_model(bad)
    assert not marker.exists()


def test_a_crafted_checkpoint_is_refused_on_resume(run, data, tmp_path):
    marker = tmp_path / "code-ran"
    out = tmp_path / "resume"
    out.mkdir()
    (out / "config.json").write_text((run / "config.json").read_text())
    _crafted(out / "checkpoint.pt", run, marker)
    cfg = with_overrides(preset("variant1"), **TINY)
    with pytest.raises(CheckpointError, match="checkpoint.pt: refused"):
        train(cfg, data, out, resume=True)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content", [b"", b"not a zip", b"PK\x03\x04broken", json.dumps({"model": 1}).encode()]
)
def test_broken_model_files_name_the_file(tmp_path, content):
    f = tmp_path / "model.pt"
    f.write_bytes(content)
    with pytest.raises(CheckpointError, match="model.pt"):
        read_checkpoint(f)


def test_a_fifo_named_model_pt_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_model(tmp_path)


def test_our_own_run_folders_still_load(run):
    model, cfg = load_model(run)
    assert cfg.model.width == 4
    ck = read_checkpoint(run / "checkpoint.pt")
    assert {"model", "optimizer", "scheduler", "epoch", "config"} <= set(ck)


def test_train_refuses_a_folder_that_holds_a_run(run, data, tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    for name in ("config.json", "model.pt", "split.json"):
        (out / name).write_bytes((run / name).read_bytes())
    before = (out / "model.pt").read_bytes()
    args = ["train", "--data", str(data), "--out", str(out), "--width", "4", "--depth", "2",
            "--epochs", "1", "--steps-per-epoch", "1", "--input-size", "128", "72"]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "already holds a run" in r.output and "--overwrite" in r.output
    assert (out / "model.pt").read_bytes() == before
    r = CliRunner().invoke(main, [*args, "--resume", "--overwrite"])
    assert r.exit_code == 2 and "contradict" in r.output
    r = CliRunner().invoke(main, [*args, "--overwrite", "--sigma1", "3"])
    assert r.exit_code == 0, r.output
    assert TrainConfig.load(out / "config.json").target.sigma1 == 3.0  # the model's own config
    assert read_checkpoint(out / "model.pt")["config"]["target"]["sigma1"] == 3.0


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"crop_foreground": 1.5}, "crop_foreground must be between 0 and 1"),
        ({"model": {"width": "abc"}}, "width must be a whole number"),
        ({"model": {"variant": "variant9"}}, "variant must be one of"),
        ({"input_size": [0, 72]}, "input_size must be positive"),
        ({"augment": "x"}, "AugmentConfig must be a table"),
    ],
)
def test_every_way_a_configuration_enters_is_checked(data, tmp_path, setting, message):
    doc = with_overrides(preset("variant1")).to_dict()
    for k, v in setting.items():
        doc[k] = {**doc[k], **v} if isinstance(v, dict) and isinstance(doc[k], dict) else v
    cfg_file = tmp_path / "x.json"
    cfg_file.write_text(json.dumps(doc).replace("NaN", "NaN"))
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[[experiment]]\nname = "e"\nconfig = "{cfg_file}"\n')
    cv = ["cv", "--data", str(data), "--out", str(tmp_path / "cv"), "--sweep", str(sweep),
          "--list-jobs"]  # fmt: skip
    train_ = ["train", "--data", str(data), "--out", str(tmp_path / "t"), "--config",
              str(cfg_file)]  # fmt: skip
    for args in (cv, train_):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, r.output
        assert message in r.output and "x.json" in r.output
        assert "Traceback" not in r.output
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(doc)  # a saved run folder's config comes through here too


def test_deeply_nested_toml_is_a_named_refusal(data, tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 20000 + "]" * 20000 + "\n")
    r = CliRunner().invoke(
        main, ["cv", "--data", str(data), "--out", str(tmp_path / "o"), "--sweep", str(deep)]
    )
    assert r.exit_code == 2, r.output
    assert "deep.toml" in r.output and "nested too deeply" in r.output


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "..", "a/b"])
def test_an_experiment_name_cannot_leave_out(data, tmp_path, name):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[[experiment]]\nname = "{name}"\nwidth = 4\n')
    out = tmp_path / "deep" / "er" / "out"
    r = CliRunner().invoke(main, ["cv", "--data", str(data), "--out", str(out), "--sweep",
                                  str(sweep)])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "experiment name" in r.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sweep.toml"]


def test_a_fold_name_cannot_leave_out(data, tmp_path):
    folders = sorted(p.name for p in data.iterdir() if p.is_dir())
    folds = tmp_path / "folds.csv"
    folds.write_text(f"{folders[0]},../../../../x\n{folders[1]},2\n")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["cv", "--data", str(data), "--out", str(out), "--folds",
                                  str(folds), "--width", "4"])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "fold" in r.output and "cannot be a file name" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folds.csv"]


def test_a_contradictory_fold_file_stops_train_and_cv_with_exit_2(data, tmp_path):
    folders = sorted(p.name for p in data.iterdir() if p.is_dir())
    folds = tmp_path / "folds.csv"
    folds.write_text(f"{folders[0]},1\n{folders[0]},2\n")
    for cmd in (["cv", "--list-jobs"], ["train", "--fold", "1"]):
        r = CliRunner().invoke(main, [*cmd, "--data", str(data), "--out", str(tmp_path / "o"),
                                      "--folds", str(folds)])  # fmt: skip
        assert r.exit_code == 2, r.output
        assert "folds.csv: line 2" in r.output and "Traceback" not in r.output


def test_header_and_positional_fold_files_mean_the_same(data, tmp_path):
    keys = [r.key for r in index_dataset(data)]
    rows = [(k.folder, k.video, f"{k.frame}.png", str(i % 2 + 1)) for i, k in enumerate(keys)]
    positional = tmp_path / "pos.csv"
    positional.write_text("".join(",".join(r) + "\n" for r in rows))
    header = tmp_path / "head.csv"
    header.write_text("folder,video,frame,fold\n" + "".join(",".join(r) + "\n" for r in rows))
    assert make_folds(keys, str(header)) == make_folds(keys, str(positional))
    assert None not in make_folds(keys, str(header))


def test_tables_use_the_folds_that_trained_and_a_changed_spec_is_refused(data, tmp_path):
    from adaptor_baseline import cv
    from adaptor_baseline.sweep import Experiment

    keys = [r.key for r in index_dataset(data, require_labels=True)]
    folds = tmp_path / "by-frame.csv"
    folds.write_text("".join(f"{k.folder},{k.video},{k.frame},{i % 2}\n" for i, k in
                             enumerate(keys)))  # fmt: skip
    exp = [Experiment("e", with_overrides(preset("variant1"), **TINY))]
    plan = cv.make_plan(data, tmp_path / "out", exp, str(folds))
    written = (tmp_path / "out" / "folds.csv").read_text().splitlines()
    assert written[0] == "folder,video,frame,fold" and len(written) == len(keys) + 1
    with pytest.raises(ValueError, match="trained on other folds"):
        cv.make_plan(data, tmp_path / "out", exp, None)  # leave-one-folder-out now
    assert plan.folds == ["0", "1"]


def test_ground_truth_levels_the_user_cannot_list_stop_every_reader(tmp_path):
    """As a user other than root (root reads everything): a video folder of mode 000."""
    import tempfile

    from adaptor_score.groundtruth import GroundTruthError, load_ground_truth

    base = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(base, 0o755)
    gt = base / "gt"
    generate_dataset(gt, "sim", surgeries=2, videos=1, frames=2, seed=5, workers=1, max_points=6)
    for p in [gt, *gt.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    levels = {
        "surgery": next(p for p in gt.iterdir() if p.is_dir()),
        "video": next(p for p in gt.glob("*/*") if p.is_dir()),
        "labels": next(gt.glob("*/*/point_labels")),
    }
    for level, folder in levels.items():
        os.chmod(folder, 0)
        try:
            if os.geteuid() == 0:  # root lists everything: ask as nobody, in a forked child
                name = folder.name
                assert _as_nobody(lambda name=name: _score_exit(gt, name)) == 0, level
            else:
                with pytest.raises(GroundTruthError, match="cannot list the folder"):
                    load_ground_truth(gt)
        finally:
            os.chmod(folder, 0o755)
    assert len(load_ground_truth(gt)) == 4


def _score_exit(gt: Path, name: str) -> int:
    from adaptor_score.cli import main as score_main

    r = CliRunner().invoke(score_main, ["score", str(gt), str(gt)])
    return (
        0 if r.exit_code == 2 and "cannot list the folder" in r.output and name in r.output else 1
    )


def _as_nobody(check) -> int:
    """``check()``'s return value, run in a forked child as user nobody (65534)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            code = check()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_index_dataset_refuses_an_unlistable_folder_instead_of_skipping_it(tmp_path):
    import tempfile

    from adaptor_baseline.data.layout import LabelError

    base = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(base, 0o755)
    gt = base / "d"
    generate_dataset(gt, "sim", surgeries=1, videos=2, frames=1, seed=5, workers=1, max_points=6)
    video = next(p for p in gt.glob("*/*") if p.is_dir())
    os.chmod(video, 0)

    def refused() -> int:
        try:
            index_dataset(gt)
        except LabelError as e:
            return 0 if "cannot list" in str(e) and video.name in str(e) else 1
        return 2

    try:
        assert (_as_nobody(refused) if os.geteuid() == 0 else refused()) == 0
    finally:
        os.chmod(video, 0o755)


def test_synth_refuses_a_folder_that_is_not_empty(data, tmp_path):
    root = tmp_path / "root"
    generate_dataset(root, "sim", surgeries=1, videos=1, frames=1, seed=1, workers=1)
    before = sorted(map(str, root.rglob("*")))
    r = CliRunner().invoke(main, ["synth", str(root), "--surgeries", "2", "--frames", "1"])
    assert r.exit_code == 2 and "is not empty" in r.output
    assert sorted(map(str, root.rglob("*"))) == before


def _fp_args(data, pred):
    return ["false-positives", str(data), str(pred)]


def test_false_positives_checks_its_manifest_against_the_tree(tmp_path):
    import shutil

    root = tmp_path / "d"
    generate_dataset(root, "sim", surgeries=2, videos=1, frames=2, seed=2, workers=1, max_points=6)
    pred = tmp_path / "pred"
    pred.mkdir()
    ok = CliRunner().invoke(main, _fp_args(root, pred))
    assert ok.exit_code == 0, ok.output
    manifest = json.loads((root / "synth.json").read_text())
    # another dataset's folder copied in: the manifest no longer describes the tree
    shutil.copytree(next(p for p in root.iterdir() if p.is_dir()), root / "20990101_sim99")
    r = CliRunner().invoke(main, _fp_args(root, pred))
    assert r.exit_code == 2 and "synth.json: describes 4 frames, the tree holds 6" in r.output
    shutil.rmtree(root / "20990101_sim99")
    for claim, said in (
        ({"folders": [[manifest["folders"][0][0], [["VID000_0", 10**9]]]]}, "frames must be"),
        ({"folders": [[f"f{i}", [["v", 1]]] for i in range(1001)]}, "above the limits"),
        ({"folders": [["../x", [["v", 1]]]]}, "cannot be a file name"),
        ({"seed": "0"}, "whole numbers"),
    ):
        (root / "synth.json").write_text(json.dumps({**manifest, **claim}))
        r = CliRunner().invoke(main, _fp_args(root, pred))
        assert r.exit_code == 2 and said in r.output, (claim, r.output)


def test_a_broken_frame_is_listed_by_the_realism_report_not_a_traceback(tmp_path):
    root = tmp_path / "d"
    generate_dataset(root, "sim", surgeries=1, videos=1, frames=3, seed=2, workers=1, max_points=6)
    frame = next(root.rglob("images/000001.png"))
    frame.write_bytes(frame.read_bytes()[:200])  # truncated
    r = CliRunner().invoke(main, ["synth-report", str(root), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert "000001.png" in r.output and "left out of the image rows" in r.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["image_sample"] == 2 and report["problems"][0]["file"].endswith("000001.png")


@pytest.mark.parametrize(
    "args_for",
    [
        lambda d, run, t: [
            "predict",
            "--weights",
            run,
            "--input",
            d,
            "--output",
            t / "p",
            "--heatmaps",
            d,
        ],  # fmt: skip
        lambda d, run, t: ["predict", "--weights", run, "--input", d, "--output", d / "preds"],
        lambda d, run, t: ["predict", "--weights", run, "--input", d, "--output", run],
        lambda d, run, t: ["contact-sheet", d, "--out", next(d.rglob("*.png"))],
        lambda d, run, t: ["synth-report", d, "--out", d / "report"],
        lambda d, run, t: ["perturb", d, d / "noisy"],
        lambda d, run, t: ["false-positives", d, t, "--json", next(d.rglob("*.json"))],
        lambda d, run, t: ["train", "--data", d, "--out", d / "run"],
        lambda d, run, t: ["cv", "--data", d, "--out", t / "cv", "--test", t / "cv" / "test"],
    ],
)
def test_baseline_commands_never_write_over_or_into_their_inputs(data, run, tmp_path, args_for):
    if "--test" in [str(a) for a in args_for(data, run, tmp_path)]:
        (tmp_path / "cv" / "test").mkdir(parents=True)
    snapshot = {p: p.stat().st_mtime_ns for p in [*data.rglob("*"), *run.rglob("*")]}
    r = CliRunner().invoke(main, [str(a) for a in args_for(data, run, tmp_path)])
    assert r.exit_code == 2, r.output
    assert "nothing was written" in r.output
    assert {p: p.stat().st_mtime_ns for p in [*data.rglob("*"), *run.rglob("*")]} == snapshot

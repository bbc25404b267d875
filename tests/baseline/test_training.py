"""Training, checkpoints, prediction and cv on tiny synthetic sets (CPU, CI-sized)."""

import csv
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from adaptor_baseline.cli import main
from adaptor_baseline.config import TrainConfig, preset, with_overrides
from adaptor_baseline.predict import load_model, predict_dir
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.train import train
from adaptor_score.cli import main as score_main
from adaptor_score.scoring import score

NO_AUG = {"augment.p": 0.0}


def tiny(variant="variant1", **kw) -> TrainConfig:
    cfg = with_overrides(
        preset(variant),
        **{
            "model.width": 8,
            "model.depth": 3,
            "input_size": (256, 144),
            "batch_size": 4,
            "target.sigma1": 1.0,
            **kw,
        },
    )
    return cfg


@pytest.fixture(scope="module")
def few_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("few")
    generate_dataset(out, "sim", surgeries=2, videos=1, frames=2, seed=21, workers=1, max_points=12)
    return out


def test_overfits_a_handful_of_frames(few_frames, tmp_path):
    # A capacity check in 160 steps: no dropout (the authors' 0.3-0.5 slows a tiny fit down) and
    # the foreground prior (from the faithful zero bias it needs far more steps; measured 0.50).
    cfg = tiny(
        "variant1",
        epochs=40,
        steps_per_epoch=4,
        lr=3e-3,
        **NO_AUG,
        **{"model.dropout": 0.0, "model.head_prior": -4.0},
    )
    train(cfg, few_frames, tmp_path / "run")
    preds = tmp_path / "pred"
    predict_dir(tmp_path / "run", few_frames, preds, device="cpu")
    s = score(few_frames, preds, (6.0,)).overall()[0]
    assert s.f1 >= 0.8, (s.tp, s.fp, s.fn)


def test_the_held_out_fold_never_steers_training(few_frames, tmp_path):
    """Labels of the held-out fold moved far away: the validation numbers change, the trained
    weights must not (the schedule steps on the training loss; nothing else reads the fold)."""
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(few_frames, moved)
    for f in (moved / "20211001_sim00").rglob("point_labels/*.json"):
        doc = json.loads(f.read_text())
        doc["points"] = [{"x": 5.0, "y": 5.0}] * 3
        f.write_text(json.dumps(doc))
    cfg = tiny("variant1", epochs=3, steps_per_epoch=2, plateau_patience=0)
    train(cfg, few_frames, tmp_path / "a", fold="20211001_sim00")
    train(cfg, moved, tmp_path / "b", fold="20211001_sim00")
    a = torch.load(tmp_path / "a" / "model.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "b" / "model.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    va = [r["val_loss"] for r in csv.DictReader(open(tmp_path / "a" / "metrics.csv"))]
    vb = [r["val_loss"] for r in csv.DictReader(open(tmp_path / "b" / "metrics.csv"))]
    assert va != vb  # the fold was really different


def test_evaluating_the_fold_less_often_changes_no_weight(few_frames, tmp_path):
    """val_every only thins the log: the same weights with the fold evaluated after every epoch,
    after every second (and the last), and never during training."""
    weights, logged = [], []
    for every in (1, 2, 0):
        run = tmp_path / f"every-{every}"
        cfg = tiny("variant1", epochs=3, steps_per_epoch=2, val_every=every)
        train(cfg, few_frames, run, fold="20211001_sim00")
        weights.append(torch.load(run / "model.pt", weights_only=False)["model"])
        rows = list(csv.DictReader(open(run / "metrics.csv")))
        logged.append([bool(r.get("val_f1")) for r in rows])
        assert (run / "val_score.json").exists()  # the run is scored after training either way
    assert all(torch.equal(weights[0][k], w[k]) for w in weights[1:] for k in weights[0])
    assert logged == [[True, True, True], [False, True, True], [False, False, False]]


def test_the_schedule_steps_on_the_training_loss(few_frames, tmp_path, monkeypatch):
    seen = []
    original = torch.optim.lr_scheduler.ReduceLROnPlateau.step

    def spy(self, metrics, *a, **k):
        seen.append(float(metrics))
        return original(self, metrics, *a, **k)

    monkeypatch.setattr(torch.optim.lr_scheduler.ReduceLROnPlateau, "step", spy)
    train(
        tiny("variant1", epochs=2, steps_per_epoch=1),
        few_frames,
        tmp_path / "s",
        fold="20211001_sim00",
    )
    rows = list(csv.DictReader(open(tmp_path / "s" / "metrics.csv")))
    assert seen == pytest.approx([float(r["train_loss"]) for r in rows])
    assert seen != pytest.approx([float(r["val_loss"]) for r in rows])


def test_resume_with_another_configuration_is_refused_with_a_message(few_frames, tmp_path):
    train(tiny("variant1", epochs=1, steps_per_epoch=1), few_frames, tmp_path / "r")
    wider = tiny(
        "variant1", epochs=2, steps_per_epoch=1, **{"model.width": 16, "target.sigma1": 4.0}
    )
    with pytest.raises(ValueError, match=r"model.width, target.sigma1 differ.*new output folder"):
        train(wider, few_frames, tmp_path / "r", resume=True)


def test_checkpoint_round_trip_resume_and_reproducibility(few_frames, tmp_path):
    cfg = tiny("variant2", epochs=2, steps_per_epoch=2)
    train(cfg, few_frames, tmp_path / "a", fold="20211001_sim00")
    train(cfg, few_frames, tmp_path / "b", fold="20211001_sim00")
    rows = [list(csv.DictReader(open(tmp_path / r / "metrics.csv"))) for r in ("a", "b")]
    assert [r["train_loss"] for r in rows[0]] == [r["train_loss"] for r in rows[1]]  # seeded
    assert rows[0][0]["plateau_on"] == "train_loss" and "val_f1" in rows[0][0]
    assert json.loads((tmp_path / "a" / "val_score.json").read_text())["overall"][0]["images"] == 2

    model, loaded_cfg = load_model(tmp_path / "a" / "model.pt")
    assert loaded_cfg == cfg
    x = torch.rand(1, 3, 144, 256)
    reference = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)
    again, _ = load_model(tmp_path / "a" / "checkpoint.pt")
    assert torch.equal(model(x)["output"], again(x)["output"])
    assert reference["epoch"] == 2

    # resume: a 3-epoch run continued from the 2-epoch checkpoint equals a straight 3-epoch run
    more = with_overrides(cfg, epochs=3)
    train(more, few_frames, tmp_path / "a", fold="20211001_sim00", resume=True)
    train(more, few_frames, tmp_path / "c", fold="20211001_sim00")
    resumed = list(csv.DictReader(open(tmp_path / "a" / "metrics.csv")))
    straight = list(csv.DictReader(open(tmp_path / "c" / "metrics.csv")))
    assert len(resumed) == 3
    assert [r["train_loss"] for r in resumed] == [r["train_loss"] for r in straight]


def test_cpu_only_never_touches_cuda(few_frames, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("CUDA was initialised on a CPU-only run")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "_lazy_init", boom)
    monkeypatch.setattr(torch.cuda, "init", boom)
    train(tiny("baseline", epochs=1, steps_per_epoch=1), few_frames, tmp_path / "run")
    predict_dir(tmp_path / "run", few_frames, tmp_path / "pred")


class _FixedPeaks(torch.nn.Module):
    """A stand-in network whose output has the same peaks whatever the image: the points it
    yields depend only on the mapping between the network grid and the image's pixels. Built
    from tensors only, so prediction can trace and freeze it like the real one."""

    def __init__(self, peaks, size):
        super().__init__()
        from adaptor_baseline.codec import render_heatmap

        heat = torch.from_numpy(render_heatmap(np.array(peaks), size, sigma=2.0))
        self.register_buffer("heat", heat[None, None])

    def forward(self, images):
        return {"output": self.heat.expand(images.shape[0], -1, -1, -1) + 0 * images[:, :1]}


def test_predict_writes_valid_submissions_in_original_pixels(few_frames, tmp_path, monkeypatch):
    from adaptor_baseline import predict

    train(tiny("baseline", epochs=1, steps_per_epoch=1), few_frames, tmp_path / "run")
    cfg = TrainConfig.load(tmp_path / "run" / "config.json")  # input 256 x 144
    peaks = [[20.3, 30.6], [200.0, 100.5], [128.0, 72.0]]
    stand_in = _FixedPeaks(peaks, tuple(cfg.input_size))
    monkeypatch.setattr(predict, "load_model", lambda *a, **k: (stand_in, cfg))
    # the same frames at twice the size: predictions must come back in the 1024 x 576 grid
    big = tmp_path / "big"
    for img in few_frames.rglob("images/*.png"):
        target = big / img.relative_to(few_frames)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.open(img).resize((1024, 576)).save(target)
    r = CliRunner().invoke(
        main,
        ["predict", "--weights", str(tmp_path / "run"), "--input", str(big),
         "--output", str(tmp_path / "p_big"), "--heatmaps", str(tmp_path / "hm")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(score_main, ["validate", str(tmp_path / "p_big"), "--images", str(big)])
    assert r.exit_code == 0, r.output
    predict_dir(tmp_path / "run", few_frames, tmp_path / "p_small")
    files = sorted((tmp_path / "p_small").rglob("*.json"))
    assert len(files) == 4
    network = np.array(peaks)
    for f in files:
        small = np.array([[p["x"], p["y"]] for p in json.loads(f.read_text())["points"]])
        large_doc = json.loads(
            (tmp_path / "p_big" / f.relative_to(tmp_path / "p_small")).read_text()
        )
        large = np.array([[p["x"], p["y"]] for p in large_doc["points"]])
        assert large_doc["imageFileName"] == f.stem + ".png"
        # network grid (256 x 144) -> 512 x 288 is x2, -> 1024 x 576 is x4 (pixel centres)
        order = np.lexsort((network[:, 0], network[:, 1]))
        # (decoding a cut-off peak is off by <= 0.1 network px; JSON keeps 2 decimals)
        np.testing.assert_allclose(small, (network[order] + 0.5) * 2 - 0.5, atol=0.2)
        np.testing.assert_allclose(large, (small + 0.5) * 2 - 0.5, atol=0.03)
    assert len(list((tmp_path / "hm").rglob("*.png"))) == 4


def test_cv_jobs_and_tables(few_frames, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        '[[experiment]]\nname = "v1-s1"\nconfig = "variant1"\nsigma2 = 1\nwidth = 4\ndepth = 2\nepochs = 1\n'
        "steps_per_epoch = 1\ninput_size = [128, 72]\n"
        '[[experiment]]\nname = "v1-s2"\nconfig = "variant1"\nsigma2 = 2\nwidth = 4\ndepth = 2\nepochs = 1\n'
        "steps_per_epoch = 1\ninput_size = [128, 72]\n"
    )
    args = [
        "cv",
        "--data",
        str(few_frames),
        "--out",
        str(tmp_path / "cv"),
        "--sweep",
        str(sweep),
        "--test",
        str(few_frames),
    ]
    r = CliRunner().invoke(main, args + ["--list-jobs"])
    assert r.exit_code == 0, r.output
    commands = r.output.strip().splitlines()
    assert len(commands) == 4 and all("--job" in c and "--sweep" in c for c in commands)
    r = CliRunner().invoke(main, args + ["--job", "0"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cv" / "v1-s1" / "fold-20211001_sim00" / "test_predictions").is_dir()
    r = CliRunner().invoke(main, args)  # runs the rest (job 0 is skipped), then the tables
    assert r.exit_code == 0, r.output
    results = list(csv.DictReader(open(tmp_path / "cv" / "tables" / "results.csv")))
    assert {(r["experiment"], r["dataset"]) for r in results} == {
        ("v1-s1", "cv"),
        ("v1-s2", "cv"),
        ("v1-s1", "test"),
        ("v1-s2", "test"),
    }
    table2 = (tmp_path / "cv" / "tables" / "table2.md").read_text()
    assert "σ2 = 1" in table2 and "σ2 = 2" in table2

    # an edited experiment is never reused nor relabelled: sigma1 1 -> 4 under the same name
    sweep.write_text(sweep.read_text().replace('name = "v1-s1"', 'name = "v1-s1"\nsigma1 = 4', 1))
    r = CliRunner().invoke(main, args + ["--job", "0"])
    assert r.exit_code == 2 and "target.sigma1 differ" in r.output and "v1-s1" in r.output
    r = CliRunner().invoke(main, args + ["--collect-only"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(open(tmp_path / "cv" / "tables" / "results.csv")))
    assert {r["sigma1"] for r in rows if r["experiment"] == "v1-s1"} == {"2.0"}  # as trained


def test_bad_inputs_exit_2(tmp_path):
    data = tmp_path / "data"  # beside the output: an output inside the data is refused first
    data.mkdir()
    r = CliRunner().invoke(main, ["train", "--data", str(data), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no labelled frames" in r.output
    r = CliRunner().invoke(
        main, ["train", "--data", str(data), "--out", str(tmp_path / "o"), "--config", "nope"]
    )
    assert r.exit_code == 2 and "unknown configuration" in r.output


def test_a_log_gets_plain_progress_lines_within_an_epoch():
    """Outside a terminal the bar shows nothing: a line at most every few seconds says the step,
    the loss, the rate and the time left in the epoch."""
    import io

    from rich.console import Console

    from adaptor_baseline.train import _within_epoch

    out = io.StringIO()
    seen = []
    report = _within_epoch(lambda **f: seen.append(f), Console(file=out, width=120), 2, 5, 10,
                           every=0.0)  # fmt: skip
    for step in range(10):
        report(advance=1, rate=12.5, **({"loss": "0.9000"} if step == 0 else {}))
    lines = out.getvalue().splitlines()
    assert len(seen) == 10 and len(lines) == 9  # none after the last step: the epoch line follows
    assert lines[0].startswith("epoch 3/5: step 1/10, loss 0.9000, 12.5 img/s, about")

"""The cosine schedule, the weight average, Dice over the batch and what a run repeats."""

import csv

import pytest
import torch

import adaptor_baseline.train as train_module
from adaptor_baseline.config import TrainConfig
from adaptor_baseline.model.losses import dice_loss, fbeta_loss
from adaptor_baseline.optim import cosine_factor, make_average, make_scheduler
from adaptor_baseline.predict import load_model
from adaptor_baseline.train import train
from tests.baseline.test_training import few_frames, tiny  # noqa: F401 - the fixture

COSINE = {"schedule": "cosine", "warmup_steps": 2, "ema_decay": 0.9, "model.loss_over": "batch"}


def test_cosine_factor_warms_up_then_falls_to_its_floor():
    rates = [cosine_factor(s, 10, 3, 0.01) for s in range(10)]
    assert rates[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert rates[3] == pytest.approx(1.0) and rates[-1] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[2:], rates[3:]))  # never rises after the warm-up


def test_the_plateau_schedule_steps_per_epoch_and_cosine_per_batch():
    p = torch.nn.Parameter(torch.zeros(1))
    plateau, per_step = make_scheduler(torch.optim.Adam([p]), TrainConfig(), 10)
    assert not per_step and isinstance(plateau, torch.optim.lr_scheduler.ReduceLROnPlateau)
    _, per_step = make_scheduler(torch.optim.Adam([p]), TrainConfig(schedule="cosine"), 10)
    assert per_step


def test_the_average_follows_the_weights_with_its_decay():
    net = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    avg = make_average(net, 0.5)
    with torch.no_grad():
        net.weight.fill_(1.0)
    avg.update_parameters(net)  # the first update copies
    with torch.no_grad():
        net.weight.fill_(3.0)
    avg.update_parameters(net)
    assert float(avg.module.weight.detach()) == pytest.approx(0.5 * 1.0 + 0.5 * 3.0)
    assert make_average(net, None) is None


def test_dice_per_image_pulls_a_faint_empty_crop_down_far_harder_than_over_the_batch():
    """A labelled crop (an 8 x 8 label) and an empty one with a faint output (0.002): per image,
    the empty crop's pixels get ~28 times the gradient of the batch version and ~56 times the
    labelled crop's own (what model/losses.py says)."""
    target = torch.zeros(2, 1, 16, 16)
    target[0, 0, 4:12, 4:12] = 1
    grads = {}
    for over in ("image", "batch"):
        pred = (target + torch.tensor([0.0, 0.002]).view(2, 1, 1, 1)).requires_grad_()
        dice_loss(pred, target, over=over).backward()
        grads[over] = [float(pred.grad[i].abs().mean()) for i in (0, 1)]
    assert grads["image"][1] > 20 * grads["batch"][1]
    assert grads["image"][1] > 40 * grads["image"][0]
    assert grads["batch"][1] == pytest.approx(grads["batch"][0], rel=0.01)
    assert fbeta_loss(target, target, over="batch") == pytest.approx(0.0)
    with pytest.raises(ValueError, match="over must be"):
        dice_loss(target, target, over="pixel")


def test_the_saved_model_is_the_average_and_a_run_repeats_bit_for_bit(few_frames, tmp_path):  # noqa: F811
    cfg = tiny("variant1", epochs=2, steps_per_epoch=3, **COSINE)
    train(cfg, few_frames, tmp_path / "a")
    train(cfg, few_frames, tmp_path / "b")
    a, _ = load_model(tmp_path / "a" / "model.pt")
    b, _ = load_model(tmp_path / "b" / "model.pt")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    last = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    saved = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["model"]
    assert "average" in last
    assert not torch.equal(saved["unet.head.weight"], last["model"]["unet.head.weight"])
    rates = [float(r["lr"]) for r in csv.DictReader(open(tmp_path / "a" / "metrics.csv"))]
    assert rates[-1] == pytest.approx(cfg.lr * cfg.min_lr_ratio)  # annealed to its floor
    assert [r["plateau_on"] for r in csv.DictReader(open(tmp_path / "a" / "metrics.csv"))] == [
        "",
        "",
    ]


def test_a_cosine_run_interrupted_and_resumed_equals_a_straight_run(
    few_frames,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    cfg = tiny("variant1", epochs=3, steps_per_epoch=2, **COSINE)
    train(cfg, few_frames, tmp_path / "straight")
    real = train_module._train_epoch

    def crash_in_epoch_3(state, cfg, loader, epoch, *a, **k):
        if epoch == 2:
            raise KeyboardInterrupt
        return real(state, cfg, loader, epoch, *a, **k)

    monkeypatch.setattr(train_module, "_train_epoch", crash_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, few_frames, tmp_path / "resumed")
    monkeypatch.setattr(train_module, "_train_epoch", real)
    train(cfg, few_frames, tmp_path / "resumed", resume=True)
    x = torch.load(tmp_path / "straight" / "model.pt", weights_only=True)["model"]
    y = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["model"]
    assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def test_threads_may_change_on_resume_but_not_the_recipe(few_frames, tmp_path):  # noqa: F811
    cfg = tiny("variant1", epochs=1, steps_per_epoch=1, **COSINE)
    train(cfg, few_frames, tmp_path / "r")
    from adaptor_baseline.config import with_overrides

    train(with_overrides(cfg, epochs=2, threads=1), few_frames, tmp_path / "r", resume=True)
    with pytest.raises(ValueError, match="ema_decay differ"):
        train(with_overrides(cfg, epochs=3, ema_decay=0.5), few_frames, tmp_path / "r", resume=True)


def test_cv_settings_learning_spells_the_recipe_into_every_job(few_frames, tmp_path):  # noqa: F811
    """`cv --settings learning`: every job's command carries the demo recipe's settings, the
    experiment's own sigma_1 stays, and an option given beside it wins."""
    from click.testing import CliRunner

    from adaptor_baseline.cli import main

    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[[experiment]]\nname = "g3"\nconfig = "variant1"\nsigma1 = 3\n')
    r = CliRunner().invoke(main, ["cv", "--data", str(few_frames), "--out", str(tmp_path / "cv"),
                                  "--sweep", str(sweep), "--settings", "learning",
                                  "--epochs", "2", "--list-jobs"])  # fmt: skip
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 2  # two folders, two folds
    for line in lines:
        assert "--ema-decay 0.99" in line and "--loss-over batch" in line
        assert "--schedule cosine" in line and "--epochs 2" in line
        assert "--sigma1" not in line  # the sweep's own sigma_1 = 3 is kept

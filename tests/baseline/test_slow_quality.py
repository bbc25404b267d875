"""Slow (make test-slow): the demo's recipe keeps its held-out quality on synthetic frames."""

import pytest
from rich.console import Console

from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.predict import predict_dir
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.train import train
from adaptor_score.scoring import score

pytestmark = pytest.mark.slow


def test_demo_recipe_reaches_f1_08_on_held_out_frames(tmp_path):
    generate_dataset(tmp_path / "train", "sim", 3, 2, 20, seed=0)
    generate_dataset(tmp_path / "heldout", "sim", 2, 1, 20, seed=1)
    cfg = with_overrides(
        preset("variant1"),
        **{
            "target.sigma1": 1.0,
            "model.sigma2": 1.0,
            "model.width": 8,
            "crop": (128, 128),
            "batch_size": 8,
            "epochs": 14,
            "steps_per_epoch": 40,
            "seed": 0,
        },
    )
    train(cfg, tmp_path / "train", tmp_path / "run", console=Console(quiet=True))
    predict_dir(tmp_path / "run", tmp_path / "heldout", tmp_path / "pred", device="cpu")
    s = score(tmp_path / "heldout", tmp_path / "pred", (6.0,)).overall()[0]
    assert s.f1 >= 0.8, (s.f1, s.tp, s.fp, s.fn)

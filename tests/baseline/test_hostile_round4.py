"""Hostile inputs, round 4, in the baseline: model files that describe another network, forged
SLURM state, and values that enter a generated batch script. Each class with several members."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from click.testing import CliRunner

from adaptor_baseline.checkpoints import CheckpointError, load_model
from adaptor_baseline.cli import main
from adaptor_baseline.config import TrainConfig, preset, with_overrides
from adaptor_baseline.model.detector import SutureDetector

SMALL = {"model.width": 4, "model.depth": 2, "input_size": (128, 72)}


def _model_file(path: Path, config_changes: dict, weights_cfg: dict = SMALL, poison=None) -> Path:
    """Weights of a small network, saved with a config that may claim another one."""
    cfg = with_overrides(preset("variant1"), **weights_cfg)
    state = SutureDetector(cfg.model).state_dict()
    if poison is not None:
        name = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
        state[name] = state[name].clone()
        state[name].view(-1)[0] = poison
    config = cfg.to_dict()
    for key, value in config_changes.items():
        section, _, field = key.rpartition(".")
        (config[section] if section else config)[field] = value
    torch.save({"model": state, "config": config}, path)
    return path


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"model.width": 100_000}, "width must be between 1 and 256"),
        ({"model.depth": 60}, "depth must be between 1 and 8"),
        ({"model.gaussian_size": 0, "model.sigma2": 1e7}, "sigma2 must be between 0 and 20"),
        ({"model.gaussian_size": 10_001}, "gaussian_size must be between 0 and 129"),
        ({"model.temperature": 0.0}, "temperature must be between"),
        ({"input_size": [100_000, 72]}, "input_size must be at most 4096"),
        ({"model.width": 8}, "has shape [4, 3, 3, 3], the configuration [8, 3, 3, 3]"),
        ({"model.depth": 3}, "missing"),
    ],
)
def test_a_model_file_describing_another_network_is_refused_before_it_is_built(
    tmp_path, changes, said
):
    path = _model_file(tmp_path / "model.pt", changes)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError) as e:
        load_model(path)
    assert said in str(e.value) and str(path) in str(e.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # nothing of the claimed size was allocated


@pytest.mark.parametrize("poison", [float("nan"), float("inf"), float("-inf")])
def test_weights_that_are_not_finite_are_refused_when_loading(tmp_path, poison):
    path = _model_file(tmp_path / "model.pt", {}, poison=poison)
    with pytest.raises(CheckpointError, match="not finite"):
        load_model(path)


def test_predict_names_the_file_with_exit_2(tmp_path):
    path = _model_file(tmp_path / "model.pt", {"model.width": 100_000})
    (tmp_path / "in").mkdir()
    r = CliRunner().invoke(main, ["predict", "--weights", str(path), "--input",
                                  str(tmp_path / "in"), "--output", str(tmp_path / "out")])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "model.pt" in r.output and "width must be between 1 and 256" in r.output


def test_a_good_model_file_still_loads(tmp_path):
    model, cfg = load_model(_model_file(tmp_path / "model.pt", {}))
    assert isinstance(cfg, TrainConfig) and cfg.model.width == 4 and not model.training

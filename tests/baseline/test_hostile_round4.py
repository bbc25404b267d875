"""Hostile inputs, round 4, in the baseline: model files that describe another network, forged
SLURM state, and values that enter a generated batch script. Each class with several members."""

from __future__ import annotations

import json
import os
import resource
import subprocess
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


# ----------------------------------------------------------------------------- SLURM

HOSTILE_NAMES = [
    "my out",  # a plain space: the exit status once went to ./my
    "a $(touch INJ1) b`touch INJ2` c'd\"e\nf; touch INJ3 & g|h>INJ4 \\ *?[x] ~ #",
    os.fsdecode(b"bytes \xff\xfe 'q'"),  # not UTF-8
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["space", "metacharacters", "non-utf8"])
def test_the_batch_script_runs_nothing_from_its_values_and_records_the_exit_status(
    tmp_path, monkeypatch, name
):
    from adaptor_baseline import slurm
    from adaptor_baseline.slurm import JOBS_FILE, SLURM_DIR, batch_script, status
    from adaptor_score import atomic

    monkeypatch.setattr(slurm, "queue_states", dict)  # no cluster here: nothing is queued

    out = tmp_path / name
    folder = out / SLURM_DIR
    (folder / "exit").mkdir(parents=True)
    plan = SimpleNamespace(out=out)
    # the task's command fails at once (an option cv does not know): exit 2 must be recorded
    script = batch_script(plan, [3], ["--out", str(out), "--no-such-option", name], folder)
    assert name not in script.split("\n", 2)[1]  # the comment carries no value
    path = folder / "array-1.sh"
    atomic.write_text(path, script, errors="surrogateescape")
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_JOB_ID": "77"}
    r = subprocess.run(["bash", str(path)], cwd=tmp_path, env=env, capture_output=True)
    assert r.returncode == 2, r.stderr.decode(errors="replace")
    assert not list(tmp_path.rglob("INJ*")) and not (tmp_path / "my").exists()
    assert (folder / "exit" / "3").read_text().strip() == "2"
    (out / JOBS_FILE).write_text(json.dumps(
        {"test": False, "jobs": [{"job": 3, "experiment": "v1", "fold": "s1", "run": "v1/s1"}]}))
    (folder / "submissions.json").write_text(json.dumps({"submissions": [{"array": "77",
                                                         "collect": "78", "jobs": [3]}]}))
    (job,) = status(out)
    assert job.state == "failed" and job.detail.startswith("exit 2")


FORGED = {
    "jobs.json": [
        ("[]", "not a file this toolkit wrote"),
        ('{"test": false}', "jobs"),
        ('{"test": false, "jobs": [{"job": "x"}]}', "jobs[0]"),
        ('{"test": false, "jobs": [{"job": 1, "experiment": "e", "fold": "f"}]}', "run"),
        ('{"test": false, "jobs": ' + "[" * 100_000 + "]" * 100_000 + "}", "jobs"),
        ('{"test": false, "jobs": [{"job": 1, "experiment": "e", "fold": "f", "run": "../../x"}]}',
         "leaves"),
        ("\xff\xfe{", "not"),
    ],
    "slurm/submissions.json": [
        ('{"submissions": {}}', "submissions"),
        ('{"submissions": [{"array": 5, "jobs": [0]}]}', "array"),
        ('{"submissions": [{"array": "5"}]}', "jobs"),
        ("[" * 100_000 + "]" * 100_000, "not a file this toolkit wrote"),
    ],
    "slurm/exit/0": [("not a number", "not an exit status"), ("1e3", "not an exit status")],
}


@pytest.mark.parametrize(("where", "content", "said"),
                         [(w, c, s) for w, cases in FORGED.items() for c, s in cases])  # fmt: skip
def test_forged_slurm_state_is_refused_with_exit_2_naming_file_and_key(
    tmp_path, monkeypatch, where, content, said
):
    from adaptor_baseline import slurm

    monkeypatch.setattr(slurm, "queue_states", dict)  # no cluster here: nothing is queued
    out = tmp_path / "cv"
    (out / "slurm" / "exit").mkdir(parents=True)
    (out / "jobs.json").write_text(json.dumps(
        {"test": False, "jobs": [{"job": 0, "experiment": "v1", "fold": "s1", "run": "v1/s1"}]}))
    (out / "slurm" / "submissions.json").write_text(
        json.dumps({"submissions": [{"array": "5", "collect": "6", "jobs": [0]}]}))
    (out / where).write_bytes(content.encode("utf-8", "surrogateescape")
                              if "\xff" not in content else b"\xff\xfe{")  # fmt: skip
    r = CliRunner().invoke(main, ["cv", "--status", str(out)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and said in r.output
    assert str(out / where).split("/")[-1] in r.output


def test_a_running_task_is_said_running_not_queued(tmp_path, monkeypatch):
    from adaptor_baseline import slurm

    out = tmp_path / "cv"
    (out / "slurm" / "exit").mkdir(parents=True)
    jobs = [{"job": i, "experiment": "v1", "fold": f"s{i}", "run": f"v1/s{i}"} for i in range(3)]
    (out / "jobs.json").write_text(json.dumps({"test": False, "jobs": jobs}))
    (out / "slurm" / "submissions.json").write_text(
        json.dumps({"submissions": [{"array": "5", "collect": "6", "jobs": [0, 1, 2]}]}))
    monkeypatch.setattr(slurm, "queue_states",
                        lambda: {"5_0": "RUNNING", "5_1": "PENDING", "5": "RUNNING"})  # fmt: skip
    states = [j.state for j in slurm.status(out)]
    assert states == ["running", "queued", "queued"]
    r = CliRunner().invoke(main, ["cv", "--status", str(out), "--json", "-"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)  # JSON alone on standard output, for scripts
    assert [(x["job"], x["state"]) for x in rows] == [(0, "running"), (1, "queued"), (2, "queued")]
    assert rows[0]["detail"] == "array 5, task 0"

"""The sweep on a real one-node SLURM cluster (tools/slurm-up.sh; `make test-slurm`): submitted as
a job array, one task's result lost on purpose and submitted again, and the tables equal to those
of the local executor on the same sweep. Skipped where no cluster answers, unless
ADAPTOR_REQUIRE_SLURM=1 (CI), where that is a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.slurm import status, wait
from adaptor_baseline.synth import generate_dataset

pytestmark = pytest.mark.slurm

TINY = ["--width", "4", "--depth", "2", "--epochs", "1", "--steps-per-epoch", "1",
        "--batch-size", "2", "--input-size", "128", "72", "--device", "cpu"]  # fmt: skip
SWEEP = '[[experiment]]\nname = "v1"\nsigma2 = 1\n\n[[experiment]]\nname = "base"\nconfig = "baseline"\n'


def _cluster_answers() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "no sbatch/sinfo on PATH"
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if r.returncode != 0 or not any(
        s.startswith(("idle", "mix", "alloc")) for s in r.stdout.split()
    ):
        return f"no SLURM node answers ({(r.stderr or r.stdout).strip() or 'no node'})"
    return None


@pytest.fixture(scope="module")
def cluster():
    why = _cluster_answers()
    if why:
        if os.environ.get("ADAPTOR_REQUIRE_SLURM") == "1":
            pytest.fail(f"ADAPTOR_REQUIRE_SLURM=1 but {why}; start one with tools/slurm-up.sh")
        pytest.skip(why)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm")
    generate_dataset(root / "data", "sim", surgeries=2, videos=1, frames=3, seed=4, workers=1,
                     max_points=10)  # fmt: skip
    generate_dataset(root / "test", "sim", surgeries=1, videos=1, frames=2, seed=5, workers=1,
                     max_points=10)  # fmt: skip
    (root / "sweep.toml").write_text(SWEEP)
    return root


def _args(root, out):
    return ["cv", "--data", str(root / "data"), "--test", str(root / "test"), "--out",
            str(root / out), "--sweep", str(root / "sweep.toml"), *TINY]  # fmt: skip


def _tables(out):
    return {p.name: p.read_text() for p in sorted((out / "tables").glob("table*.md"))}


def test_a_sweep_on_slurm_equals_the_local_run_and_resubmits_only_what_is_lost(
    cluster, sweep_dir, monkeypatch
):
    # both executors with two torch threads: the same arithmetic, so the same numbers
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "2")
    local = CliRunner().invoke(main, _args(sweep_dir, "local"))
    assert local.exit_code == 0, local.output
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")

    out = sweep_dir / "on-slurm"
    dry = CliRunner().invoke(main, [*_args(sweep_dir, "on-slurm"), "--executor", "slurm",
                                    "--dry-run", "--sbatch-arg=--cpus-per-task=2"])  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "sbatch --array=0-3" in dry.output and "--dependency=afterany:$ARRAY" in dry.output
    assert (out / "slurm" / "array-1.sh").exists() and not (
        out / "slurm" / "submissions.json"
    ).exists()

    submit = [*_args(sweep_dir, "on-slurm"), "--executor", "slurm", "--max-parallel", "2",
              "--sbatch-arg=--cpus-per-task=2"]  # fmt: skip
    r = CliRunner().invoke(main, submit)
    assert r.exit_code == 0 and "(4 tasks)" in r.output, r.output
    jobs = wait(out, timeout=300)
    assert [j.state for j in jobs] == ["done"] * 4, [(j.state, j.detail) for j in jobs]
    assert _tables(out) == _tables(sweep_dir / "local")

    # one task's result lost: only that job is submitted again, and the tables come back equal
    lost = out / "base" / "fold-20210502_sim01"
    shutil.rmtree(lost)
    before = CliRunner().invoke(main, ["cv", "--status", str(out)])
    assert "3 done, 0 running, 0 queued, 0 failed, 0 missing" in before.output or "failed" in before.output
    r = CliRunner().invoke(main, submit)
    assert r.exit_code == 0 and "(1 tasks)" in r.output, r.output
    assert [j.state for j in wait(out, timeout=300)] == ["done"] * 4
    assert _tables(out) == _tables(sweep_dir / "local")

    # nothing left to do: no array, only the collect job
    r = CliRunner().invoke(main, submit)
    assert r.exit_code == 0 and "no array (all done)" in r.output, r.output
    wait(out, timeout=120)


def test_a_failing_task_is_reported_with_its_log(cluster, sweep_dir):
    out = sweep_dir / "failing"
    r = CliRunner().invoke(main, [*_args(sweep_dir, "failing"), "--executor", "slurm",
                                  "--sbatch-arg=--cpus-per-task=1", "--sbatch-arg=--hold"])  # fmt: skip
    assert r.exit_code == 0, r.output
    # the data vanishes while the tasks are held: every task fails when released, and says why
    hidden = sweep_dir / "data-hidden"
    (sweep_dir / "data").rename(hidden)
    try:
        held = json.loads((out / "slurm" / "submissions.json").read_text())["submissions"][0]
        subprocess.run(["scontrol", "release", held["array"], held["collect"]], check=True)
        jobs = wait(out, timeout=300)
    finally:
        hidden.rename(sweep_dir / "data")
    failed = [j for j in jobs if j.state == "failed"]
    assert failed, [(j.state, j.detail) for j in jobs]
    assert len(failed) == 4 and all("exit 2" in j.detail for j in failed)
    shown = CliRunner().invoke(main, ["cv", "--status", str(out)])
    assert "failed" in shown.output and "data" in shown.output
    assert status(out)[0].experiment == "v1"

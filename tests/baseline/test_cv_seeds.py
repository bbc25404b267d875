"""cv --seeds: every (experiment, fold) once per seed, and tables that show the seed's spread."""

from __future__ import annotations

import csv
import json
import statistics

from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.synth import generate_dataset


def test_seeds_train_each_job_once_per_seed_and_the_tables_show_their_spread(tmp_path):
    data = tmp_path / "data"
    generate_dataset(data, "sim", surgeries=2, videos=1, frames=2, seed=4, workers=1, max_points=8)
    out = tmp_path / "cv"
    args = ["cv", "--data", str(data), "--out", str(out), "--width", "4", "--depth", "2",
            "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2", "--input-size", "128",
            "72", "--device", "cpu", "--seeds", "0", "1", "2"]  # fmt: skip
    listed = CliRunner().invoke(main, [*args, "--list-jobs"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 6 and all("--seeds 0 1 2" in x for x in lines)  # 2 folds x 3 seeds
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    runs = sorted(p.relative_to(out).as_posix() for p in out.glob("variant1/seed-*/fold-*"))
    assert len(runs) == 6 and runs[0].startswith("variant1/seed-0/fold-")
    seeds = {json.loads((out / r / "config.json").read_text())["seed"] for r in runs}
    assert seeds == {0, 1, 2}
    rows = [r for r in csv.DictReader(open(out / "tables" / "results.csv")) if r["radius"] == "6.0"]
    assert sorted({r["seed"] for r in rows}) == ["0", "1", "2"]
    # the spread column is the sample std over seeds of each seed's mean over folds
    per_seed = {}
    for r in rows:
        if r["f1"]:
            per_seed.setdefault(r["seed"], []).append(float(r["f1"]))
    table1 = (out / "tables" / "table1.md").read_text()
    assert "F1 sd over seeds" in table1
    assert len(per_seed) == 3, per_seed
    sd = statistics.stdev(statistics.mean(v) for v in per_seed.values())
    assert f"| {sd:.4f} |" in table1
    bad = CliRunner().invoke(main, [*args[:-3], "0", "0", "--list-jobs"])
    assert bad.exit_code != 0 and "twice" in bad.output
    stray = CliRunner().invoke(main, [*args[:-4], "7", "--list-jobs"])
    assert stray.exit_code == 2 and "unexpected" in stray.output

"""What one seed of the paper grid costs on this machine, measured with the grid's own jobs:
`tools/paper-grid.sh`'s stand-ins and recipe (:data:`RECIPE`), each job
a whole fresh process (start-up, training, the held-out fold scored, A.2 predicted):

* one job alone, torch's threads (2 here);
* two jobs at once, one thread each (how `make paper-grid` runs them on 2 cores).

A seed is 117 jobs (13 configurations x (4 A.1 folds + 5 B.1 folds)); its cost is 117 times the
time per job of the faster way. Run it on a quiet machine (nothing else training):

    python benchmarks/paper_grid_pace.py      # about 4 minutes on 2 cores
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from machine_info import cores, cpu_model, write_results

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "paper-grid-pace.json"
JOBS_PER_SEED = 13 * (4 + 5)
# tools/paper-grid.sh's RECIPE, word for word (tests/test_paper_grid_files.py holds them equal); the
# held-out fold is evaluated for the log once, at the end (the weights are the same either way)
RECIPE = ("--settings", "learning", "--epochs", "10", "--val-every", "10")


def _cv(out: Path, data: Path, test: Path, job: int, threads: int | None) -> subprocess.Popen:
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    args = ["adaptor-baseline", "cv", "--data", str(data), "--test", str(test), "--name", "A.1",
            "--test-name", "A.2", "--out", str(out), "--sweep", str(HERE.parent / "examples"
            / "paper-sweep.toml"), *RECIPE, "--seeds", "0", "--device", "cpu", "--job", str(job)]  # fmt: skip
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(procs) -> None:
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"a grid job failed: {err.decode()[-2000:]}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="grid-pace-") as tmp:
        root = Path(tmp)
        for name, shape in (("A1", ("4", "2", "10", "11")), ("A2", ("5", "1", "10", "12"))):
            s, v, f, seed = shape
            subprocess.run(["adaptor-baseline", "synth", str(root / name), "--domain", "intraop",
                            "--surgeries", s, "--videos", v, "--frames", f, "--seed", seed],
                           check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        out, data, test = root / "cv", root / "A1", root / "A2"
        t0 = time.perf_counter()
        _wait([_cv(out, data, test, 0, None)])  # job 0: baseline, sigma 1, fold 1
        alone = time.perf_counter() - t0
        t0 = time.perf_counter()
        _wait([_cv(out, data, test, 1, 1), _cv(out, data, test, 2, 1)])  # its folds 2 and 3
        pair = time.perf_counter() - t0
    per_job = min(alone, pair / 2)
    doc = {
        "what": __doc__.split("\n\n")[0],
        "seconds_one_job_alone": round(alone, 1),
        "seconds_two_jobs_at_once": round(pair, 1),
        "seconds_per_job_two_at_once": round(pair / 2, 1),
        "jobs_per_seed": JOBS_PER_SEED,
        "hours_per_seed": round(JOBS_PER_SEED * per_job / 3600, 2),
        "cpu": cpu_model(),
        "cores": cores(),
    }
    print(json.dumps(doc, indent=2))
    write_results(RESULTS, doc)


if __name__ == "__main__":
    main()

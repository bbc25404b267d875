"""What the paper's grid costs at the settings where it learns (``cv --settings learning``,
``SETTINGS=learning make paper-tables``): an estimate from measured files, not a run of the grid.

* trainings: the 13 configurations of ``examples/paper-sweep.toml`` on the A.1 stand-in's 4 folds
  and the B.1 stand-in's 5 folds, once per seed;
* one training on 2 CPU cores: the mean training time of the demo recipe's sim seeds
  (``results/demo-seeds.json``, same recipe, same data size);
* a node with N cores: N / 2 trainings at once, each on 2 cores, scaling perfectly (an upper
  bound on the speed: memory bandwidth is shared);
* one GPU: the recipe's images (steps x batch) at the training rate measured on an H100 for
  whole 288 x 512 frames at width 16 (``results/baseline-cuda.json``): crops of 128 x 128 at width
  8 are far cheaper, so this bounds the time from above (start-up and prediction not counted).

Writes ``benchmarks/results/paper-grid-cost.json``.

    python benchmarks/paper_grid_cost.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import tomllib
from machine_info import write_results

from adaptor_baseline.recipes import DEMO_RECIPE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FOLDS = {"A.1": 4, "B.1": 5}  # tools/paper-tables.sh's stand-ins


def main() -> None:
    experiments = tomllib.loads((ROOT / "examples" / "paper-sweep.toml").read_text())["experiment"]
    seeds_doc = json.loads((HERE / "results" / "demo-seeds.json").read_text())
    cuda = json.loads((HERE / "results" / "baseline-cuda.json").read_text())
    per_training = statistics.mean(
        r["train_seconds"] for r in seeds_doc["runs"] if r["domain"] == "sim"
    )
    trainings = len(experiments) * sum(FOLDS.values())
    images = DEMO_RECIPE["epochs"] * DEMO_RECIPE["steps_per_epoch"] * DEMO_RECIPE["batch_size"]
    gpu_rate = next(r["images_per_s"] for r in cuda["train"] if r["batch"] == 8)
    gpu_per_training = images / gpu_rate
    doc = {
        "what": __doc__.split("\n\n")[1].strip(),
        "experiments": len(experiments),
        "folds": FOLDS,
        "trainings_per_seed": trainings,
        "cpu_2_cores": {
            "seconds_per_training": round(per_training, 1),
            "hours_per_seed": round(trainings * per_training / 3600, 2),
            "measured_on": seeds_doc["machine"],
        },  # fmt: skip
        "node_32_cores": {
            "parallel_trainings": 16,
            "hours_per_seed": round(trainings * per_training / 16 / 3600, 2),
        },  # fmt: skip
        "one_gpu_upper_bound": {
            "images_per_training": images,
            "images_per_s": round(gpu_rate, 1),
            "seconds_per_training": round(gpu_per_training, 1),
            "minutes_per_seed": round(trainings * gpu_per_training / 60, 1),
            "measured_on": cuda.get("gpu", "one GPU"),
        },  # fmt: skip
        "machine": seeds_doc["machine"],
    }
    print(json.dumps(doc, indent=2))
    write_results(HERE / "results" / "paper-grid-cost.json", doc)


if __name__ == "__main__":
    main()

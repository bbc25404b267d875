"""End-to-end GPU timing of the paper grid's trainings, for a machine with a CUDA GPU.

docs/sweeps.md's GPU row is an extrapolation from a forward/backward loop on one random tensor.
This script measures instead, end to end (data generated once, then `adaptor-baseline train` as
the grid runs it: data loading, crops, augmentation, targets, the weight average, checkpoints,
the held-out fold predicted and scored; ``cv --job 0``, the first fold, as the grid runs it), on
the A.1 stand-in of the learning grid (4 surgeries of
2 videos x 10 frames, one held out):

* ``authors``: Variant 1 at the authors' settings (whole 288 x 512 frames, batch 1, 30 epochs,
  the authors' network and dropout, plateau schedule, fp32 as they train: ``--no-amp``);
* ``learning-slowest``: the learning grid's slowest configuration, Variant 2 at
  ``--settings learning`` (the demo recipe) with ``--epochs 10``, as the grid now runs it.

Each is timed as a whole process (start-up included). Writes
``benchmarks/results/gpu-grid-fold.json`` with the GPU's name and torch's version; meant to end
well inside 10 minutes on one H100. Not run where no GPU is lent (it says so and exits 2).

    python benchmarks/gpu_grid_fold.py [--out-dir /tmp/gpu-grid]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from machine_info import write_results

RESULTS = Path(__file__).parent / "results" / "gpu-grid-fold.json"
RUNS = {
    "authors": ["--config", "variant1", "--epochs", "30", "--batch-size", "1", "--no-amp"],
    "learning-slowest": ["--config", "variant2", "--settings", "learning", "--epochs", "10"],
}


def main() -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=Path("/tmp/gpu-grid"))
    ap.add_argument("--device", default="cuda", help="cpu: check the command lines here")
    ap.add_argument("extra", nargs="*", help="options added to every run (a CPU check: --epochs 1"
                    " --steps-per-epoch 1)")  # fmt: skip
    args = ap.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark runs where one is lent", file=sys.stderr)
        return 2
    bin_dir = Path(sys.executable).parent
    data = args.out_dir / "A1"
    if not data.exists():
        subprocess.run([bin_dir / "adaptor-baseline", "synth", data, "--domain", "intraop",
                        "--surgeries", "4", "--videos", "2", "--frames", "10", "--seed", "11"],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    rows = {}
    for name, options in RUNS.items():
        out = args.out_dir / name
        t0 = time.perf_counter()
        p = subprocess.run([bin_dir / "adaptor-baseline", "cv", "--data", data, "--out", out,
                            "--job", "0", "--device", args.device, *options, *args.extra],
                           capture_output=True, text=True)  # fmt: skip
        seconds = time.perf_counter() - t0
        scores = sorted(out.rglob("val_score.json"))
        f1 = json.loads(scores[0].read_text())["overall"][0]["f1"] if scores else None
        rows[name] = {"options": options, "seconds": round(seconds, 1), "exit": p.returncode,
                      "heldout_f1_at_6": f1, "log_tail": (p.stdout + p.stderr)[-1500:]}  # fmt: skip
        print(f"{name}: {seconds:.1f} s, exit {p.returncode}, held-out F1@6 {f1}")
    doc = {"what": __doc__.split("\n\n")[0], "runs": rows,
           "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "none",
           "device": args.device, "torch": torch.__version__,
           "measured": time.strftime("%Y-%m-%d")}  # fmt: skip
    if args.device.startswith("cuda"):
        write_results(RESULTS, doc)
        print(f"wrote {RESULTS}")
    return 0 if all(r["exit"] == 0 for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

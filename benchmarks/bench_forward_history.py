"""Where prediction's speed-up went: the network's forward pass, eager and as ``predict`` runs it
(channels-last, frozen TorchScript graph), timed on this machine with this commit's code and
with an earlier commit's (a git worktree), interleaved in rounds so that the machine's drift
between minutes hits both alike.

``predict`` was 1.71 times the bare eager forward when first measured (commit 6299358) and
1.40-1.44 later. If the earlier commit's code gives the same rates here as this commit's, the
change is the machine (the processor, its cache, its neighbours), not the code. Same network
(the authors' U-Net, width 16, variant1 preset), same random input (seeded), 288 x 512, batch 1,
fp32, the threads torch picks.

    python benchmarks/bench_forward_history.py [--old 6299358] [--rounds 4] [--frames 30]

Writes benchmarks/results/forward-history.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine_info import cpu_model, git_commit, write_results

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "forward-history.json"

# Run in a child interpreter with the code under test first on the path.
CHILD = r"""
import json, sys, time, torch
from adaptor_baseline.config import preset
from adaptor_baseline.model import SutureDetector
from adaptor_baseline import inference
rounds, frames = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
model = SutureDetector(preset("variant1").model).eval()
xs = [torch.rand(1, 3, 288, 512) for _ in range(frames)]
frozen = inference.inference_fn(model, torch.device("cpu"), (512, 288))

def rate(f):
    t = time.perf_counter()
    for x in xs:
        f(x)
    return len(xs) / (time.perf_counter() - t)

with torch.inference_mode():
    for x in xs[:4]:
        frozen(x), model(x)
    eager, fast = [], []
    for _ in range(rounds):
        eager.append(rate(lambda x: model(x)["output"]))
        fast.append(rate(frozen))
print(json.dumps({"eager": eager, "frozen_channels_last": fast,
                  "threads": torch.get_num_threads(), "torch": torch.__version__}))
"""


def measure(code_root: Path, rounds: int, frames: int) -> dict:
    paths = [str(code_root / "baseline"), str(code_root / "evaluation")]
    env = {"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(rounds), str(frames)], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    doc["ratio_per_round"] = [f / e for f, e in zip(doc["frozen_channels_last"], doc["eager"])]
    doc["ratio"] = statistics.median(doc["ratio_per_round"])
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", default="6299358", help="the earlier commit (default: where 1.71x was measured)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    root = HERE.parent
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.old], cwd=root,
                       check=True)  # fmt: skip
        try:
            for _ in range(2):  # old, new, old, new: the order cannot favour one
                for label, code in ((args.old, old), (git_commit(), root)):
                    rows.append({"code": label, **measure(code, args.rounds, args.frames)})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=root, check=False)
    summary = {}
    for label in dict.fromkeys(r["code"] for r in rows):
        mine = [r for r in rows if r["code"] == label]
        summary[label] = {
            "eager_frames_per_s": statistics.median(x for r in mine for x in r["eager"]),
            "frozen_frames_per_s": statistics.median(x for r in mine for x in r["frozen_channels_last"]),
            "frozen_vs_eager": statistics.median(x for r in mine for x in r["ratio_per_round"]),
        }  # fmt: skip
    print(f"{'code':10} {'eager f/s':>10} {'frozen f/s':>11} {'frozen/eager':>13}")
    for label, s in summary.items():
        print(f"{label:10} {s['eager_frames_per_s']:10.2f} {s['frozen_frames_per_s']:11.2f}"
              f" {s['frozen_vs_eager']:13.2f}")  # fmt: skip
    write_results(RESULTS, {"what": __doc__, "cpu": cpu_model(), "old": args.old,
                            "summary": summary, "runs": rows})  # fmt: skip


if __name__ == "__main__":
    main()

"""Where prediction's speed-up went: the network's forward pass, eager and as ``predict`` runs it
(channels-last, frozen TorchScript graph), timed on this machine with this commit's code and
with an earlier commit's (a git worktree), in child processes taken in turn (old, new, old,
new), with the page faults each path causes per frame.

``predict`` was 1.71 times the bare eager forward when first measured (commit 6299358) and
1.40-1.44 later, with the network's code unchanged between the two. The page faults say why: the
same code's frozen graph ran with none in one process and thousands per frame in the next
(glibc hands freed activations back to the system or keeps them depending on the process's
allocation history), and a process with faults is the slow one. This commit's ``inference_fn``
fixes the allocator's thresholds (``inference.reuse_freed_memory``), so in its children both
paths run without faults: there "eager" is the eager forward in a process set up as ``predict``
sets it up, not the bare forward of a plain process (``bench_predict.py`` times that one).

An earlier version of this script timed "eager" on the module after ``inference_fn`` had turned
its weights channels-last in place (eager then ran at the frozen graph's speed) and concluded
that the processor, not the code, had changed; that run's file was replaced.

Same network (the authors' U-Net, width 16, variant1 preset), same random input (seeded),
288 x 512, batch 1, fp32, the threads torch picks.

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
import copy, json, resource, sys, time, torch
from adaptor_baseline.config import preset
from adaptor_baseline.model import SutureDetector
from adaptor_baseline import inference
rounds, frames = int(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
model = SutureDetector(preset("variant1").model).eval()
xs = [torch.rand(1, 3, 288, 512) for _ in range(frames)]
# a copy: inference_fn once turned the module it was given channels-last in place, and "eager"
# then timed channels-last weights (12.1 frames/s against 8.6 for the untouched module)
frozen = inference.inference_fn(copy.deepcopy(model), torch.device("cpu"), (512, 288))
assert all(p.is_contiguous() for p in model.parameters())  # eager is the bare module

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def rate(f, seen):
    f0, t = faults(), time.perf_counter()
    for x in xs:
        f(x)
    took = time.perf_counter() - t
    seen.append((faults() - f0) / len(xs))
    return len(xs) / took

with torch.inference_mode():
    for x in xs[:4]:
        frozen(x), model(x)
    eager, fast, eager_faults, fast_faults = [], [], [], []
    for _ in range(rounds):
        eager.append(rate(lambda x: model(x)["output"], eager_faults))
        fast.append(rate(frozen, fast_faults))
print(json.dumps({"eager": eager, "frozen_channels_last": fast, "eager_page_faults_per_frame":
                  eager_faults, "frozen_page_faults_per_frame": fast_faults,
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
            "frozen_page_faults_per_frame": [statistics.median(r["frozen_page_faults_per_frame"])
                                             for r in mine],
            "frozen_frames_per_s_per_process": [statistics.median(r["frozen_channels_last"])
                                                for r in mine],
        }  # fmt: skip
    print(f"{'code':10} {'eager f/s':>10} {'frozen f/s':>11} {'frozen/eager':>13}"
          "  frozen f/s and faults/frame per process")  # fmt: skip
    for label, s in summary.items():
        each = ", ".join(f"{r:.2f} ({f:.0f})" for r, f in zip(
            s["frozen_frames_per_s_per_process"], s["frozen_page_faults_per_frame"]))  # fmt: skip
        print(f"{label:10} {s['eager_frames_per_s']:10.2f} {s['frozen_frames_per_s']:11.2f}"
              f" {s['frozen_vs_eager']:13.2f}  {each}")  # fmt: skip
    write_results(RESULTS, {"what": __doc__, "cpu": cpu_model(), "old": args.old,
                            "summary": summary, "runs": rows})  # fmt: skip


if __name__ == "__main__":
    main()

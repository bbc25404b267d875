"""Where the time of one ``adaptor-score score`` run goes: the stages of the command, and the
helper process's start and end, on one time line (wall clock, seconds from the start of the
interpreter's work here).

The command runs in this process, unchanged, with its stages wrapped by timers (functions are
replaced by timed wrappers before the command starts; nothing else differs from a normal run).
Run it on the frames of ``bench_scoring.py`` to see the floor behind its ratio:

    python benchmarks/bench_scoring.py --data /tmp/frames    # makes the frames once
    python benchmarks/profile_scoring.py /tmp/frames --runs 5

Prints each run's time line and the median of each stage; writes
``benchmarks/results/scoring-profile.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_info import write_results

HERE = Path(__file__).resolve().parent

CHILD = r"""
import time
T0 = time.time()
import contextlib, io, json, sys
import adaptor_score.cli as cli
marks = [("imports (click, rich, msgspec, our modules)", time.time())]
import adaptor_score.filereader as filereader
import adaptor_score.readhelper as readhelper

def mark(name):
    marks.append((name, time.time()))

def wrap(owner, attr, before=None, after=None, then=None):
    original = getattr(owner, attr)
    def timed(*a, **k):
        if before:
            mark(before)
        result = original(*a, **k)
        if after:
            mark(after)
        if then:
            then()
        return result
    setattr(owner, attr, timed)

def wrap_scoring():  # once the command has imported it, as it does after reading
    import adaptor_score.scoring as scoring
    wrap(scoring, "score_predictions", before="assemble the ground truth", after="match and count")
    wrap(scoring.ScoreReport, "write_json", before="print the tables", after="write the JSON report")

stamp = sys.argv[1] + ".helper"
readhelper._HELPER_MAIN = (
    "import time; t0 = time.time(); import sys; sys.path.insert(0, {!r}); "
    "from adaptor_score.readhelper import _serve; t1 = time.time(); code = _serve(); "
    "open(%r, 'w').write(repr((t0, t1, time.time()))); sys.exit(code)" % stamp
)
wrap(filereader, "claim_tree", before="parse the options, list the labels, start the helper",
     after="walk and read the prediction files, shared (numpy imported)")
wrap(filereader, "read_inputs", then=wrap_scoring)
wrap(readhelper.ReadHelper, "labels", before="import numpy's users, settle the predictions",
     after="wait for the labels (or share them)")
sys.argv = ["adaptor-score", "score", sys.argv[2], sys.argv[3], "--radius", "6", "--radius", "8",
            "--radius", "10", "--json", sys.argv[1]]
try:
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main()
except SystemExit:
    pass
mark("leave the command")
try:
    t0, t1, t2 = eval(open(stamp).read(), {})
    helper = {"started": t0 - T0, "imported": t1 - T0, "finished": t2 - T0}
except (OSError, SyntaxError):
    helper = None
print(json.dumps({"stages": [(n, t - T0) for n, t in marks], "helper": helper}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path, help="a folder with gt/ and pred/ (bench_scoring.py --data)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    gt, pred = args.data / "gt", args.data / "pred"
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        report = str(Path(tmp) / "s.json")
        for _ in range(args.runs):
            t = time.time()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, report, str(gt), str(pred)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            run = json.loads(out)
            run["process_s"] = time.time() - t
            runs.append(run)
    names = [n for n, _ in runs[0]["stages"]]
    durations = {n: [] for n in names}
    for run in runs:
        previous = 0.0
        for n, at in run["stages"]:
            durations[n].append(at - previous)
            previous = at
    summary = {n: statistics.median(v) for n, v in durations.items()}
    helper = [r["helper"] for r in runs if r["helper"]]
    result = {
        "runs": args.runs,
        "median_stage_s": summary,
        "median_process_s": statistics.median(r["process_s"] for r in runs),
        "median_helper": {
            k: statistics.median(h[k] for h in helper) for k in ("started", "imported", "finished")
        }
        if helper
        else None,
        "timelines": runs,
        "machine": f"{os.cpu_count()} cores",
    }
    print(f"{'stage (median of ' + str(args.runs) + ' runs)':<56}{'s':>8}")
    print("-" * 64)
    for n, s in summary.items():
        print(f"{n:<56}{s:>8.3f}")
    print(
        f"{'whole process (interpreter start and exit included)':<56}"
        f"{result['median_process_s']:>8.3f}"
    )
    if result["median_helper"]:
        h = result["median_helper"]
        print(
            f"helper process: started at {h['started']:.3f}, imported at {h['imported']:.3f},"
            f" finished at {h['finished']:.3f} (s after this process's start)"
        )
    out = HERE / "results" / "scoring-profile.json"
    write_results(out, result)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

"""How long ``publish`` takes: every analysis (the table's bootstrap, challengeR's four schemes at
the unit of analysis and per frame, each with its bootstrap, at 6/8/10 px), the figures and the
files, on two boards:

* 6 teams x 100 frames x 500 replicates, the board on which issue 35's author timed challengeR
  1.0.5 (24.6 s; R is not installed here, so that figure is quoted, not re-measured);
* 8 teams x 1,000 frames x 1,000 replicates (the default), the target: under 10 s on 2 cores.

Ground truth and outputs are label files only (no images: scoring reads none), 8 labels per
frame, teams perturbed with a seeded jitter, misses and false positives; the frames are spread
over 10 surgeries of 2 videos. The time is the median of ``--repeat`` runs of
``build_board`` + ``publish`` in this process (the ledger already scored).

    python benchmarks/bench_publish.py     # prints a table, writes results/publish.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from machine_info import cores, cpu_model, write_results

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.runner import score_into_ledger

RESULTS = Path(__file__).parent / "results" / "publish.json"
CHALLENGER_SECONDS = 24.6  # issue 35: challengeR 1.0.5 on 6 teams x 100 frames x 500 replicates
BOARDS = ({"teams": 6, "frames": 100, "replicates": 500},
          {"teams": 8, "frames": 1000, "replicates": 1000})  # fmt: skip


def machine() -> dict:
    return {"cpu": cpu_model(), "cores": cores(), "numpy": np.__version__}


def _write(path: Path, points) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"points": [{"x": float(x), "y": float(y)} for x, y in points],
                                "imageWidth": 512, "imageHeight": 288}))  # fmt: skip


def make_board(root: Path, teams: int, frames: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    per_video = max(1, frames // 20)
    keys = [(f"s{s:02d}", f"v{v}", f"{i:06d}") for s in range(10) for v in range(2)
            for i in range(per_video)][:frames]  # fmt: skip
    labels = {k: rng.uniform([20, 20], [490, 270], size=(8, 2)).round() for k in keys}
    for k, pts in labels.items():
        _write(root / "gt" / k[0] / k[1] / "point_labels" / f"{k[2]}.json", pts)
    ledger_path = root / "ledger.sqlite"
    with Ledger(ledger_path) as ledger:
        for t in range(teams):
            skill = 0.9 - 0.08 * t
            out = root / f"team{t}"
            for k, pts in labels.items():
                keep = pts[rng.random(len(pts)) < skill] + rng.normal(0, 1 + t, size=(1, 2))
                fps = rng.uniform([0, 0], [512, 288], size=(int(rng.integers(0, 2 + t)), 2))
                _write(out / k[0] / k[1] / f"{k[2]}.json", np.vstack([keep, fps]))
            sid = ledger.add_submission(f"team {t}", "test", "I")
            score_into_ledger(ledger, sid, out, root / "gt")
    return ledger_path


def time_publish(ledger_path: Path, replicates: int, out: Path, repeat: int):
    """``(total, analyses)`` seconds per run: the whole, and ``build_board`` alone (every
    analysis and bootstrap; the rest is the figures and the files)."""
    times, analyses = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with Ledger(ledger_path, readonly=True) as ledger:
            board = build_board(ledger, PhaseRules("test"), replicates, seed=0)
        analyses.append(time.perf_counter() - t0)
        publish(board, out)
        times.append(time.perf_counter() - t0)
    return times, analyses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, b in enumerate(BOARDS):
            root = Path(tmp) / str(i)
            ledger = make_board(root, b["teams"], b["frames"])
            times, analyses = time_publish(ledger, b["replicates"], root / "site", args.repeat)
            row = {**b, "seconds": [round(t, 3) for t in times],
                   "median_seconds": round(statistics.median(times), 3),
                   "analyses_median_seconds": round(statistics.median(analyses), 3)}  # fmt: skip
            if b["teams"] == 6:
                row["challenger_seconds"] = CHALLENGER_SECONDS
                row["times_faster_than_challenger"] = round(CHALLENGER_SECONDS / row["median_seconds"], 1)
            rows.append(row)
            print(f"{b['teams']} teams x {b['frames']} frames x {b['replicates']} replicates:"
                  f" median {row['median_seconds']:.2f} s of {args.repeat}, analyses"
                  f" {row['analyses_median_seconds']:.2f} s"
                  + (f" ({row['times_faster_than_challenger']}x challengeR's"
                     f" {CHALLENGER_SECONDS} s)" if "challenger_seconds" in row else ""))  # fmt: skip
    write_results(RESULTS, {"what": __doc__, "boards": rows, "machine": machine()})


if __name__ == "__main__":
    main()

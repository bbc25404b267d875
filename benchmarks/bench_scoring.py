"""Scoring speed: ``adaptor-score score`` at 6/8/10 px against merely parsing the same JSON files
with the standard library, both as fresh processes; in-memory matching rate; dense frames.

Usage: python benchmarks/bench_scoring.py [--frames 20000] [--repeats 3]
Writes benchmarks/results/scoring.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

PARSE_ONLY = r"""
import json, os, sys
n = 0
for root in sys.argv[1:]:
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".json"):
                with open(os.path.join(dirpath, f)) as fh:
                    n += len(json.load(fh)["points"])
print(n)
"""


def make_data(root: Path, n_frames: int, seed: int = 0) -> None:
    """Realistic counts: labels 0-30 per frame (mean ~12.5 like the training sets), predictions
    = labels jittered by ~3 px, ~25 % missed, ~3 false positives per frame."""
    rng = np.random.default_rng(seed)
    per_video = 100
    for i in range(n_frames):
        folder, video, frame = (
            f"surgery{i // 2000:02d}",
            f"video{(i // per_video) % 20:02d}",
            f"{i % per_video:06d}",
        )
        n = int(np.clip(rng.normal(12.5, 6), 0, 30))
        labels = np.column_stack([rng.uniform(0, 512, n), rng.uniform(0, 288, n)])
        keep = rng.random(n) > 0.25
        preds = labels[keep] + rng.normal(0, 3, (keep.sum(), 2))
        fps = rng.poisson(3)
        preds = np.vstack(
            [preds, np.column_stack([rng.uniform(0, 512, fps), rng.uniform(0, 288, fps)])]
        )
        gdir = root / "gt" / folder / video / "point_labels"
        pdir = root / "pred" / folder / video
        gdir.mkdir(parents=True, exist_ok=True)
        pdir.mkdir(parents=True, exist_ok=True)
        (gdir / f"{frame}.json").write_text(
            json.dumps(
                {
                    "points": [{"x": round(x, 2), "y": round(y, 2)} for x, y in labels],
                    "imageWidth": 512,
                    "imageHeight": 288,
                }
            )
        )
        (pdir / f"{frame}.json").write_text(
            json.dumps(
                {
                    "folderName": folder,
                    "subfolderName": video,
                    "imageFileName": f"{frame}.png",
                    "points": [{"x": round(x, 2), "y": round(y, 2)} for x, y in preds],
                }
            )
        )


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from adaptor_score.metrics import score_frames

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_data(root, args.frames)
        gen_s = time.perf_counter() - t0
        gt, pred = root / "gt", root / "pred"
        score_bin = str(Path(sys.executable).parent / "adaptor-score")
        parse_cmd = [sys.executable, "-c", PARSE_ONLY, str(gt), str(pred)]
        score_cmd = [
            score_bin,
            "score",
            str(gt),
            str(pred),
            "--radius",
            "6",
            "--radius",
            "8",
            "--radius",
            "10",
            "--json",
            str(root / "s.json"),
        ]
        timed(parse_cmd)  # warm the page cache for both
        parse_t, score_t = [], []
        for _ in range(args.repeats):
            parse_t.append(timed(parse_cmd))
            score_t.append(timed(score_cmd))

        from adaptor_score.groundtruth import load_ground_truth
        from adaptor_score.predictions import load_predictions

        g = load_ground_truth(gt)
        p = load_predictions(pred, g.keys)
        preds = [p.get(k) for k in g.keys]
        labels = [g.points[k] for k in g.keys]
        t = time.perf_counter()
        score_frames(preds, labels, (6, 8, 10))
        match_s = time.perf_counter() - t
        n_points = sum(len(x) for x in labels) + sum(len(x) for x in preds)

    rng = np.random.default_rng(1)
    dense = {}
    for n_pred, n_label in ((2000, 30), (2000, 2000)):
        pp = [rng.uniform(0, [512, 288], (n_pred, 2))]
        ll = [rng.uniform(0, [512, 288], (n_label, 2))]
        t = time.perf_counter()
        score_frames(pp, ll, (6, 8, 10))
        dense[f"{n_pred}x{n_label}"] = time.perf_counter() - t

    parse_med, score_med = statistics.median(parse_t), statistics.median(score_t)
    result = {
        "frames": args.frames,
        "points": n_points,
        "files": 2 * args.frames,
        "parse_only_s": parse_med,
        "score_6_8_10_s": score_med,
        "ratio": score_med / parse_med,
        "target_ratio": 1.5,
        "in_memory_frames_per_s": args.frames / match_s,
        "dense_s": dense,
        "data_generation_s": gen_s,
        "repeats": args.repeats,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    out = HERE / "results" / "scoring.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    print(f"{'measure':<48}{'value':>14}")
    print("-" * 62)
    print(f"{'frames / JSON files':<48}{args.frames:>8} / {2 * args.frames}")
    print(f"{'stdlib parse only, fresh process (median s)':<48}{parse_med:>14.3f}")
    print(f"{'adaptor-score score 6/8/10 px (median s)':<48}{score_med:>14.3f}")
    print(f"{'ratio (target <= 1.5)':<48}{score_med / parse_med:>14.2f}")
    print(f"{'in-memory matching, 3 radii (frames/s)':<48}{args.frames / match_s:>14,.0f}")
    for k, v in dense.items():
        print(f"{'dense frame ' + k + ' preds x labels (s)':<48}{v:>14.4f}")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()

"""Scoring speed: ``adaptor-score score`` at 6/8/10 px against merely parsing the same JSON files
with the standard library, and against the published scoring script's algorithm at 6 px.

Every timing is a whole fresh process, as a user runs it (interpreter start, imports, reading,
scoring, writing the JSON report). Parse and score are timed in pairs, run back to back in
alternating order so that both see the same machine state; the ratio of each pair is reported
as its median and spread, because a shared 2-core machine drifts by 20 % between minutes.

The published script's algorithm (:mod:`adaptor_score.published`, its matching loop literally,
with each prediction paired to its label file by path; the script itself walks the whole label
tree for every prediction file, which would be quadratic) runs once on the same frames, and its
true positives must equal ours.

Usage: python benchmarks/bench_scoring.py [--frames 20000] [--pairs 11] [--data DIR]
Writes benchmarks/results/scoring.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from machine_info import write_results

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

PUBLISHED = r"""
import json, os, sys
from adaptor_score.published import published_scan
gt, pred, r = sys.argv[1], sys.argv[2], float(sys.argv[3])
tp = fp = fn = 0
for dirpath, _, files in os.walk(gt):
    for f in files:
        if not f.endswith(".json"):
            continue
        with open(os.path.join(dirpath, f)) as fh:
            labels = [(p["x"], p["y"]) for p in json.load(fh)["points"]]
        video_dir = os.path.dirname(dirpath)
        rel = os.path.relpath(video_dir, gt)
        with open(os.path.join(pred, rel, f)) as fh:
            preds = [(p["x"], p["y"]) for p in json.load(fh)["points"]]
        k = len(published_scan(preds, labels, r))
        tp, fp, fn = tp + k, fp + len(preds) - k, fn + len(labels) - k
print(json.dumps({"tp": tp, "fp": fp, "fn": fn}))
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


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
    return time.perf_counter() - t, out


def spread(values: list[float]) -> dict:
    q = np.quantile(values, [0.0, 0.25, 0.5, 0.75, 1.0])
    return dict(zip(("min", "q1", "median", "q3", "max"), (float(v) for v in q)))


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(root: Path, pairs: int, single: int, published: bool) -> dict:
    gt, pred = root / "gt", root / "pred"
    score_bin = str(Path(sys.executable).parent / "adaptor-score")
    parse_cmd = [sys.executable, "-c", PARSE_ONLY, str(gt), str(pred)]
    report = root / "s.json"
    score_cmd = [score_bin, "score", str(gt), str(pred)]
    score_cmd += ["--radius", "6", "--radius", "8", "--radius", "10", "--json", str(report)]
    timed(parse_cmd)  # warm the page cache for both
    parse_t, score_t = [], []
    for k in range(pairs):
        first, second = (parse_cmd, score_cmd) if k % 2 == 0 else (score_cmd, parse_cmd)
        a, _ = timed(first)
        b, _ = timed(second)
        parse_t.append(a if first is parse_cmd else b)
        score_t.append(b if first is parse_cmd else a)
    score_peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ratios = [s / p for s, p in zip(score_t, parse_t)]
    one_core = dict(os.environ, ADAPTOR_SCORE_WORKERS="1")
    single_t = [timed(score_cmd, one_core)[0] for _ in range(single)]
    ours = json.loads(report.read_text())["overall"][0]
    result = {
        "parse_only_s": spread(parse_t),
        "score_6_8_10_s": spread(score_t),
        "ratio": spread(ratios),
        "pairs": pairs,
        "score_one_process_s": spread(single_t) if single_t else None,
        "peak_rss_mib_max_of_children": round(score_peak_kib / 1024, 1),
        "tp_fp_fn_6px": [ours["tp"], ours["fp"], ours["fn"]],
    }
    if published:
        pub_s, out = timed([sys.executable, "-c", PUBLISHED, str(gt), str(pred), "6"])
        counts = json.loads(out)
        result["published_algorithm_6px_s"] = pub_s
        result["published_ratio_to_parse"] = pub_s / statistics.median(parse_t)
        result["published_tp_fp_fn_6px"] = [counts["tp"], counts["fp"], counts["fn"]]
        result["published_counts_equal_ours"] = (
            result["published_tp_fp_fn_6px"] == (result["tp_fp_fn_6px"])
        )
    return result


def in_memory(root: Path, n_frames: int) -> dict:
    from adaptor_score.groundtruth import load_ground_truth
    from adaptor_score.metrics import score_frames
    from adaptor_score.predictions import load_predictions

    g = load_ground_truth(root / "gt")
    p = load_predictions(root / "pred", g.keys)
    preds = [p.get(k) for k in g.keys]
    labels = [g.points[k] for k in g.keys]
    t = time.perf_counter()
    score_frames(preds, labels, (6, 8, 10))
    match_s = time.perf_counter() - t
    rng = np.random.default_rng(1)
    dense = {}
    for n_pred, n_label in ((2000, 30), (2000, 2000)):
        pp = [rng.uniform(0, [512, 288], (n_pred, 2))]
        ll = [rng.uniform(0, [512, 288], (n_label, 2))]
        t = time.perf_counter()
        score_frames(pp, ll, (6, 8, 10))
        dense[f"{n_pred}x{n_label}"] = time.perf_counter() - t
    points = sum(len(x) for x in labels) + sum(len(x) for x in preds)
    return {"points": points, "in_memory_frames_per_s": n_frames / match_s, "dense_s": dense}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--pairs", type=int, default=11)
    ap.add_argument("--single", type=int, default=3, help="one-process runs (helper off)")
    ap.add_argument("--no-published", action="store_true")
    ap.add_argument("--data", type=Path, help="reuse (or create) the frames in this folder")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.data or Path(tmp)
        gen_s = 0.0
        if not (root / "gt").is_dir():
            t0 = time.perf_counter()
            make_data(root, args.frames)
            gen_s = time.perf_counter() - t0
        timing = measure(root, args.pairs, args.single, not args.no_published)
        memory = in_memory(root, args.frames)

    result = {
        "when": date.today().isoformat(),
        "commit": commit(),
        "frames": args.frames,
        "files": 2 * args.frames,
        **memory,
        **timing,
        "target_ratio": 1.0,
        "data_generation_s": gen_s,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    out = HERE / "results" / "scoring.json"
    out.parent.mkdir(exist_ok=True)
    write_results(out, result)

    r, p, s = result["ratio"], result["parse_only_s"], result["score_6_8_10_s"]
    print(
        f"{'measure (whole processes, ' + str(args.pairs) + ' pairs)':<52}{'median':>9}"
        f"{'q1':>8}{'q3':>8}{'min':>8}{'max':>8}"
    )
    print("-" * 93)
    for name, v in (
        ("stdlib parse only (s)", p),
        ("adaptor-score score 6/8/10 px (s)", s),
        ("ratio score / parse (target <= 1.0)", r),
    ):
        print(
            f"{name:<52}{v['median']:>9.3f}{v['q1']:>8.3f}{v['q3']:>8.3f}{v['min']:>8.3f}"
            f"{v['max']:>8.3f}"
        )
    if result["score_one_process_s"]:
        print(
            f"{'score in one process (ADAPTOR_SCORE_WORKERS=1, s)':<52}"
            f"{result['score_one_process_s']['median']:>9.3f}"
        )
    if "published_algorithm_6px_s" in result:
        print(
            f"{'published algorithm at 6 px (one run, s)':<52}"
            f"{result['published_algorithm_6px_s']:>9.3f}"
        )
        print(f"{'  ratio to parse':<52}{result['published_ratio_to_parse']:>9.2f}")
        print(
            f"{'  its TP/FP/FN equal ours at 6 px':<52}"
            f"{str(result['published_counts_equal_ours']):>9}"
        )
    print(
        f"{'frames / JSON files / points':<52}{args.frames} / {2 * args.frames} / "
        f"{result['points']}"
    )
    print(
        f"{'in-memory matching, 3 radii (frames/s)':<52}{result['in_memory_frames_per_s']:>9,.0f}"
    )
    for k, v in result["dense_s"].items():
        print(f"{'dense frame ' + k + ' preds x labels (s)':<52}{v:>9.4f}")
    print(f"\nwrote {out}")
    if not result.get("published_counts_equal_ours", True):
        sys.exit("the published algorithm's counts differ from ours")


if __name__ == "__main__":
    main()

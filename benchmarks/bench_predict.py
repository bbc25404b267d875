"""`adaptor-baseline predict` end to end against the bare eager fp32 forward pass of the same
network (the authors' U-Net, width 16, 288 x 512, batch 1).

* bare forward: the frames already decoded into tensors in memory, ``model(x)`` alone, eager fp32,
  contiguous memory, in a plain Python process of its own (the C allocator as it comes): frames/s.
  The same eager forward in this process, after ``predict`` has set the allocator up
  (``inference.reuse_freed_memory``), is reported beside it, so that what the allocator alone
  gives is visible.
* predict: ``predict_records`` on the PNG files, as ``adaptor-baseline predict`` runs it by
  default (reading, the network set up by ``adaptor_baseline.inference``, decoding, writing one
  JSON per frame). Two figures: the raw rate of one run over n frames (set-up included: freezing
  the graph, starting the loader process), and the rate with start-up cancelled, n / (T(2n) -
  T(n)) from a run over n and one over 2n frames. Loading the weights is in neither.
* The same prediction with the plain eager module (no channels-last, no freezing): its JSON
  files must be byte-identical to the default run's ("same points").

Every mode also reports the page faults per frame it caused (``ru_minflt``): a freed
activation handed back to the system is a page fault per 4 KB when the next frame needs it.

The model is trained for a few steps first so that its output has peaks to decode.
Usage: python benchmarks/bench_predict.py [--frames 60] [--repeats 3] [--compile]
Writes benchmarks/results/predict-cpu.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from machine_info import cpu_model, write_results
from rich.console import Console

from adaptor_baseline.checkpoints import load_model
from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.data.dataset import AdaptorFrames
from adaptor_baseline.data.layout import index_dataset
from adaptor_baseline.predict import predict_records
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.train import train

HERE = Path(__file__).resolve().parent


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def bare_forward(model, frames: list[torch.Tensor]) -> tuple[float, float]:
    """Frames/s of ``model(x)`` over ``frames``, and page faults per frame."""
    model = model.eval()
    with torch.inference_mode():
        for x in frames[:3]:
            model(x)
        f0, t0 = faults(), time.perf_counter()
        for x in frames:
            model(x)["output"].float()
        return len(frames) / (time.perf_counter() - t0), (faults() - f0) / len(frames)


# The bare forward in a process of its own: nothing of predict's set-up has touched it.
PLAIN = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_predict import bare_forward
from adaptor_baseline.checkpoints import load_model
from adaptor_baseline.data.dataset import AdaptorFrames
model, cfg = load_model(Path(sys.argv[1]), "cpu")
records = json.loads(sys.argv[2])
from adaptor_baseline.data.layout import index_dataset
keep = set(records)
recs = [r for r in index_dataset(Path(sys.argv[1]).parent / "frames") if str(r.key) in keep]
ds = AdaptorFrames(recs, cfg.input_size)
frames = [ds[i]["image"][None].float() / 255 for i in range(len(ds))]
print(json.dumps(bare_forward(model, frames)))
"""


def plain_bare_forward(run: Path, records) -> tuple[float, float]:
    keys = json.dumps([str(r.key) for r in records])
    out = subprocess.run([sys.executable, "-c", PLAIN, str(run), keys, str(HERE)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    rate, per_frame = json.loads(out.stdout.strip().splitlines()[-1])
    return rate, per_frame


def point_differences(mine: dict[str, bytes], reference: dict[str, bytes]) -> dict:
    """How far two runs' JSON files are apart: files whose bytes differ, files with another
    number of points, and the largest coordinate difference among the rest (px)."""
    differ = counts = 0
    largest = 0.0
    for name, data in reference.items():
        if mine.get(name) == data:
            continue
        differ += 1
        a = json.loads(mine[name])["points"] if name in mine else []
        b = json.loads(data)["points"]
        if len(a) != len(b):
            counts += 1
            continue
        for p, q in zip(a, b):
            largest = max(largest, abs(p["x"] - q["x"]), abs(p["y"] - q["y"]))
    return {"files": len(reference), "files_differing": differ,
            "files_with_other_point_counts": counts,
            "max_coordinate_difference_px": round(largest, 6)}  # fmt: skip


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (slow start)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    generate_dataset(work / "train", "sim", surgeries=2, videos=1, frames=6, seed=0, workers=1)
    per = max(1, args.frames // 3)  # 2n frames: 3 surgeries x 2 videos x per
    generate_dataset(work / "frames", "sim", surgeries=3, videos=2, frames=per, seed=1, workers=1)
    cfg = with_overrides(
        preset("variant1"),
        **{"target.sigma1": 1.0, "model.head_prior": -4.0, "epochs": 3, "steps_per_epoch": 20,
           "batch_size": 4, "crop": (128, 128)},
    )  # fmt: skip
    train(cfg, work / "train", work / "run", console=Console(quiet=True))
    model, cfg = load_model(work / "run", "cpu")
    both = index_dataset(work / "frames")
    records = both[: len(both) // 2]  # n frames; all of them (2n) cancel the start-up
    ds = AdaptorFrames(records, cfg.input_size)
    frames = [ds[i]["image"][None].float() / 255 for i in range(len(ds))]

    runs = {
        "predict, default (channels-last + frozen graph)": {},
        "predict, plain eager module": {"channels_last": False, "freeze": False},
    }
    if args.compile:
        runs["predict, torch.compile + channels-last"] = {"compile": True}
    # This machine's speed drifts by 20 % between minutes: every repeat measures everything once,
    # interleaved, and each figure is the median over the repeats.
    samples: dict[str, list] = {"bare": [], "here": [], **{name: [] for name in runs}}
    fault_samples: dict[str, list] = {k: [] for k in samples}
    outputs, points = {}, {}
    for rep in range(args.repeats):
        rate, per_frame = plain_bare_forward(work / "run", records)
        samples["bare"].append(rate)
        fault_samples["bare"].append(per_frame)
        for name, kw in runs.items():
            out = work / f"r{rep}" / name.split(",")[1].strip().split(" ")[0]
            timed = {}
            for label, recs in (("n", records), ("2n", both)):
                f0, t0 = faults(), time.perf_counter()
                s = predict_records(model, cfg, recs, work / "frames", out / label, "cpu", **kw)
                timed[label] = time.perf_counter() - t0
                if label == "2n":
                    fault_samples[name].append((faults() - f0) / len(recs))
            outputs[name], points[name] = files_of(out / "2n"), s["points"]
            samples[name].append(
                (len(records) / (timed["2n"] - timed["n"]), len(records) / timed["n"])
            )
        rate, per_frame = bare_forward(model, frames)  # after predict's set-up, in this process
        samples["here"].append(rate)
        fault_samples["here"].append(per_frame)
    bare = statistics.median(samples["bare"])
    rows = [{"mode": "bare eager fp32 forward (tensors in memory, a plain process)",
             "frames_per_s": bare, "samples": samples["bare"]},
            {"mode": "the same eager forward in predict's process (allocator set up)",
             "frames_per_s": statistics.median(samples["here"]), "samples": samples["here"]}]  # fmt: skip
    for name in runs:
        steady = [a for a, _ in samples[name]]
        raw = [b for _, b in samples[name]]
        rows.append(
            {"mode": name, "frames_per_s": statistics.median(steady),
             "raw_frames_per_s": statistics.median(raw), "points": points[name],
             "samples_steady": steady, "samples_raw": raw}
        )  # fmt: skip
    reference = outputs["predict, plain eager module"]
    for r, key in zip(rows, ["bare", "here", *runs]):
        r["page_faults_per_frame"] = statistics.median(fault_samples[key])
        r["page_faults_per_frame_samples"] = fault_samples[key]
    for r in rows[2:]:
        r["same_points_as_eager"] = outputs[r["mode"]] == reference
        r.update(point_differences(outputs[r["mode"]], reference))
    for r in rows:
        # each repeat's rate against the bare forward of the same repeat, then the median: the
        # machine's drift between minutes cancels within a repeat, not between medians
        own = r["samples_steady"] if "samples_steady" in r else r["samples"]
        r["paired_ratios"] = [a / b for a, b in zip(own, samples["bare"])]
        r["vs_bare_forward"] = statistics.median(r["paired_ratios"])
        if "samples_raw" in r:
            r["raw_vs_bare_forward"] = statistics.median(
                [a / b for a, b in zip(r["samples_raw"], samples["bare"])])
    print(
        f"n = {len(records)} frames (start-up cancelled with 2n = {len(both)}), 288 x 512,"
        f" {torch.get_num_threads()} threads, {platform.machine()}"
    )
    print(f"{'mode':64} {'frames/s':>9} {'x bare':>7} {'raw f/s':>8} {'x bare':>7}"
          f" {'faults/frame':>12} {'same pts':>9}")  # fmt: skip
    for r in rows:
        same = "" if "same_points_as_eager" not in r else str(r["same_points_as_eager"])
        raw = r.get("raw_frames_per_s")
        raw_txt = f"{raw:8.2f} {r['raw_vs_bare_forward']:7.2f}" if raw else f"{'':8} {'':7}"
        print(f"{r['mode']:64} {r['frames_per_s']:9.2f} {r['vs_bare_forward']:7.2f} {raw_txt}"
              f" {r['page_faults_per_frame']:12.0f} {same:>9}")  # fmt: skip
    write_results(HERE / "results" / "predict-cpu.json",
                  {"when": time.strftime("%Y-%m-%d"), "frames": len(records),
                   "threads": torch.get_num_threads(), "machine": platform.machine(),
                   "cpu": cpu_model(), "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()

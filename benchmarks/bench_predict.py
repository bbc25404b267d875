"""`adaptor-baseline predict` end to end against the bare eager fp32 forward pass of the same
network (the authors' U-Net, width 16, 288 x 512, batch 1).

* bare forward: the frames already decoded into tensors in memory, ``model(x)`` alone, eager fp32,
  contiguous memory: frames/s.
* predict: ``predict_records`` on the PNG files, as ``adaptor-baseline predict`` runs it by
  default (reading, the network set up by ``adaptor_baseline.inference``, decoding, writing one
  JSON per frame). Two figures: the raw rate of one run over n frames (set-up included: freezing
  the graph, starting the loader process), and the rate with start-up cancelled, n / (T(2n) -
  T(n)) from a run over n and one over 2n frames. Loading the weights is in neither.
* The same prediction with the plain eager module (no channels-last, no freezing): its JSON
  files must be byte-identical to the default run's ("same points").

The model is trained for a few steps first so that its output has peaks to decode.
Usage: python benchmarks/bench_predict.py [--frames 60] [--repeats 3] [--compile]
Writes benchmarks/results/predict-cpu.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
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


def bare_forward(model, frames: list[torch.Tensor]) -> float:
    model = model.eval()
    with torch.inference_mode():
        for x in frames[:3]:
            model(x)
        t0 = time.perf_counter()
        for x in frames:
            model(x)["output"].float()
        return len(frames) / (time.perf_counter() - t0)


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
    samples: dict[str, list] = {"bare": [], **{name: [] for name in runs}}
    outputs, points = {}, {}
    for rep in range(args.repeats):
        samples["bare"].append(bare_forward(model, frames))
        for name, kw in runs.items():
            out = work / f"r{rep}" / name.split(",")[1].strip().split(" ")[0]
            timed = {}
            for label, recs in (("n", records), ("2n", both)):
                t0 = time.perf_counter()
                s = predict_records(model, cfg, recs, work / "frames", out / label, "cpu", **kw)
                timed[label] = time.perf_counter() - t0
            outputs[name], points[name] = files_of(out / "2n"), s["points"]
            samples[name].append(
                (len(records) / (timed["2n"] - timed["n"]), len(records) / timed["n"])
            )
    bare = statistics.median(samples["bare"])
    rows = [{"mode": "bare eager fp32 forward (tensors in memory)", "frames_per_s": bare,
             "samples": samples["bare"]}]  # fmt: skip
    for name in runs:
        steady = [a for a, _ in samples[name]]
        raw = [b for _, b in samples[name]]
        rows.append(
            {"mode": name, "frames_per_s": statistics.median(steady),
             "raw_frames_per_s": statistics.median(raw), "points": points[name],
             "samples_steady": steady, "samples_raw": raw}
        )  # fmt: skip
    reference = outputs["predict, plain eager module"]
    for r in rows[1:]:
        r["same_points_as_eager"] = outputs[r["mode"]] == reference
        r.update(point_differences(outputs[r["mode"]], reference))
    for r in rows:
        # each repeat's rate against the bare forward of the same repeat, then the median: the
        # machine's drift between minutes cancels within a repeat, not between medians
        if "samples_steady" in r:
            r["paired_ratios"] = [a / b for a, b in zip(r["samples_steady"], samples["bare"])]
            r["vs_bare_forward"] = statistics.median(r["paired_ratios"])
            r["raw_vs_bare_forward"] = statistics.median(
                [a / b for a, b in zip(r["samples_raw"], samples["bare"])])
        else:
            r["vs_bare_forward"] = 1.0
    print(
        f"n = {len(records)} frames (start-up cancelled with 2n = {len(both)}), 288 x 512,"
        f" {torch.get_num_threads()} threads, {platform.machine()}"
    )
    print(f"{'mode':48} {'frames/s':>9} {'x bare':>7} {'raw f/s':>8} {'x bare':>7} {'same pts':>9}")
    for r in rows:
        same = "" if "same_points_as_eager" not in r else str(r["same_points_as_eager"])
        raw = r.get("raw_frames_per_s")
        raw_txt = f"{raw:8.2f} {r['raw_vs_bare_forward']:7.2f}" if raw else f"{'':8} {'':7}"
        print(
            f"{r['mode']:48} {r['frames_per_s']:9.2f} {r['vs_bare_forward']:7.2f} {raw_txt} {same:>9}"
        )
    write_results(HERE / "results" / "predict-cpu.json",
                  {"when": time.strftime("%Y-%m-%d"), "frames": len(records),
                   "threads": torch.get_num_threads(), "machine": platform.machine(),
                   "cpu": cpu_model(), "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()

"""Data-side speed: synthetic generation (frames/s on all cores), the training DataLoader path
(decoded frames/s, with and without augmentation and targets), codec encode/decode per frame.

Usage: python benchmarks/bench_data.py [--frames 200]
Writes benchmarks/results/data.json and prints a table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine_info import write_results

from adaptor_baseline.augment import AugmentConfig, augment_with_points, build_pipeline
from adaptor_baseline.codec import HeatmapCodec, decode_heatmaps
from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader
from adaptor_baseline.synth import generate_dataset

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    res = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        per_video = max(1, args.frames // 8)
        for domain in ("sim", "intraop"):
            s = generate_dataset(Path(tmp) / domain, domain, 4, 2, per_video, seed=1)
            res[f"synth_{domain}_frames_per_s"] = s["frames_per_second"]
        ds = AdaptorFrames(Path(tmp) / "sim")
        for workers in (0, 2):
            loader = frame_loader(ds, batch_size=4, shuffle=True, workers=workers)
            t, n = time.perf_counter(), 0
            for batch in loader:
                n += len(batch["image"])
            res[f"loader_decode_frames_per_s_workers{workers}"] = n / (time.perf_counter() - t)
        pipeline = build_pipeline(AugmentConfig())
        codec = HeatmapCodec("gaussian", sigma=2.0)
        t, n = time.perf_counter(), 0
        for batch in frame_loader(ds, batch_size=4, shuffle=True):
            images, points = augment_with_points(
                pipeline, batch["image"].float() / 255, batch["points"]
            )
            np.stack([codec.encode(p.numpy()) for p in points])
            n += len(images)
        res["loader_augment_targets_frames_per_s"] = n / (time.perf_counter() - t)

    rng = np.random.default_rng(0)
    pts = [rng.uniform(5, [507, 283], (15, 2)) for _ in range(64)]
    t = time.perf_counter()
    maps = np.stack([codec.encode(p) for p in pts])
    res["encode_ms_per_frame"] = (time.perf_counter() - t) / len(pts) * 1000
    t = time.perf_counter()
    decode_heatmaps(maps)
    res["decode_ms_per_frame_batched"] = (time.perf_counter() - t) / len(pts) * 1000
    t = time.perf_counter()
    for m in maps:
        decode_heatmaps(m)
    res["decode_ms_per_frame_single"] = (time.perf_counter() - t) / len(pts) * 1000
    res["torch_threads"] = torch.get_num_threads()

    out = HERE / "results" / "data.json"
    out.parent.mkdir(exist_ok=True)
    write_results(out, res)
    print(f"{'measure':<48}{'value':>12}")
    for k, v in res.items():
        print(f"{k:<48}{v:>12.2f}" if isinstance(v, float) else f"{k:<48}{v:>12}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

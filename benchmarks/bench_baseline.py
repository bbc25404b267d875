"""Baseline speed at 288 x 512: training and inference images/s, peak memory, decoding time, and
inference options against a plain eager fp32 forward of the same weights (points must be equal).

Each measurement runs in a fresh process so its peak memory (max RSS) is its own.
Usage: python benchmarks/bench_baseline.py [--device cpu|cuda] [--width 16] [--quick]
Writes benchmarks/results/baseline-<device>.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from machine_info import write_results

HERE = Path(__file__).resolve().parent
H, W = 288, 512


def _setup(width: int, device: str, seed: int = 0):
    import torch

    from adaptor_baseline.config import ModelConfig
    from adaptor_baseline.model import SutureDetector

    torch.manual_seed(seed)
    model = SutureDetector(ModelConfig(variant="variant1", width=width)).to(device)
    # Give the weights a trained-like state so the output has peaks to decode.
    weights = HERE / "results" / "_bench_weights.pt"
    if weights.exists():
        model.load_state_dict(torch.load(weights, map_location=device))
    return model


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _peak_mb(device: str) -> float:
    import resource

    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_train(width: int, device: str, batch: int, steps: int) -> dict:
    import torch

    model = _setup(width, device).train()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, 3, H, W, device=device)
    heat = torch.zeros(batch, 1, H, W, device=device)
    heat[:, :, 100:104, 200:204] = 1
    amp = device.startswith("cuda")
    for i in range(steps + 2):
        if i == 2:
            _sync(device)
            t = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            out = model(x)
        loss, _ = model.loss(out, heat)
        opt.zero_grad()
        loss.backward()
        opt.step()
    _sync(device)
    sec = time.perf_counter() - t
    return {
        "images_per_s": steps * batch / sec,
        "peak_mb": _peak_mb(device),
        "batch": batch,
        "amp_bf16": amp,
    }


def _images(n: int, device: str):
    import numpy as np
    import torch
    from PIL import Image

    from adaptor_baseline.synth import generate_dataset

    data = HERE / "results" / "_bench_frames"
    if not data.exists():
        generate_dataset(data, "sim", 1, 1, 16, seed=5, workers=1)
    files = sorted(data.rglob("*.png"))
    arr = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    x = torch.from_numpy(arr).permute(0, 3, 1, 2).float().div(255)
    return x.repeat((n + len(x) - 1) // len(x), 1, 1, 1)[:n].to(device)


def measure_infer(width: int, device: str, mode: str, batch: int, n: int) -> dict:
    import numpy as np
    import torch

    from adaptor_baseline.codec import decode_heatmaps

    model = _setup(width, device).eval()
    x = _images(n, device)
    if "channels_last" in mode:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    run = model
    if "compile" in mode:
        run = torch.compile(model, dynamic=False)
    outs = []
    with torch.inference_mode():
        run(x[:batch])  # warm-up (and compilation)
        _sync(device)
        t = time.perf_counter()
        for i in range(0, n, batch):
            outs.append(run(x[i : i + batch])["output"].float().cpu())
        _sync(device)
        sec = time.perf_counter() - t
    maps = torch.cat(outs).numpy()
    t = time.perf_counter()
    points = decode_heatmaps(maps)
    decode_ms = (time.perf_counter() - t) / n * 1000
    np.save(
        HERE / "results" / f"_points_{mode}_{batch}.npy",
        np.array([p.round(3) for p in points], dtype=object),
        allow_pickle=True,
    )
    return {
        "images_per_s": n / sec,
        "peak_mb": _peak_mb(device),
        "decode_ms_per_frame": decode_ms,
        "points": int(sum(len(p) for p in points)),
    }


def child(args) -> None:
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    if args.kind == "train":
        r = measure_train(args.width, args.device, args.batch, args.steps)
    else:
        r = measure_infer(args.width, args.device, args.mode, args.batch, args.n)
    print("RESULT " + json.dumps(r))


def run_child(extra: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *extra], capture_output=True, text=True
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        return {"error": (out.stderr or out.stdout)[-500:]}
    return json.loads(line[7:])


def prepare_weights(width: int) -> None:
    """Train a few steps on synthetic frames so the benchmark decodes realistic peaks."""
    import torch

    from adaptor_baseline.config import preset, with_overrides
    from adaptor_baseline.train import train

    data = HERE / "results" / "_bench_frames"
    run = HERE / "results" / "_bench_run"
    cfg = with_overrides(
        preset("variant1"),
        **{
            "model.width": width,
            "epochs": 3,
            "steps_per_epoch": 20,
            "crop": (128, 128),
            "batch_size": 8,
            "target.sigma1": 1.0,
        },
    )
    from adaptor_baseline.synth import generate_dataset

    if not data.exists():
        generate_dataset(data, "sim", 1, 1, 16, seed=5, workers=1)
    from rich.console import Console

    train(cfg, data, run, console=Console(quiet=True))
    torch.save(
        torch.load(run / "model.pt", weights_only=False)["model"],
        HERE / "results" / "_bench_weights.pt",
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--kind", default="infer")
    ap.add_argument("--mode", default="eager")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    import numpy as np

    (HERE / "results").mkdir(exist_ok=True)
    if not (HERE / "results" / "_bench_weights.pt").exists():
        prepare_weights(args.width)
    base = ["--device", args.device, "--width", str(args.width)]
    n = "16" if args.device == "cpu" else "256"
    results = {"train": [], "infer": []}
    for batch in (2, 4) if args.device == "cpu" else (8, 16):
        r = run_child(
            base + ["--kind", "train", "--batch", str(batch), "--steps", "3" if args.quick else "6"]
        )
        results["train"].append({"batch": batch, **r})
    modes = [("eager", 1), ("eager", 8), ("channels_last", 1), ("channels_last", 8)]
    if not args.quick:
        modes += [("compile", 1), ("compile_channels_last", 1), ("compile_channels_last", 8)]
    for mode, batch in modes:
        r = run_child(base + ["--kind", "infer", "--mode", mode, "--batch", str(batch), "--n", n])
        results["infer"].append({"mode": mode, "batch": batch, **r})
    ref_file = HERE / "results" / "_points_eager_1.npy"
    ref = np.load(ref_file, allow_pickle=True)
    eager = next(r for r in results["infer"] if r["mode"] == "eager" and r["batch"] == 1)
    for r in results["infer"]:
        f = HERE / "results" / f"_points_{r['mode']}_{r['batch']}.npy"
        if "error" in r or not f.exists():
            continue
        got = np.load(f, allow_pickle=True)
        r["same_points_as_eager_fp32"] = bool(all(np.array_equal(a, b) for a, b in zip(ref, got)))
        r["speedup_vs_eager_fp32_batch1"] = r["images_per_s"] / eager["images_per_s"]
    results["device"] = args.device
    results["width"] = args.width
    results["machine"] = (
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if args.device.startswith("cuda"):
        import torch

        results["gpu"] = torch.cuda.get_device_name()
    out = HERE / "results" / f"baseline-{args.device.split(':')[0]}.json"
    write_results(out, results)

    print(f"device {args.device}, U-Net width {args.width}, 288 x 512, {results['machine']}")
    print(f"{'training':<28}{'batch':>6}{'img/s':>10}{'peak MB':>10}")
    for r in results["train"]:
        print(
            f"{'train step (Adam)':<28}{r['batch']:>6}{r.get('images_per_s', float('nan')):>10.2f}"
            f"{r.get('peak_mb', float('nan')):>10.0f}"
        )
    print(
        f"{'inference':<28}{'batch':>6}{'img/s':>10}{'peak MB':>10}{'speed-up':>10}{'same pts':>10}{'decode ms':>11}"
    )
    for r in results["infer"]:
        if "error" in r:
            print(f"{r['mode']:<28}{r['batch']:>6}  error: {r['error'][-120:]!r}")
            continue
        print(
            f"{r['mode']:<28}{r['batch']:>6}{r['images_per_s']:>10.2f}{r['peak_mb']:>10.0f}"
            f"{r['speedup_vs_eager_fp32_batch1']:>10.2f}{str(r['same_points_as_eager_fp32']):>10}"
            f"{r['decode_ms_per_frame']:>11.2f}"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

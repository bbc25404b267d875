"""The synthetic benchmark measured: generation speed, realism statistics of the A.1 / B.1
presets, and how hard the data is for the demo's recipe (and, with ``--sigma-sweep``, the
sigma_1 trade-off of a longer run).

Usage:
    python benchmarks/bench_synth.py                    # speed + difficulty (about 12 min, 2 cores)
    python benchmarks/bench_synth.py --presets          # + full a1/b1 presets and their reports
    python benchmarks/bench_synth.py --sigma-sweep      # + sigma_1 1 and 3 per domain, 30 x 40 steps
    python benchmarks/bench_synth.py --presets --sigma-sweep --seeds 0 1 2 3 4 \
        --sweep-seeds 0 1 --sweep-sigmas 1 2 3           # the figures of docs/synthetic.md (about 75 min)
    python benchmarks/bench_synth.py --sweep-only --sweep-seeds 0 1   # the two seeds of docs/synthetic.md
    python benchmarks/bench_synth.py --sweep-only       # the sweep alone (about 15 min a seed)

Difficulty: the demo's recipe (``recipes.DEMO_RECIPE``) trained on the earlier data shape,
3 surgeries x 2 videos x 20 frames of seed 0, and scored on 2 surgeries x 20 frames of seed 1
(``benchmarks/demo_seeds.py`` measures the demo's own data, ``recipes.DEMO_DATA``; the figures
of docs/synthetic.md's "previous recipe" come from a run of this script before the recipe
changed: a new run replaces them, and tests/test_claims.py then names every figure to update),
per domain, once per training seed (``--seeds``, default 0 1 2): one short run's figure moves
with the training seed, so the table gives each run and their mean. Every run's false
positives at 6 px are named by the look-alike under them (``synth/lookalikes.py``), with their
median distance to a label. Writes ``benchmarks/results/synth*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from machine_info import write_results
from rich.console import Console

from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.predict import predict_dir
from adaptor_baseline.recipes import DEMO_RECIPE
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.synth.lookalikes import KINDS, attribute_false_positives
from adaptor_baseline.synth.presets import grid
from adaptor_baseline.synth.report import realism_report
from adaptor_baseline.synth.report_output import figure, public
from adaptor_baseline.train import train
from adaptor_score.outputs import write_json
from adaptor_score.scoring import score

HERE = Path(__file__).resolve().parent
REPORT_KEYS = (
    "frames", "labels_per_frame", "empty_frames", "growth_spearman_median", "close_share",
    "nearest_neighbour_px", "grey_p5_p95", "grey_std_within_video", "grey_std_between_folders",
    "frames_with_saturation", "r_g_p5_p95", "sharpness_median",
)  # fmt: skip


def recipe(sigma1: float, epochs: int, steps: int, seed: int):
    """The demo's recipe (``DEMO_RECIPE``) with sigma_1, the length and the seed changed."""
    changes = {"target.sigma1": sigma1, "epochs": epochs, "steps_per_epoch": steps, "seed": seed}
    return with_overrides(preset("variant1"), **(DEMO_RECIPE | changes))


def run(
    tmp: Path, domain: str, sigma1: float, epochs: int, steps: int, shape=(3, 2, 20), seed=0
) -> dict:
    data = tmp / f"{domain}-{shape}"
    if not (data / "train").exists():
        generate_dataset(data / "train", domain, *shape, seed=0)
        generate_dataset(data / "heldout", domain, 2, 1, 20, seed=1)
    out = tmp / f"{domain}-{sigma1}-{epochs}x{steps}-{seed}"
    t = time.perf_counter()
    cfg = recipe(sigma1, epochs, steps, seed)
    train(cfg, data / "train", out / "run", console=Console(quiet=True))
    seconds = time.perf_counter() - t
    predict_dir(out / "run", data / "heldout", out / "pred", device="cpu")
    rows = {}
    for s in score(data / "heldout", out / "pred", (6.0, 8.0, 10.0)).overall():
        rows[f"{s.radius:g}"] = {
            "tp": s.tp, "fp": s.fp, "fn": s.fn, "ppv": round(s.ppv, 4), "tpr": round(s.tpr, 4),
            "f1": round(s.f1, 4), "rmse": None if s.rmse is None else round(s.rmse, 2),
            "close_tp_share": s.close_tp_share, "other_tp_share": s.other_tp_share,
            "close_labels": s.close_labels, "other_labels": s.other_labels,
        }  # fmt: skip
    heldout = grid(domain, 2, 1, 20, seed=1)  # as generate_dataset made data / "heldout"
    return {
        "domain": domain, "sigma1": sigma1, "seed": seed, "train_seconds": round(seconds, 1),
        "radii": rows,
        "false_positives": attribute_false_positives(data / "heldout", out / "pred", heldout, 1),
    }  # fmt: skip


def learned(run: dict) -> bool:
    """Whether a run made any prediction on the held-out frames."""
    m = run["radii"]["6"]
    return m["tp"] + m["fp"] > 0


def mean_over_seeds(results: list[dict], learned_only: bool = False) -> list[dict]:
    """One row per (domain, sigma_1): each metric averaged over the training seeds (or over those
    whose run made predictions), with its range; RMSE over the runs that made predictions."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["domain"], r["sigma1"]), []).append(r)
    out = []
    for (domain, sigma1), every in groups.items():
        runs = [r for r in every if learned(r)] if learned_only else every
        if not runs:
            continue
        radii = {}
        for radius in runs[0]["radii"]:
            rows = [r["radii"][radius] for r in runs]
            m = {}
            for key in ("ppv", "tpr", "f1", "rmse", "close_tp_share", "other_tp_share"):
                vals = [x[key] for x in rows if x[key] is not None]
                m[key] = round(sum(vals) / len(vals), 4) if vals else None
                m[key + "_range"] = [min(vals), max(vals)] if vals else None
            radii[radius] = m
        out.append({"domain": domain, "sigma1": sigma1, "seeds": [r["seed"] for r in runs],
                    "learned": f"{sum(map(learned, every))}/{len(every)}",
                    "train_seconds": round(sum(r["train_seconds"] for r in runs) / len(runs), 1),
                    "radii": radii})  # fmt: skip
    return out


def summarise(out: Path) -> None:
    """Recompute the means of the saved runs (``--summarise-only``): no training."""
    for name, runs_key, mean_key in (("synth.json", "demo_recipe", "demo_recipe_mean"),
                                     ("synth-sigma.json", "runs", "mean")):  # fmt: skip
        path = out / name
        if path.exists():
            doc = json.loads(path.read_text())
            doc[mean_key] = mean_over_seeds(doc[runs_key])
            doc[mean_key + "_learned"] = mean_over_seeds(doc[runs_key], learned_only=True)
            write_results(path, doc)


def show_false_positives(console: Console, results: list[dict]) -> None:
    """Where the false positives at 6 px lie: share per look-alike kind, per run."""
    kinds = [k for k in KINDS if any(k in r["false_positives"]["kinds"] for r in results)]
    console.print(f"{'domain':8} {'s1':>3} {'seed':>4} {'FP':>4} {'med px':>6} {'>50px':>5} "
                  + " ".join(f"{k[:10]:>10}" for k in kinds))  # fmt: skip
    for r in results:
        fp = r["false_positives"]
        share = [fp["kinds"].get(k, {}).get("share", 0.0) for k in kinds]
        console.print(
            f"{r['domain']:8} {r['sigma1']:>3g} {r['seed']:>4} {fp['false_positives']:>4}"
            f" {fp['median_px_to_label'] or float('nan'):6.1f} {fp['beyond_50px'] or 0:5.2f} "
            + " ".join(f"{x:10.2f}" for x in share)
        )


def speed(tmp: Path) -> dict:
    res = {}
    for domain in ("sim", "intraop"):
        s = generate_dataset(tmp / f"speed-{domain}", domain, 4, 2, 40, seed=3)
        res[domain] = round(s["frames_per_second"], 1)
    return res


def show(console: Console, results: list[dict]) -> None:
    console.print(f"{'domain':8} {'s1':>3} {'seed':>4} {'r':>3} {'PPV':>6} {'TPR':>6} {'F1':>6} {'RMSE':>6}"
                  f" {'close TP':>9} {'other TP':>9} {'train s':>8}")  # fmt: skip
    for r in results:
        for radius, m in r["radii"].items():
            close = m["close_tp_share"]
            other = m["other_tp_share"]
            console.print(
                f"{r['domain']:8} {r['sigma1']:>3g} {str(r.get('seed', 'mean')):>4} {radius:>3}"
                f" {m['ppv']:6.3f} {m['tpr']:6.3f} {m['f1']:6.3f}"
                f" {m['rmse'] if m['rmse'] is not None else float('nan'):6.2f}"
                f" {close if close is not None else float('nan'):9.3f}"
                f" {other if other is not None else float('nan'):9.3f} {r['train_seconds']:8.0f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", action="store_true", help="generate and report a1 and b1")
    ap.add_argument("--sigma-sweep", action="store_true")
    ap.add_argument("--sweep-epochs", type=int, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    ap.add_argument("--sweep-seeds", type=int, nargs="+", default=[0], help="for the sweep")
    ap.add_argument("--sweep-sigmas", type=float, nargs="+", default=[1.0, 3.0], help="sigma_1")
    ap.add_argument(
        "--sweep-only", action="store_true", help="keep results/synth.json, run the sweep alone"
    )
    ap.add_argument(
        "--summarise-only", action="store_true", help="recompute the saved runs' means, no training"
    )
    args = ap.parse_args()
    console = Console(highlight=False, markup=False)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    if args.summarise_only:
        summarise(out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.sweep_only:
            res = {"cores": os.cpu_count(), "frames_per_second": speed(tmp)}
            console.print(
                f"generation, frames/s on {os.cpu_count()} cores: {res['frames_per_second']}"
            )
            if args.presets:
                res["presets"] = {}
                for name in ("a1", "b1"):
                    s = generate_dataset(tmp / name, seed=0, preset=name)
                    rep = realism_report(tmp / name)
                    # the figure and the report's figures (not its raw distributions, 400 KB),
                    # named by how the data was made rather than by a temporary folder
                    summary = public(rep) | {"root": f"synth --preset {name} --seed 0"}
                    del summary["distributions"]
                    write_json(out / f"synth-report-{name}.json", summary)
                    figure(rep, out / f"synth-report-{name}.png")
                    res["presets"][name] = {"seconds": round(s["seconds"], 1)} | {
                        k: rep[k] for k in REPORT_KEYS
                    }
                    console.print(f"preset {name}: {json.dumps(res['presets'][name])}")
            res["demo_recipe"] = [
                run(tmp, d, 1.0, 14, 40, seed=seed)
                for d in ("sim", "intraop")
                for seed in args.seeds
            ]
            res["demo_recipe_mean"] = mean_over_seeds(res["demo_recipe"])
            res["demo_recipe_mean_learned"] = mean_over_seeds(res["demo_recipe"], True)
            show(console, res["demo_recipe"] + res["demo_recipe_mean"])
            show_false_positives(console, res["demo_recipe"])
            write_results(out / "synth.json", res)
        if args.sigma_sweep or args.sweep_only:
            # the longer run: 30 x 40 steps on 4 surgeries x 2 videos x 40 frames, per sigma_1
            sweep = [
                run(tmp, d, s1, args.sweep_epochs, 40, shape=(4, 2, 40), seed=seed)
                for d in ("sim", "intraop")
                for s1 in args.sweep_sigmas
                for seed in args.sweep_seeds
            ]
            mean = mean_over_seeds(sweep)
            show(console, sweep + mean)
            show_false_positives(console, sweep)
            doc = {"runs": sweep, "mean": mean, "mean_learned": mean_over_seeds(sweep, True)}
            write_results(out / "synth-sigma.json", doc)


if __name__ == "__main__":
    main()

"""What a user of ``make demo`` should see: the demo's recipe (``recipes.DEMO_RECIPE``, as
``tools/demo.sh`` runs it) trained with several seeds on the demo's data, each seed's held-out
scores kept, their mean, sd and the band the demo compares itself with; how far another CPU's
floating point moves one run; and the whole demo timed.

    python benchmarks/demo_seeds.py                       # sim and intraop, seeds 0-4 (~15 min, 2 cores)
    python benchmarks/demo_seeds.py --repeat              # + seed 0 again, and under other CPU kernels
    python benchmarks/demo_seeds.py --time-demo           # + tools/demo.sh timed in a fresh folder

Data as the demo (``recipes.DEMO_DATA``: train on 6 surgeries x 2 videos x 10 frames of seed 0,
score on 8 surgeries x 1 video x 10 frames of seed 1), in sim and, for the harder domain, intraop. Every run's F1/PPV/TPR at
6/8/10 px is written, not only the summary. The band is mean +- 3 sd (at least +- 0.03) of the
sim seeds: what ``adaptor-baseline demo-check`` prints beside the demo's own result.

Another CPU: ``ATEN_CPU_CAPABILITY`` makes torch use its default, AVX2 or AVX-512 kernels, and
``ONEDNN_MAX_CPU_ISA`` caps oneDNN's convolutions at AVX2 or SSE4.1, on this machine, as another
CPU type would; the difference in F1 from the same seed is the size of what "same seed, another
machine" can move. Writes ``benchmarks/results/demo-seeds.json`` (parts not
rerun are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from machine_info import cpu_model, write_results
from rich.console import Console

from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.demo_check import f1_at_6
from adaptor_baseline.predict import predict_dir
from adaptor_baseline.recipes import DEMO_RECIPE, generate_demo_data
from adaptor_baseline.train import train
from adaptor_score.scoring import score

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "demo-seeds.json"


def machine() -> dict:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}  # fmt: skip


def data(tmp: Path, domain: str) -> Path:
    root = tmp / domain
    if not (root / "heldout").exists():
        generate_demo_data(root, domain)
    return root


def weights_digest(run: Path) -> str:
    state = torch.load(run / "model.pt", map_location="cpu", weights_only=True)["model"]
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode() + state[k].numpy().tobytes())
    return h.hexdigest()[:16]


def one_run(tmp: Path, domain: str, seed: int, tag: str = "") -> dict:
    root = data(tmp, domain)
    out = tmp / f"{domain}-{seed}{tag}"
    cfg = with_overrides(preset("variant1"), **(DEMO_RECIPE | {"seed": seed}))
    t = time.perf_counter()
    train(cfg, root / "train", out / "run", console=Console(quiet=True), overwrite=True)
    seconds = time.perf_counter() - t
    predict_dir(out / "run", root / "heldout", out / "pred", device="cpu")
    radii = {}
    for s in score(root / "heldout", out / "pred", (6.0, 8.0, 10.0)).overall():
        radii[f"{s.radius:g}"] = {"tp": s.tp, "fp": s.fp, "fn": s.fn, "ppv": round(s.ppv, 4),
                                  "tpr": round(s.tpr, 4), "f1": round(s.f1, 4)}  # fmt: skip
    return {"domain": domain, "seed": seed, "train_seconds": round(seconds, 1),
            "weights": weights_digest(out / "run"), "radii": radii}  # fmt: skip


def summary(runs: list[dict]) -> dict:
    out = {}
    for domain in sorted({r["domain"] for r in runs}):
        f1 = [r["radii"]["6"]["f1"] for r in runs if r["domain"] == domain]
        mean, sd = statistics.mean(f1), statistics.stdev(f1) if len(f1) > 1 else 0.0
        half = max(3 * sd, 0.03)
        out[domain] = {"seeds": len(f1), "f1_mean": round(mean, 4), "f1_sd": round(sd, 4),
                       "f1_min": min(f1), "f1_max": max(f1),
                       "band": [round(mean - half, 2), round(mean + half, 2)],
                       "learned_nothing": sum(1 for v in f1 if v == 0)}  # fmt: skip
    return out


def child(args) -> None:
    """``--child DOMAIN SEED DIR``: one run printed as JSON (the parent sets the environment)."""
    print(json.dumps(one_run(Path(args.child[2]), args.child[0], int(args.child[1]), "-child")))


# Kernel sets another CPU would use: ATen's own vectorised kernels (elementwise, reductions) and
# oneDNN's convolutions, each capped at an older instruction set.
OTHER_CPUS = (
    ("ATEN_CPU_CAPABILITY", "default"), ("ATEN_CPU_CAPABILITY", "avx2"),
    ("ATEN_CPU_CAPABILITY", "avx512"), ("ONEDNN_MAX_CPU_ISA", "AVX2"),
    ("ONEDNN_MAX_CPU_ISA", "SSE41"),
)  # fmt: skip


def repeats(tmp: Path, first: dict, only: list[str] | None = None) -> list[dict]:
    """Seed 0 (sim) again in this process's settings, and under each kernel set of
    :data:`OTHER_CPUS` (``only``: those whose ``NAME=value`` is listed)."""
    rows = [] if only else [{"how": "same process settings, second run",
                             **one_run(tmp, "sim", 0, "-again")}]  # fmt: skip
    for var, value in OTHER_CPUS:
        how = f"{var}={value}"
        if only and how not in only:
            continue
        env = {**os.environ, var: value}
        cmd = [sys.executable, __file__, "--child", "sim", "0", str(tmp)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            rows.append({"how": how, "error": p.stderr[-300:]})
            continue
        rows.append({"how": how, **json.loads(p.stdout.splitlines()[-1])})
    for r in rows:
        if "radii" in r:
            r["same_weights_as_first"] = r["weights"] == first["weights"]
            r["f1_difference"] = round(r["radii"]["6"]["f1"] - first["radii"]["6"]["f1"], 4)
    return rows


def time_demo() -> dict:
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        t = time.perf_counter()
        subprocess.run(["bash", str(ROOT / "tools" / "demo.sh"), f"{d}/demo"], check=True,
                       env=env, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
        seconds = time.perf_counter() - t
        f1 = f1_at_6(f"{d}/demo/score.json")
    return {"seconds": round(seconds, 1), "f1_6": round(f1, 4),
            "what": "bash tools/demo.sh in a new folder, the environment already installed"}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--domains", nargs="+", default=["sim", "intraop"])
    ap.add_argument("--repeat", nargs="*", metavar="NAME=VALUE",
                    help="Seed 0 again and under other CPU kernels (names: only those).")  # fmt: skip
    ap.add_argument("--time-demo", action="store_true")
    ap.add_argument("--skip-seeds", action="store_true", help="Keep the file's seed runs.")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    doc = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    doc.update({"recipe": {k: list(v) if isinstance(v, tuple) else v for k, v in DEMO_RECIPE.items()},
                "machine": machine()})  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_seeds:
            runs = []
            for domain in args.domains:
                for seed in args.seeds:
                    runs.append(one_run(tmp, domain, seed))
                    r = runs[-1]["radii"]["6"]
                    print(f"{domain:8} seed {seed}: F1@6 {r['f1']:.3f}  PPV {r['ppv']:.3f}"
                          f"  TPR {r['tpr']:.3f}  ({runs[-1]['train_seconds']} s)", flush=True)  # fmt: skip
            doc["runs"], doc["summary"] = runs, summary(runs)
        if args.repeat is not None:
            first = next(r for r in doc["runs"] if r["domain"] == "sim" and r["seed"] == 0)
            new = repeats(tmp, first, args.repeat)
            kept = [r for r in doc.get("repeats", []) if r["how"] not in {n["how"] for n in new}]
            doc["repeats"] = kept + new
            for r in doc["repeats"]:
                f1 = r["radii"]["6"]["f1"] if "radii" in r else r.get("error")
                print(f"{r['how']:32} F1@6 {f1}  same weights: {r.get('same_weights_as_first')}")
    diffs = [abs(r["f1_difference"]) for r in doc.get("repeats", []) if "f1_difference" in r]
    if diffs:
        doc["repeats_max_f1_difference"] = round(max(diffs), 4)
    if args.time_demo:
        doc["demo"] = time_demo()
        print(f"tools/demo.sh: {doc['demo']['seconds']} s, F1@6 {doc['demo']['f1_6']}")
    for domain, s in doc.get("summary", {}).items():
        print(f"{domain:8} F1@6 {s['f1_mean']:.3f} ± {s['f1_sd']:.3f} over {s['seeds']} seeds"
              f" ({s['f1_min']:.3f}–{s['f1_max']:.3f}), band {s['band'][0]:.2f}–{s['band'][1]:.2f}")  # fmt: skip
    write_results(RESULTS, doc)


if __name__ == "__main__":
    main()

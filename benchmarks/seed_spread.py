"""How much the training seed alone moves F1: from the tables of a sweep run with several seeds
(`SEEDS="0 1 2" make paper-tables`) and from the demo recipe's five training seeds
(results/synth.json). Prints a table and writes benchmarks/results/seed-spread.json.

    python benchmarks/seed_spread.py [paper-output/tables]
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

from machine_info import write_results

RESULTS = Path(__file__).resolve().parent / "results"


def sweep_spread(tables: Path) -> list[dict]:
    """Per dataset and experiment at 6 px: mean F1 over folds (each fold averaged over seeds)
    and the sample std over seeds of each seed's mean over folds."""
    rows = [r for r in csv.DictReader(open(tables / "results.csv")) if float(r["radius"]) == 6.0]
    out = []
    for key in sorted({(r["dataset"], r["experiment"]) for r in rows}):
        mine = [r for r in rows if (r["dataset"], r["experiment"]) == key and r["f1"] != ""]
        seeds = sorted({r["seed"] for r in mine})
        per_seed = [statistics.mean(float(r["f1"]) for r in mine if r["seed"] == s) for s in seeds]
        folds = sorted({r["run"] for r in mine})
        per_fold = [statistics.mean(float(r["f1"]) for r in mine if r["run"] == f) for f in folds]
        out.append(
            {
                "dataset": key[0],
                "experiment": key[1],
                "seeds": len(seeds),
                "f1_mean": round(statistics.mean(per_fold), 4),
                "f1_sd_over_folds": round(statistics.stdev(per_fold), 4)
                if len(folds) > 1
                else None,
                "f1_sd_over_seeds": round(statistics.stdev(per_seed), 4)
                if len(seeds) > 1
                else None,
            }
        )
    return out


def demo_spread() -> list[dict]:
    doc = json.loads((RESULTS / "synth.json").read_text())
    out = []
    for domain in ("sim", "intraop"):
        f1 = [r["radii"]["6"]["f1"] or 0.0 for r in doc["demo_recipe"] if r["domain"] == domain]
        out.append({"domain": domain, "seeds": len(f1), "f1_mean": round(statistics.mean(f1), 4),
                    "f1_sd_over_seeds": round(statistics.stdev(f1), 4)})  # fmt: skip
    return out


def main() -> None:
    tables = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("paper-output/tables")
    sweep = sweep_spread(tables)
    demo = demo_spread()
    print(
        f"{'dataset':<6} {'experiment':<16} {'seeds':>5} {'F1':>7} {'sd folds':>9} {'sd seeds':>9}"
    )
    for r in sweep:
        print(f"{r['dataset']:<6} {r['experiment']:<16} {r['seeds']:>5} {r['f1_mean']:>7.4f}"
              f" {r['f1_sd_over_folds'] or 0:>9.4f} {r['f1_sd_over_seeds'] or 0:>9.4f}")  # fmt: skip
    for r in demo:
        print(f"demo recipe, {r['domain']}: F1 {r['f1_mean']:.3f}, sd over {r['seeds']} training"
              f" seeds {r['f1_sd_over_seeds']:.3f} (results/synth.json)")  # fmt: skip
    source = 'SEEDS="0 1 2" make paper-tables: the paper grid at tiny CPU settings, 3 seeds'
    write_results(RESULTS / "seed-spread.json",
                  {"sweep_source": source, "sweep": sweep, "demo_recipe": demo})  # fmt: skip
    print(f"wrote {RESULTS / 'seed-spread.json'}")


if __name__ == "__main__":
    main()

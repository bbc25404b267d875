"""The paper's Table 1 beside ours: for each dataset and configuration, the paper's PPV, TPR and
F1 at 6 px (mean ± sd over its folds, quoted from its Table 1) and the grid's (mean ± sd over
folds, or over fold models on A.2, each averaged over its seeds first; and the spread of the
per-seed means).

:data:`PAPER_TABLE1` quotes the paper (PPV and TPR in %, F1 as a fraction, each with its sd, as
printed); ``tests/test_paper_grid_files.py`` checks every number against the paper's text where
that text lies beside the checkout. Rows the paper does not print are "—".
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path

# (dataset, experiment) -> ((PPV %, sd), (TPR %, sd), (F1, sd)): the paper's Table 1 (a)-(c)
PAPER_TABLE1 = {
    ("A.1", "baseline-g1"): ((62.2700, 9.54), (33.1350, 6.68), (0.4376, 0.06)),
    ("A.1", "baseline-g2"): ((64.4450, 11.01), (37.6525, 8.46), (0.4720, 0.05)),
    ("A.1", "baseline-g3"): ((65.8775, 8.95), (37.8200, 10.58), (0.4718, 0.08)),
    ("A.1", "baseline-t7"): ((69.2850, 6.42), (34.6900, 5.74), (0.4494, 0.05)),
    ("A.1", "baseline-t10.5"): ((68.3550, 7.90), (35.2900, 5.55), (0.4636, 0.06)),
    ("A.1", "v1-g2-s1"): ((68.8400, 7.84), (38.0650, 9.30), (0.4789, 0.06)),
    ("A.1", "v1-g3-s1"): ((67.2100, 11.08), (39.5225, 10.23), (0.4798, 0.04)),
    ("A.1", "v1-g4-s1"): ((67.3275, 16.92), (29.3600, 7.77), (0.3711, 0.04)),
    ("A.1", "v2-g2-s1"): ((74.7625, 8.30), (33.9950, 9.99), (0.4576, 0.09)),
    ("A.2", "baseline-g2"): ((76.0150, 7.36), (28.5025, 2.53), (0.4126, 0.02)),
    ("A.2", "baseline-g3"): ((72.6550, 1.43), (28.9350, 1.14), (0.4138, 0.01)),
    ("A.2", "baseline-t7"): ((76.2525, 3.52), (26.3000, 2.20), (0.3902, 0.02)),
    ("A.2", "baseline-t10.5"): ((74.1375, 5.83), (28.2450, 2.18), (0.4084, 0.03)),
    ("A.2", "v1-g2-s1"): ((76.6475, 5.31), (28.0750, 2.92), (0.4086, 0.02)),
    ("A.2", "v1-g3-s1"): ((73.3200, 2.94), (30.4550, 3.76), (0.4290, 0.04)),
    ("A.2", "v1-g4-s1"): ((67.5825, 8.42), (22.3425, 3.05), (0.3317, 0.03)),
    ("A.2", "v2-g2-s1"): ((78.3350, 2.88), (26.3875, 1.79), (0.3945, 0.02)),
    ("B.1", "baseline-g1"): ((78.3260, 4.44), (61.6360, 7.96), (0.6869, 0.06)),
    ("B.1", "baseline-g2"): ((81.3900, 5.18), (67.9540, 9.82), (0.7380, 0.08)),
    ("B.1", "v1-g2-s1"): ((83.2840, 3.76), (72.4860, 8.56), (0.7734, 0.06)),
    ("B.1", "v1-g3-s1"): ((78.4560, 6.38), (64.6160, 9.72), (0.7057, 0.07)),
    ("B.1", "v2-g2-s1"): ((81.0100, 5.92), (73.7160, 7.34), (0.7704, 0.06)),
}
ORDER = ["baseline-g1", "baseline-g2", "baseline-g3", "baseline-t7", "baseline-t10.5",
         "v1-g2-s1", "v1-g3-s1", "v1-g4-s1", "v2-g2-s1"]  # fmt: skip  # the paper's Table 1 rows


def ours(results_csv: Path, radius: float = 6.0) -> dict:
    """``{(dataset, experiment): {"ppv": [...], "tpr": [...], "f1": [...], "seeds": {seed: [f1]}}}``
    from ``adaptor-score tables``' results.csv at ``radius``: one value per run (fold, or fold
    model on a test set), **averaged over the seeds** first (the fold is the unit; a seed is a
    repeated measurement of it), and each seed's values for the seed's spread."""
    per_run: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    seeds: dict = defaultdict(lambda: defaultdict(list))
    with open(results_csv, newline="") as f:
        for r in csv.DictReader(f):
            if float(r["radius"]) != radius:
                continue
            cell = per_run[(r["dataset"], r["experiment"])][r["run"]]
            for k in ("ppv", "tpr", "f1"):
                cell[k].append(float(r[k]))
            seeds[(r["dataset"], r["experiment"])][r["seed"]].append(float(r["f1"]))
    return {key: {**{k: [statistics.fmean(run[k]) for run in runs.values()]
                     for k in ("ppv", "tpr", "f1")}, "seeds": seeds[key]}
            for key, runs in per_run.items()}  # fmt: skip


def _ms(values: list[float], scale: float = 1.0, digits: int = 4) -> str:
    if not values:
        return "—"
    sd = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{statistics.fmean(values) * scale:.{digits}f} ± {sd:.{min(digits, 2)}f}"


def beside_markdown(results_csv: Path) -> str:
    """The paper's Table 1 and the grid's, row by row, with the number of runs and seeds."""
    mine = ours(results_csv)
    lines = ["| dataset | configuration | paper PPV (%) | ours | paper TPR (%) | ours | paper F1 |"
             " ours F1 | folds × seeds | sd of the per-seed mean F1 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|"]  # fmt: skip
    for dataset in ("A.1", "A.2", "B.1"):
        for exp in ORDER:
            paper = PAPER_TABLE1.get((dataset, exp))
            cell = mine.get((dataset, exp))
            if paper is None and cell is None:
                continue
            p = [f"{m:.4f} ± {s:.2f}" for m, s in paper] if paper else ["—"] * 3
            if cell:
                seed_means = [statistics.fmean(v) for v in cell["seeds"].values()]
                spread = f"{statistics.stdev(seed_means):.4f}" if len(seed_means) > 1 else "one seed"
                o = [_ms(cell["ppv"], 100, 2), _ms(cell["tpr"], 100, 2), _ms(cell["f1"])]
                runs = f"{len(cell['f1'])} × {len(seed_means)}"
            else:
                o, runs, spread = ["not run yet"] * 3, "—", "—"
            lines.append(f"| {dataset} | {exp} | {p[0]} | {o[0]} | {p[1]} | {o[1]} | {p[2]} |"
                         f" {o[2]} | {runs} | {spread} |")  # fmt: skip
    return "\n".join(lines) + "\n"

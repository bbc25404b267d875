"""Paired comparisons of experiments against a reference: is "+0.0082 F1" more than what the
fold, the surgery or the seed moves?

For each experiment and the reference, on the same dataset, the metric is computed per case
from that case's counts (PPV, TPR, F1 with the scorer's rule, :func:`adaptor_score.metrics.ratios`)
at two levels:

* **fold**: a run (a fold's model on its fold, or on the test set), the pair being the same run
  name;
* **surgery**: one surgery's frames within a run, the pair being the same run and surgery.

When both experiments were trained with several seeds, seed is a further paired factor (the
pair is the same seed and run); otherwise a case is averaged over its seeds first. For each
level and metric: the number of pairs, the mean difference (experiment minus reference), a
paired bootstrap 95 % interval of that mean (pairs resampled, seeded), and the two-sided
Wilcoxon signed-rank p-value (exact up to 16 pairs), printed beside the smallest p-value that
many pairs can reach: four folds can never reach 0.05 two-sided (0.125), and a table says so
instead of a misleading "not significant".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptor_score.metrics import ratios
from adaptor_score.results import Results
from adaptor_score.stats import paired_bootstrap_interval, smallest_p, wilcoxon_two_sided

METRICS = ("f1", "ppv", "tpr")
LEVELS = ("fold", "surgery")
COLUMNS = (
    "dataset", "experiment", "reference", "level", "radius", "metric", "pairs", "mean_difference",
    "ci_low", "ci_high", "p_two_sided", "smallest_p", "can_reach_0_05", "seeds_paired",
)  # fmt: skip
LONG_COLUMNS = ("algorithm", "case", "task", "metric", "value", "level", "seed")


class CompareError(ValueError):
    """A comparison that cannot be made (an unknown reference experiment)."""


@dataclass
class _Cases:
    """Per-case values of one experiment on one dataset at one radius and level."""

    values: dict[tuple, dict[str, float]]  # (seed, run[, surgery]) -> metric -> value
    seeds: set


def case_values(results: Results, radius: float, level: str) -> dict[tuple[str, str], _Cases]:
    """(dataset, experiment) -> its per-case metric values at ``radius`` and ``level``."""
    counts: dict[tuple, dict[tuple, np.ndarray]] = defaultdict(dict)
    for c in results.cases:
        if c.radius != radius:
            continue
        key = (c.seed, c.run) if level == "fold" else (c.seed, c.run, c.surgery)
        bucket = counts[c.dataset, c.experiment]
        bucket[key] = bucket.get(key, 0) + np.array([c.tp, c.fp, c.fn])
    out = {}
    for name, cases in counts.items():
        values = {k: dict(zip(("ppv", "tpr", "f1"), ratios(*v))) for k, v in cases.items()}
        out[name] = _Cases(values, {k[0] for k in cases})
    return out


def _pairs(a: _Cases, b: _Cases, metric: str) -> tuple[np.ndarray, bool]:
    """Paired differences a - b; seeds paired when both have more than one seed in common."""
    common_seeds = (a.seeds & b.seeds) - {None}
    by_seed = len(common_seeds) > 1

    def collapse(c: _Cases) -> dict[tuple, float]:
        if by_seed:
            return {k: v[metric] for k, v in c.values.items() if k[0] in common_seeds}
        merged: dict[tuple, list[float]] = defaultdict(list)
        for k, v in c.values.items():
            merged[k[1:]].append(v[metric])
        return {k: float(np.mean(v)) for k, v in merged.items()}

    va, vb = collapse(a), collapse(b)
    keys = sorted(set(va) & set(vb), key=repr)
    return np.array([va[k] - vb[k] for k in keys]), by_seed


def compare(
    results: Results,
    reference: str,
    radius: float | None = None,
    replicates: int = 2000,
    seed: int = 0,
):
    """Every experiment against ``reference``, per dataset, level and metric, as a pandas
    DataFrame with :data:`COLUMNS`."""
    import pandas as pd

    names = [e.name for e in results.manifest.experiments]
    if reference not in names:
        raise CompareError(
            f"no experiment named {reference!r}; the manifest has: {', '.join(names)}"
        )
    radius = results.manifest.radius if radius is None else float(radius)
    rows = []
    for level in LEVELS:
        cases = case_values(results, radius, level)
        for (dataset, experiment), mine in cases.items():
            ref = cases.get((dataset, reference))
            if experiment == reference or ref is None:
                continue
            for metric in METRICS:
                d, by_seed = _pairs(mine, ref, metric)
                lo, hi = paired_bootstrap_interval(d, replicates, seed)
                floor = smallest_p(len(d), two_sided=True) if len(d) else 1.0
                rows.append({
                    "dataset": dataset, "experiment": experiment, "reference": reference,
                    "level": level, "radius": radius, "metric": metric, "pairs": len(d),
                    "mean_difference": float(d.mean()) if len(d) else None,
                    "ci_low": lo if len(d) else None, "ci_high": hi if len(d) else None,
                    "p_two_sided": wilcoxon_two_sided(d) if len(d) else None,
                    "smallest_p": floor, "can_reach_0_05": floor < 0.05, "seeds_paired": by_seed,
                })  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def long_rows(results: Results):
    """challengeR's long layout of the runs' per-case values: algorithm (experiment), case
    (run, or run/surgery), task (dataset and radius), metric, value, level, seed."""
    for level in LEVELS:
        for radius in results.manifest.radii:
            for (dataset, experiment), cases in case_values(results, radius, level).items():
                for key, values in cases.values.items():
                    case = "/".join(str(x) for x in key[1:])
                    for metric in METRICS:
                        yield (experiment, case, f"{dataset} {radius:g} px", metric,
                               values[metric], level, "" if key[0] is None else key[0])  # fmt: skip


def _p_text(row) -> str:
    if row["p_two_sided"] is None:
        return "n/a"
    p = f"{row['p_two_sided']:.3g}"
    if not row["can_reach_0_05"]:
        return f"{p} ({row['pairs']} pairs cannot reach 0.05: smallest {row['smallest_p']:.3g})"
    return f"{p} (smallest {row['smallest_p']:.2g})"


def to_table(frame, reference: str):
    """The comparison as a :class:`~adaptor_score.render.Table` (Markdown, LaTeX, CSV)."""
    from adaptor_score.render import Section, Table

    sections = []
    for (dataset, level), group in frame.groupby(["dataset", "level"], sort=False):
        rows = []
        for experiment, g in group.groupby("experiment", sort=False):
            cells = [experiment, str(int(g["pairs"].iloc[0]))]
            for metric in METRICS:
                r = g[g["metric"] == metric].iloc[0]
                if r["mean_difference"] is None or np.isnan(r["mean_difference"]):
                    cells.append("n/a")
                else:
                    scale, digits = (1, 4) if metric == "f1" else (100, 2)
                    cells.append(f"{r['mean_difference'] * scale:+.{digits}f} "
                                 f"[{r['ci_low'] * scale:+.{digits}f}, {r['ci_high'] * scale:+.{digits}f}]")  # fmt: skip
            cells.append(_p_text(g[g["metric"] == "f1"].iloc[0]))
            rows.append(cells)
        seeds = bool(group["seeds_paired"].any())
        sections.append(
            Section(
                f"{dataset}, per {level}",
                [
                    "Experiment",
                    "Pairs",
                    "ΔF1 [95 % CI]",
                    "ΔPPV % [95 % CI]",
                    "ΔTPR % [95 % CI]",
                    "Wilcoxon p, F1 (two-sided)",
                ],  # fmt: skip
                rows,
                f"experiment minus {reference}; paired bootstrap interval of the mean difference"
                + ("; seed is a paired factor" if seeds else ""),
            )
        )
    return Table(
        "compare",
        f"Paired differences against {reference} (per fold and per surgery)",
        sections,
    )


def write_comparison(results: Results, frame, reference: str, out_dir: str | Path) -> list[Path]:
    """compare.md, compare.tex, compare.csv (one row per dataset, experiment, level, metric) and
    per-case.csv (challengeR's long layout) in ``out_dir``."""
    from adaptor_score import atomic
    from adaptor_score.outputs import write_csv
    from adaptor_score.render import to_latex, to_markdown

    out = Path(out_dir)
    table = to_table(frame, reference)
    paths = [out / "compare.md", out / "compare.tex", out / "compare.csv", out / "per-case.csv"]
    atomic.write_text(paths[0], to_markdown(table))
    atomic.write_text(paths[1], to_latex(table))
    rows = frame.astype(object).where(frame.notna(), "").itertuples(index=False)
    write_csv(paths[2], COLUMNS, rows)
    write_csv(paths[3], LONG_COLUMNS, long_rows(results))
    return paths

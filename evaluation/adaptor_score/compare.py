"""Paired comparisons of experiments against a reference: is "+0.0082 F1" more than what the
fold, the surgery or the seed moves?

**The unit of analysis** is what was sampled independently; everything measured more than once on
it is averaged within it before any test, so no p-value counts a repeated measurement as a new
pair:

* a cross-validation (``folds`` in the manifest): the unit is the **fold** (a run on its own
  frames) or the **surgery** (each surgery lies in one fold); seeds are averaged within it;
* a test set predicted by several models (``runs``): the unit is the **surgery**, its value
  averaged over the models and seeds; and, labelled **model**, one pair per model (every model
  sees the same frames, so these compare models, not samples of the data; say so when quoting).

A case's metric comes from its counts (PPV, TPR, F1 with the scorer's rule,
:func:`adaptor_score.metrics.ratios`). For each level and metric: the number of units, the
measurements averaged into each (``repeats``), the mean paired difference (experiment minus
reference), the **Hodges-Lehmann estimate with the exact signed-rank interval**
(:func:`adaptor_score.signrank.hodges_lehmann`; where 95 % cannot be reached with so few units,
the highest reachable level instead of an interval), which agrees with the test except where
zero or tied differences make the two disagree on 0: ``interval_agrees_with_test`` says so per row, and the Markdown and
LaTeX tables mark such a cell and explain it, the paired
bootstrap 95 % interval of the mean only from :data:`BOOTSTRAP_FROM` units on (a percentile
bootstrap of 4-6 pairs excludes 0 where the exact test gives 0.125-0.25), and the two-sided
Wilcoxon p-value of F1 with its method and the smallest p those units can give by that method.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from adaptor_score.metrics import ratios
from adaptor_score.results import Results
from adaptor_score.signrank import hodges_lehmann, wilcoxon
from adaptor_score.stats import paired_bootstrap_interval
from adaptor_score.units import BOOTSTRAP_FROM, WORDS, count

METRICS = ("f1", "ppv", "tpr")
LEVELS = ("fold", "model", "surgery")
COLUMNS = (
    "dataset", "experiment", "reference", "level", "radius", "metric", "pairs", "repeats",
    "mean_difference", "hl_estimate", "hl_low", "hl_high", "hl_level", "interval_note",
    "interval_agrees_with_test", "ci_low", "ci_high", "p_two_sided", "p_method", "smallest_p",
    "can_reach_0_05", "nonzero_pairs",
)  # fmt: skip
LONG_COLUMNS = ("algorithm", "case", "task", "metric", "value", "level", "seed")
UNIT_WORDS = {level: WORDS[level] for level in LEVELS}
DISAGREES = "interval and test disagree: see the note"
DISAGREE_NOTE = (
    "Where marked, the interval and the test disagree on whether 0 is excluded: the test drops"
    " zero differences and ranks tied sizes together, the interval (inverting the untied exact"
    " test) keeps them; read the p-value for the decision and the interval as the size."
)


class CompareError(ValueError):
    """A comparison that cannot be made (an unknown reference experiment)."""


def _measurements(results: Results, radius: float) -> dict[tuple, dict[tuple, np.ndarray]]:
    """(dataset, experiment, kind) -> (seed, run, surgery) -> summed TP, FP, FN."""
    out: dict[tuple, dict[tuple, np.ndarray]] = defaultdict(dict)
    for c in results.cases:
        if c.radius != radius:
            continue
        bucket = out[c.dataset, c.experiment, c.kind]
        key = (c.seed, c.run, c.surgery)
        bucket[key] = bucket.get(key, 0) + np.array([c.tp, c.fp, c.fn])
    return out


def _levels(kind: str) -> tuple[str, ...]:
    return ("fold", "surgery") if kind == "folds" else ("model", "surgery")


def unit_values(results: Results, radius: float, level: str):
    """(dataset, experiment) -> unit -> (metric -> value averaged over its repeats, repeats);
    the measurements of a unit are its seeds (and, per surgery on a test set, its models)."""
    out: dict[tuple[str, str], dict] = {}
    for (dataset, experiment, kind), cases in _measurements(results, radius).items():
        if level not in _levels(kind):
            continue
        per_unit: dict = defaultdict(lambda: defaultdict(dict))  # unit -> (seed, run) -> counts
        for (seed, run, surgery), counts in cases.items():
            unit = run if level in ("fold", "model") else surgery
            slot = per_unit[unit]
            slot[seed, run] = slot.get((seed, run), 0) + counts
        values = {}
        for unit, measured in per_unit.items():
            metrics = [dict(zip(("ppv", "tpr", "f1"), ratios(*c))) for c in measured.values()]
            values[unit] = ({m: math.fsum(x[m] for x in metrics) / len(metrics) for m in METRICS},
                            len(metrics))  # fmt: skip
        out[dataset, experiment] = values
    return out


def paired_differences(mine: dict, ref: dict, metric: str) -> tuple[np.ndarray, int]:
    """Differences on the units both have, in a fixed order, and the most repeats averaged."""
    keys = sorted(set(mine) & set(ref), key=repr)
    d = np.array([mine[k][0][metric] - ref[k][0][metric] for k in keys])
    repeats = max((max(mine[k][1], ref[k][1]) for k in keys), default=0)
    return d, repeats


def compare(
    results: Results,
    reference: str,
    radius: float | None = None,
    replicates: int = 2000,
    seed: int = 0,
):
    """Every experiment against ``reference``, per dataset, unit and metric, as a pandas
    DataFrame with :data:`COLUMNS`."""
    import pandas as pd

    names = [e.name for e in results.manifest.experiments]
    if reference not in names:
        raise CompareError(
            f"no experiment named {reference!r}; the manifest has: {', '.join(names)}"
        )
    radius = results.manifest.radius if radius is None else float(radius)
    if radius not in [float(r) for r in results.manifest.radii]:
        scored = ", ".join(f"{r:g}" for r in results.manifest.radii)
        raise CompareError(f"radius {radius:g} px was not scored; the manifest scores {scored} px")
    rows = []
    for level in LEVELS:
        units = unit_values(results, radius, level)
        for (dataset, experiment), mine in units.items():
            ref = units.get((dataset, reference))
            if experiment == reference or ref is None:
                continue
            for metric in METRICS:
                d, repeats = paired_differences(mine, ref, metric)
                rows.append({"dataset": dataset, "experiment": experiment, "reference": reference,
                             "level": level, "radius": radius, "metric": metric, "pairs": len(d),
                             "repeats": repeats, **_statistics(d, replicates, seed)})  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _statistics(d: np.ndarray, replicates: int, seed: int) -> dict:
    if not len(d):
        return {"interval_note": "no paired units", "can_reach_0_05": False}
    test = wilcoxon(d)
    iv = hodges_lehmann(d)
    boot = len(d) >= BOOTSTRAP_FROM
    lo, hi = paired_bootstrap_interval(d, replicates, seed) if boot else (None, None)
    return {
        "mean_difference": math.fsum(d) / len(d), "hl_estimate": iv.estimate, "hl_low": iv.low,
        "hl_high": iv.high, "hl_level": iv.level, "interval_note": iv.note,
        "interval_agrees_with_test": iv.agrees, "ci_low": lo, "ci_high": hi,
        "p_two_sided": test.p, "p_method": test.method, "smallest_p": test.smallest_p,
        "can_reach_0_05": test.smallest_p < 0.05, "nonzero_pairs": test.n,
    }  # fmt: skip


def long_rows(results: Results):
    """challengeR's long layout of the per-unit values: algorithm (experiment), case (the unit),
    task (dataset and radius), metric, value, level, seed (empty: averaged over seeds)."""
    for level in LEVELS:
        for radius in results.manifest.radii:
            for (dataset, experiment), units in unit_values(results, radius, level).items():
                for unit, (values, _) in units.items():
                    for metric in METRICS:
                        yield (experiment, unit, f"{dataset} {radius:g} px", metric,
                               values[metric], level, "")  # fmt: skip


def p_text(row) -> str:
    """The p-value with its method, its unit and n, and what those units can reach."""
    if row["p_two_sided"] is None or _missing(row["p_two_sided"]):
        return "n/a"
    method = "exact" if row["p_method"].startswith("exact") else "normal approx."
    units = count(row["level"], int(row["pairs"]))
    tied = int(row["pairs"]) - int(row.get("nonzero_pairs", row["pairs"]) or 0)
    if tied > 0:  # zero differences are dropped: fewer pairs count, and the floor rises
        units += f", {tied} without a difference"
    p = f"{row['p_two_sided']:.3g} ({method}, {units}"
    if not row["can_reach_0_05"]:
        return f"{p}; cannot reach 0.05: smallest {row['smallest_p']:.3g})"
    return f"{p}; smallest {row['smallest_p']:.2g})"


def _disagrees(r) -> bool:
    """The row's interval and test disagree on 0 (False in the column, not missing)."""
    agrees = r.get("interval_agrees_with_test")
    return agrees is not None and not _missing(agrees) and not bool(agrees)


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and np.isnan(x))


def _cell(r, metric: str) -> str:
    scale, digits = (1, 4) if metric == "f1" else (100, 2)
    if _missing(r["hl_estimate"]):
        return "n/a"
    est = f"{r['hl_estimate'] * scale:+.{digits}f}"
    if _missing(r["hl_low"]):
        if r["pairs"] < 2:
            return f"{est}; no interval (1 pair)"
        if r["hl_level"]:
            return f"{est}; 95 % unreachable (at most {r['hl_level'] * 100:.4g} %)"
        return est
    level = "" if round(r["hl_level"], 3) == 0.95 else f" at {r['hl_level'] * 100:.1f} %"
    cell = (f"{est} [{r['hl_low'] * scale:+.{digits}f}, {r['hl_high'] * scale:+.{digits}f}]"
            f"{level}")  # fmt: skip
    if metric == "f1" and _disagrees(r):
        cell += f" ({DISAGREES})"
    return cell


def to_table(frame, reference: str):
    """The comparison as a :class:`~adaptor_score.render.Table` (Markdown, LaTeX, CSV)."""
    from adaptor_score.render import Section, Table

    sections = []
    for (dataset, level), group in frame.groupby(["dataset", "level"], sort=False):
        rows = []
        for experiment, g in group.groupby("experiment", sort=False):
            first = g.iloc[0]
            cells = [experiment, str(int(first["pairs"])), str(int(first["repeats"] or 0))]
            for metric in METRICS:
                cells.append(_cell(g[g["metric"] == metric].iloc[0], metric))
            cells.append(p_text(g[g["metric"] == "f1"].iloc[0]))
            rows.append(cells)
        unit = UNIT_WORDS[level][0]
        caveat = (" Every model predicts the same frames: these pairs compare models, not"
                  " samples of the data." if level == "model" else "")  # fmt: skip
        sections.append(
            Section(
                f"{dataset}, per {unit}",
                ["Experiment", f"{UNIT_WORDS[level][1].capitalize()} (n)", "Repeats averaged",
                 "ΔF1 (HL) [95 % CI]", "ΔPPV % (HL) [95 % CI]", "ΔTPR % (HL) [95 % CI]",
                 "Wilcoxon p, F1 (two-sided)"],  # fmt: skip
                rows,
                f"experiment minus {reference}, one pair per {unit} (its seeds"
                + (" and models" if level == "surgery" else "")
                + " averaged first); Hodges-Lehmann estimate and exact signed-rank interval,"
                " which agree with the test unless marked." + caveat
                + (" " + DISAGREE_NOTE if any(_disagrees(r) for _, r in group.iterrows()
                                              if r["metric"] == "f1") else ""),
            )
        )
    return Table("compare", f"Paired differences against {reference}", sections)


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

"""Tables like the paper's Tables 1-4, from a manifest of experiments and their runs.

The manifest (format, checks, reader and writer) is :mod:`adaptor_score.manifest`; rendering is
:mod:`adaptor_score.render`. Here: scoring every run, and building the tables.

``folds`` runs are scored on their fold's frames only; ``runs`` are each scored on the whole
dataset (a test set predicted by each fold's model). Tables show mean ± sample standard deviation
over runs; PPV and TPR in percent, F1 in 0-1, as in the paper. Table 4 shows the best experiment
of each cross-validation dataset, chosen by mean F1 there, and for a test set the experiment
chosen on its ``selected_on`` dataset: never one chosen on the test set itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adaptor_score.folds import assign_folds
from adaptor_score.frames import Problem
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.manifest import (
    PARAM_KEYS,
    Experiment,
    Manifest,
    ManifestError,
    load_manifest,
)
from adaptor_score.metrics import Summary
from adaptor_score.outputs import write_csv
from adaptor_score.render import (
    Section,
    Stat,
    Table,
    to_latex,
    to_markdown,
    write_table_csv,
)
from adaptor_score.scoring import mean_std, score

__all__ = ["ManifestError", "Results", "load_manifest", "run_manifest", "write_tables"]

RESULT_COLUMNS = (
    "dataset",
    "experiment",
    *PARAM_KEYS,
    "run",
    "radius",
    "tp",
    "fp",
    "fn",
    "ppv",
    "tpr",
    "f1",
    "rmse",
    "rmse_images",
    "images",
)


# ----------------------------------------------------------------------------- scoring


@dataclass
class ResultRow:
    dataset: str
    experiment: Experiment
    run: str
    summary: Summary

    def as_dict(self) -> dict:
        s = self.summary
        return {
            "dataset": self.dataset,
            "experiment": self.experiment.name,
            **{k: self.experiment.params.get(k, "") for k in PARAM_KEYS},
            "run": self.run,
            **{k: getattr(s, k) for k in RESULT_COLUMNS[len(PARAM_KEYS) + 3 :]},
        }


@dataclass
class Results:
    manifest: Manifest
    rows: list[ResultRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def select(self, dataset: str, experiment: Experiment, radius: float) -> list[Summary]:
        return [
            r.summary
            for r in self.rows
            if r.dataset == dataset and r.experiment is experiment and r.summary.radius == radius
        ]


def run_manifest(manifest: Manifest) -> Results:
    """Score every run of every experiment; problems are collected, never fatal."""
    results = Results(manifest)
    gts: dict[str, GroundTruth] = {}
    fold_of: dict[str, dict] = {}
    for ds in manifest.datasets.values():
        gts[ds.name] = load_ground_truth(ds.ground_truth)
        keys = gts[ds.name].keys
        fold_of[ds.name] = dict(zip(keys, assign_folds(keys, ds.folds)))
    for exp in manifest.experiments:
        for res in exp.results:
            ds = manifest.datasets[res["dataset"]]
            for run, pred_dir in res["runs"].items():
                frames = None
                if res["kind"] == "folds":
                    frames = [k for k, f in fold_of[ds.name].items() if f == run]
                    if not frames:
                        results.problems.append(
                            Problem(
                                str(pred_dir),
                                f"experiment {exp.name}: fold {run!r} has no"
                                f" frames in dataset {ds.name}; run skipped",
                            )
                        )
                        continue
                report = score(gts[ds.name], pred_dir, manifest.radii, frames=frames)
                for p in report.problems:
                    results.problems.append(
                        Problem(p.file, f"[{ds.name} / {exp.name} / {run}] {p.problem}", p.frame)
                    )
                for s in report.overall():
                    results.rows.append(ResultRow(ds.name, exp, run, s))
    return results


# ----------------------------------------------------------------------------- tables


def _stat(values: list[float | None], metric: str, note: str = "") -> Stat:
    m, s = mean_std(values)
    if metric in ("ppv", "tpr"):
        return Stat(m, s, 2, 100.0, note=note)
    if metric == "f1":
        return Stat(m, s, 4, note=note)
    return Stat(m, s, 2, note=note)


def _datasets_in_use(results: Results) -> list[str]:
    return [d for d in results.manifest.datasets if any(r.dataset == d for r in results.rows)]


def _experiments_in(results: Results, dataset: str) -> list[Experiment]:
    return [
        e
        for e in results.manifest.experiments
        if results.select(dataset, e, results.manifest.radius)
    ]


def table1(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        exps = _experiments_in(results, ds)
        # The paper's Table 1 fixes σ2; when the manifest varies it, rows need it to differ.
        with_s2 = any("sigma2" in e.params for e in exps)
        rows = []
        for e in exps:
            runs = results.select(ds, e, r0)
            s2 = [f"{e.params['sigma2']:g}" if "sigma2" in e.params else "-"] if with_s2 else []
            rows.append(
                [e.label(), e.params, *s2]
                + [_stat([getattr(s, m) for s in runs], m) for m in ("ppv", "tpr", "f1")]
            )
        columns = ["Experiment", "Mask distribution", *(["σ2"] if with_s2 else [])]
        sections.append(
            Section(
                results.manifest.datasets[ds].title, columns + ["PPV (%)", "TPR (%)", "F1"], rows
            )
        )
    return Table("table1", f"PPV, TPR and F1 at {r0:g} px, mean ± std over runs", sections)


def _sigma_grid(results: Results, dataset: str):
    exps = [e for e in _experiments_in(results, dataset) if "sigma2" in e.params]
    sig2 = sorted({float(e.params["sigma2"]) for e in exps})
    groups: dict[tuple, dict[float, Experiment]] = {}
    for e in exps:
        key = (
            e.label(),
            tuple(sorted((k, v) for k, v in e.params.items() if k not in ("sigma2", "model"))),
        )
        groups.setdefault(key, {})[float(e.params["sigma2"])] = e
    return sig2, groups


def table2(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        sig2, groups = _sigma_grid(results, ds)
        if not groups:
            continue
        rows = []
        for metric, label in (("ppv", "PPV (%)"), ("tpr", "TPR (%)"), ("f1", "F1")):
            for (model, params), by_s2 in groups.items():
                cells = []
                for s2 in sig2:
                    e = by_s2.get(s2)
                    runs = results.select(ds, e, r0) if e else []
                    cells.append(_stat([getattr(s, metric) for s in runs], metric) if runs else "")
                rows.append([label, model, dict(params)] + cells)
        sections.append(
            Section(
                results.manifest.datasets[ds].title,
                ["Metric", "Experiment", "Mask distribution"] + [f"σ2 = {s:g}" for s in sig2],
                rows,
            )
        )
    return Table("table2", f"σ1 (target) against σ2 (Gaussian layer), at {r0:g} px", sections)


def table3(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        sig2, groups = _sigma_grid(results, ds)
        if not groups:
            continue
        rows = []
        for (model, params), by_s2 in groups.items():
            cells = []
            for s2 in sig2:
                e = by_s2.get(s2)
                runs = results.select(ds, e, r0) if e else []
                if not runs:
                    cells.append("")
                    continue
                # Fold runs cover disjoint frames: their counts add up. Test runs repeat the same
                # frames for each model: report one model's count range instead of a sum.
                kind = next(r["kind"] for r in e.results if r["dataset"] == ds)
                if kind == "folds":
                    note = f"[{sum(s.rmse_images for s in runs)}/{sum(s.images for s in runs)}]"
                else:
                    lo = min(s.rmse_images for s in runs)
                    hi = max(s.rmse_images for s in runs)
                    note = f"[{lo if lo == hi else f'{lo}-{hi}'}/{runs[0].images}]"
                cells.append(_stat([s.rmse for s in runs], "rmse", note))
            rows.append([model, dict(params)] + cells)
        sections.append(
            Section(
                results.manifest.datasets[ds].title,
                ["Experiment", "Mask distribution"] + [f"σ2 = {s:g}" for s in sig2],
                rows,
                note="RMSE in px, mean ± std over runs; [images with RMSE / images]",
            )
        )
    return Table("table3", "RMSE (px) of σ1 against σ2 (lower is better)", sections)


def _kind(results: Results, dataset: str) -> str:
    kinds = {
        r["kind"]
        for e in results.manifest.experiments
        for r in e.results
        if r["dataset"] == dataset
    }
    return "folds" if "folds" in kinds else "runs"


def selection_dataset(results: Results, dataset: str) -> str | None:
    """The dataset on which Table 4's experiment for ``dataset`` is chosen: itself when it is
    scored fold by fold (cross-validation), else its ``selected_on``, else the only
    cross-validation dataset there is; None when that is ambiguous."""
    if _kind(results, dataset) == "folds":
        return dataset
    chosen = results.manifest.datasets[dataset].selected_on
    if chosen is not None:
        return chosen
    cv = [d for d in _datasets_in_use(results) if _kind(results, d) == "folds"]
    return cv[0] if len(cv) == 1 else None


def best_experiment(results: Results, dataset: str) -> Experiment | None:
    """The experiment with the highest mean F1 at the ranking radius on ``dataset``."""
    r0 = results.manifest.radius
    exps = _experiments_in(results, dataset)
    if not exps:
        return None
    return max(
        exps, key=lambda e: mean_std([s.f1 for s in results.select(dataset, e, r0)])[0] or 0.0
    )


def table4(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        chosen_on = selection_dataset(results, ds)
        best = best_experiment(results, chosen_on) if chosen_on else None
        if best is None or not results.select(ds, best, r0):
            why = (
                "no cross-validation dataset to choose on (set selected_on)"
                if chosen_on is None
                else f"the experiment chosen on {chosen_on} has no runs here"
            )
            results.problems.append(Problem(str(results.manifest.path), f"Table 4, {ds}: {why}"))
            continue
        rows = []
        for r in results.manifest.radii:
            runs = results.select(ds, best, r)
            rows.append(
                [best.label(), best.params, f"{r:g} px"]
                + [_stat([getattr(s, m) for s in runs], m) for m in ("ppv", "tpr", "f1")]
            )
        how = (
            f"best experiment by mean F1 at {r0:g} px on this cross-validation: {best.name}"
            if chosen_on == ds
            else f"experiment chosen on {chosen_on} (best mean F1 at {r0:g} px there), not on"
            f" this set: {best.name}"
        )
        sections.append(
            Section(
                results.manifest.datasets[ds].title,
                ["Experiment", "Mask distribution", "Radius", "PPV (%)", "TPR (%)", "F1"],
                rows,
                note=how,
            )
        )
    return Table(
        "table4",
        "Evaluation radius 6/8/10 px for the experiment chosen on cross-validation data",
        sections,
    )


def write_tables(results: Results, out_dir: str | Path) -> list[Path]:
    """Write results.csv, problems.csv and Tables 1-4 as .md, .tex and .csv; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / "results.csv"
    write_csv(
        path,
        RESULT_COLUMNS,
        ([("" if v is None else v) for v in r.as_dict().values()] for r in results.rows),
    )
    written.append(path)
    path = out_dir / "problems.csv"
    write_csv(path, ["file", "problem"], ([p.file, p.problem] for p in results.problems))
    written.append(path)
    combined = []
    for build in (table1, table2, table3, table4):
        t = build(results)
        if not t.sections:
            continue
        md = to_markdown(t)
        combined.append(md)
        for suffix, text in ((".md", md), (".tex", to_latex(t))):
            (out_dir / f"{t.name}{suffix}").write_text(text, encoding="utf-8")
            written.append(out_dir / f"{t.name}{suffix}")
        write_table_csv(t, out_dir / f"{t.name}.csv")
        written.append(out_dir / f"{t.name}.csv")
    (out_dir / "tables.md").write_text("\n".join(combined), encoding="utf-8")
    written.append(out_dir / "tables.md")
    return written

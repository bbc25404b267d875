"""Tables like the paper's Tables 1-4, from a TOML manifest of experiments and their runs.

Manifest (paths relative to the manifest file)::

    radius = 6                 # ranking radius of Tables 1-3 (default 6)
    radii = [6, 8, 10]         # radii scored; Table 4 shows all of them

    [[dataset]]
    name = "A.1"
    title = "Cross-validation on OR data (A.1)"
    ground_truth = "data/A1"
    folds = "folds.csv"        # optional; default leave-one-folder-out

    [[experiment]]
    name = "variant1-g3-s1"    # unique id
    model = "Variant 1"        # the "Experiment" column
    distribution = "gauss"     # gauss | tanh | binary
    sigma1 = 3                 # or alpha = 7 for tanh
    sigma2 = 1
      [[experiment.results]]
      dataset = "A.1"
      folds = { "20190319_aa5346" = "runs/v1/fold1/val", "20190320_aa6528" = "runs/v1/fold2/val" }
      [[experiment.results]]
      dataset = "A.2"
      runs = ["runs/v1/fold1/test", "runs/v1/fold2/test"]   # each scored on all frames

``folds`` runs are scored on their fold's frames only; ``runs`` are each scored on the whole
dataset (a test set predicted by each fold's model). Tables show mean ± sample standard deviation
over runs; PPV and TPR in percent, F1 in 0-1, as in the paper.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adaptor_score.folds import assign_folds
from adaptor_score.frames import Problem
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.metrics import Summary
from adaptor_score.scoring import mean_std, score

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PARAM_KEYS = ("model", "distribution", "sigma1", "sigma2", "alpha", "variant")
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


class ManifestError(Exception):
    def __init__(self, file: Path | str, problem: str):
        self.file = str(file)
        self.problem = problem
        super().__init__(f"{file}: {problem}")


@dataclass
class Dataset:
    name: str
    title: str
    ground_truth: Path
    folds: Path | None = None


@dataclass
class Experiment:
    name: str
    params: dict
    results: list[dict]

    def label(self) -> str:
        return str(self.params.get("model") or self.name)


@dataclass
class Manifest:
    path: Path
    radius: float
    radii: list[float]
    datasets: dict[str, Dataset]
    experiments: list[Experiment]


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ManifestError(path, f"cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(path, f"not valid TOML: {e}") from None
    base = path.parent
    radius = float(doc.get("radius", 6))
    radii = sorted({float(r) for r in doc.get("radii", [radius])} | {radius})
    datasets = {}
    for d in doc.get("dataset", []):
        if "name" not in d or "ground_truth" not in d:
            raise ManifestError(path, "each [[dataset]] needs name and ground_truth")
        datasets[d["name"]] = Dataset(
            name=d["name"],
            title=d.get("title", d["name"]),
            ground_truth=base / d["ground_truth"],
            folds=base / d["folds"] if d.get("folds") else None,
        )
    experiments, seen = [], set()
    for e in doc.get("experiment", []):
        name = e.get("name")
        if not name or name in seen:
            raise ManifestError(path, f"each [[experiment]] needs a unique name (got {name!r})")
        seen.add(name)
        results = []
        for r in e.get("results", []):
            if r.get("dataset") not in datasets:
                raise ManifestError(
                    path, f"experiment {name}: unknown dataset {r.get('dataset')!r}"
                )
            if ("folds" in r) == ("runs" in r):
                raise ManifestError(path, f"experiment {name}: give either folds or runs")
            if "folds" in r:
                runs = {str(k): base / v for k, v in r["folds"].items()}
                results.append({"dataset": r["dataset"], "kind": "folds", "runs": runs})
            else:
                runs = {f"run{i + 1}": base / v for i, v in enumerate(r["runs"])}
                results.append({"dataset": r["dataset"], "kind": "runs", "runs": runs})
        params = {k: e[k] for k in PARAM_KEYS if k in e}
        experiments.append(Experiment(name, params, results))
    if not datasets or not experiments:
        raise ManifestError(path, "needs at least one [[dataset]] and one [[experiment]]")
    return Manifest(path, radius, radii, datasets, experiments)


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


@dataclass(frozen=True)
class Stat:
    """A mean ± std cell; ``scale`` 100 shows fractions as percent."""

    mean: float | None
    std: float | None
    digits: int
    scale: float = 1.0
    std_digits: int = 2
    note: str = ""

    def text(self, pm: str = "±") -> str:
        if self.mean is None:
            return "n/a" + (f" {self.note}" if self.note else "")
        out = f"{self.mean * self.scale:.{self.digits}f}"
        if self.std is not None:
            out += f" {pm} {self.std * self.scale:.{self.std_digits}f}"
        return out + (f" {self.note}" if self.note else "")


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""


@dataclass
class Table:
    name: str
    caption: str
    sections: list[Section]


def distribution_label(params: dict) -> str:
    """``Gauss, σ1 = 3``-style label of a target distribution.

    >>> distribution_label({"distribution": "tanh", "alpha": 10.5})
    'Tanh, α = 10.5'
    """
    dist = str(params.get("distribution", "")).lower()
    if dist in ("gauss", "gaussian") and "sigma1" in params:
        return f"Gauss, σ1 = {params['sigma1']:g}"
    if dist == "tanh" and "alpha" in params:
        return f"Tanh, α = {params['alpha']:g}"
    if dist == "binary":
        return "Binary"
    return dist.capitalize() or "-"


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


def table4(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        exps = _experiments_in(results, ds)
        best = max(
            exps, key=lambda e: mean_std([s.f1 for s in results.select(ds, e, r0)])[0] or 0.0
        )
        rows = []
        for r in results.manifest.radii:
            runs = results.select(ds, best, r)
            rows.append(
                [best.label(), best.params, f"{r:g} px"]
                + [_stat([getattr(s, m) for s in runs], m) for m in ("ppv", "tpr", "f1")]
            )
        sections.append(
            Section(
                results.manifest.datasets[ds].title,
                ["Experiment", "Mask distribution", "Radius", "PPV (%)", "TPR (%)", "F1"],
                rows,
                note=f"best experiment by mean F1 at {r0:g} px: {best.name}",
            )
        )
    return Table("table4", "Evaluation radius 6/8/10 px for the best experiment", sections)


_LATEX_ESCAPES = [
    ("\\", r"\textbackslash{}"),
    ("&", r"\&"),
    ("%", r"\%"),
    ("_", r"\_"),
    ("#", r"\#"),
    ("σ1", r"$\sigma_1$"),
    ("σ2", r"$\sigma_2$"),
    ("α", r"$\alpha$"),
    ("±", r"$\pm$"),
]


def latex_escape(text: str) -> str:
    for a, b in _LATEX_ESCAPES:
        text = text.replace(a, b)
    return text


def _cell_text(cell, latex: bool) -> str:
    if isinstance(cell, Stat):
        return latex_escape(cell.text()) if latex else cell.text()
    text = distribution_label(cell) if isinstance(cell, dict) else str(cell)
    return latex_escape(text) if latex else text


def to_markdown(table: Table) -> str:
    out = [f"## {table.name}: {table.caption}", ""]
    for sec in table.sections:
        out += [f"### {sec.title}", ""]
        if sec.note:
            out += [f"_{sec.note}_", ""]
        out.append("| " + " | ".join(sec.columns) + " |")
        out.append("|" + "|".join("---" for _ in sec.columns) + "|")
        for row in sec.rows:
            out.append("| " + " | ".join(_cell_text(c, False) for c in row) + " |")
        out.append("")
    return "\n".join(out)


def to_latex(table: Table) -> str:
    ncol = max(len(s.columns) for s in table.sections) if table.sections else 1
    out = [
        r"\begin{table}",
        r"\centering",
        rf"\caption{{{latex_escape(table.caption)}}}",
        r"\begin{tabular}{" + "l" * ncol + "}",
        r"\hline",
    ]
    for sec in table.sections:
        out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textbf{{{latex_escape(sec.title)}}}}} \\")
        if sec.note:
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\small {latex_escape(sec.note)}}} \\")
        out.append(" & ".join(_cell_text(c, True) for c in sec.columns) + r" \\ \hline")
        for row in sec.rows:
            out.append(" & ".join(_cell_text(c, True) for c in row) + r" \\")
        out.append(r"\hline")
    out += [r"\end{tabular}", rf"\label{{tab:{table.name}}}", r"\end{table}", ""]
    return "\n".join(out)


def _numbers(cell) -> list:
    if not isinstance(cell, Stat):
        return ["", ""]
    return [
        "" if cell.mean is None else round(cell.mean * cell.scale, 6),
        "" if cell.std is None else round(cell.std * cell.scale, 6),
    ]


def write_csv(table: Table, path: Path) -> None:
    """Numbers, not strings: each mean ± std column becomes a ``mean`` and a ``std`` column."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        last_header = None
        for sec in table.sections:
            is_stat = [
                any(isinstance(r[i], Stat) for r in sec.rows) for i in range(len(sec.columns))
            ]
            header = ["section"]
            for c, stat in zip(sec.columns, is_stat):
                header += [c, f"{c} std"] if stat else [c]
            if header != last_header:
                w.writerow(header)
                last_header = header
            for row in sec.rows:
                out = [sec.title]
                for cell, stat in zip(row, is_stat):
                    out += _numbers(cell) if stat else [_cell_text(cell, False)]
                w.writerow(out)


def write_tables(results: Results, out_dir: str | Path) -> list[Path]:
    """Write results.csv, problems.csv and Tables 1-4 as .md, .tex and .csv; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / "results.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(RESULT_COLUMNS))
        w.writeheader()
        for r in results.rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.as_dict().items()})
    written.append(path)
    path = out_dir / "problems.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "problem"])
        for p in results.problems:
            w.writerow([p.file, p.problem])
    written.append(path)
    combined = []
    for build in (table1, table2, table3, table4):
        t = build(results)
        if not t.sections:
            continue
        md = to_markdown(t)
        combined.append(md)
        for suffix, text in ((".md", md), (".tex", to_latex(t))):
            (out_dir / f"{t.name}{suffix}").write_text(text)
            written.append(out_dir / f"{t.name}{suffix}")
        write_csv(t, out_dir / f"{t.name}.csv")
        written.append(out_dir / f"{t.name}.csv")
    (out_dir / "tables.md").write_text("\n".join(combined))
    written.append(out_dir / "tables.md")
    return written

"""The paper's Tables 1-4 and the close-points analysis (its Fig. 4), built from scored runs.

Cells are mean ± sample standard deviation over runs; PPV and TPR in percent, F1 in 0-1, as in
the paper; a cell averaged over fewer folds than its dataset has says so. Table 4 shows the best
experiment of each cross-validation dataset, chosen by mean F1 there, and for a test set the
experiment chosen on its ``selected_on`` dataset: never one chosen on the test set itself.
"""

from __future__ import annotations

from adaptor_score.figures import close_points_svg
from adaptor_score.frames import Problem
from adaptor_score.manifest import Experiment
from adaptor_score.render import Section, Stat, Table, distribution_label
from adaptor_score.results import Results
from adaptor_score.scoring import mean_std


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


def _full_label(e: Experiment) -> str:
    """What tells two experiments apart: model, target distribution and, where set, σ2 (two
    runs that differ only in σ2 once shared one label in the close-points table and figure)."""
    s2 = f", σ2 = {e.params['sigma2']:g}" if "sigma2" in e.params else ""
    return f"{e.label()}, {distribution_label(e.params)}{s2}"


# Table 2's and 3's rows in the paper: Variant 1 with Gaussian targets, σ1 = 2 and 3.
PAPER_SIGMA_GRID = {("Variant 1", "gaussian", 2.0), ("Variant 1", "gaussian", 3.0)}


def _in_paper_grid(model: str, params) -> bool:
    p = dict(params)
    dist = str(p.get("distribution", "")).lower()
    dist = "gaussian" if dist in ("gauss", "gaussian") else dist
    return (model, dist, float(p.get("sigma1", -1))) in PAPER_SIGMA_GRID


def table1(results: Results) -> Table:
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        exps = _experiments_in(results, ds)
        # The paper's Table 1 fixes σ2; when the manifest varies it, rows need it to differ.
        with_s2 = any("sigma2" in e.params for e in exps)
        seeds = results.seeds(ds)
        rows = []
        for e in exps:
            s2 = [f"{e.params['sigma2']:g}" if "sigma2" in e.params else "-"] if with_s2 else []
            spread = [Stat(results.seed_spread(ds, e, r0, "f1"), None, 4)] if len(seeds) > 1 else []
            rows.append(
                [e.label(), e.params, *s2]
                + [
                    _stat(results.fold_values(ds, e, r0, m), m, results.coverage(ds, e))
                    for m in ("ppv", "tpr", "f1")
                ]
                + spread
            )
        columns = ["Experiment", "Mask distribution", *(["σ2"] if with_s2 else [])]
        columns += ["PPV (%)", "TPR (%)", "F1"] + (["F1 sd over seeds"] if len(seeds) > 1 else [])
        note = (
            f"mean ± sample std over folds of each fold's mean over seeds {seeds}; beside it the"
            " sample std over seeds of the mean over folds: a difference in F1 smaller than it"
            " is within what the training seed alone moves"
            if len(seeds) > 1
            else ""
        )
        sections.append(Section(results.manifest.datasets[ds].title, columns, rows, note=note))
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
    # the paper's rows first, then ours (labelled as such where they are shown)
    ordered = sorted(groups.items(), key=lambda kv: not _in_paper_grid(*kv[0]))
    return sig2, dict(ordered)


def _row_label(model: str, params) -> str:
    return model if _in_paper_grid(model, params) else f"{model} (ours, not in the paper)"


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
                    cells.append(
                        _stat(
                            results.fold_values(ds, e, r0, metric), metric, results.coverage(ds, e)
                        )
                        if runs
                        else ""
                    )
                rows.append([label, _row_label(model, params), dict(params)] + cells)
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
                runs = results.select(ds, e, r0, first_seed_only=True) if e else []
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
                partial = results.coverage(ds, e)
                cells.append(
                    _stat(
                        results.fold_values(ds, e, r0, "rmse"), "rmse", f"{note} {partial}".strip()
                    )
                )
            rows.append([_row_label(model, params), dict(params)] + cells)
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
            rows.append(
                [best.label(), best.params, f"{r:g} px"]
                + [
                    _stat(results.fold_values(ds, best, r, m), m, results.coverage(ds, best))
                    for m in ("ppv", "tpr", "f1")
                ]
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


def close_points(results: Results) -> Table:
    """The paper's Fig. 4 analysis as a table: per dataset, experiment and run, the share of the
    close labels (within the close distance of another label) found against the share of the
    other labels, at the ranking radius; then mean ± std over the runs."""
    r0 = results.manifest.radius
    sections = []
    for ds in _datasets_in_use(results):
        rows = []
        for e in _experiments_in(results, ds):
            runs = [
                r
                for r in results.rows
                if r.dataset == ds and r.experiment is e and r.summary.radius == r0
            ]
            s2 = f"{e.params['sigma2']:g}" if "sigma2" in e.params else "-"
            for r in runs:
                s = r.summary
                run = r.run if r.seed is None else f"{r.run}, seed {r.seed}"
                rows.append(
                    [e.label(), e.params, s2, run, _stat([s.close_tp_share], "ppv"),
                     _stat([s.other_tp_share], "ppv"),
                     f"{s.close_labels}/{s.close_labels + s.other_labels}"]
                )  # fmt: skip
            cover = results.coverage(ds, e)
            rows.append(
                [e.label(), e.params, s2, "mean ± std",
                 _stat(results.fold_values(ds, e, r0, "close_tp_share"), "ppv", cover),
                 _stat(results.fold_values(ds, e, r0, "other_tp_share"), "ppv", cover), ""]
            )  # fmt: skip
        sections.append(
            Section(
                results.manifest.datasets[ds].title,
                [
                    "Experiment",
                    "Mask distribution",
                    "σ2",
                    "Run",
                    "Close found (%)",
                    "Other found (%)",
                    "Close labels",
                ],
                rows,
            )
        )
    return Table(
        "close_points",
        f"Labels found at {r0:g} px: within 15 px of another label against the rest (cf. the paper's Fig. 4)",
        sections,
    )


def close_points_figure(results: Results) -> str:
    """:func:`close_points` as an SVG bar chart (mean and std over runs)."""
    r0 = results.manifest.radius
    groups = []
    for ds in _datasets_in_use(results):
        entries = []
        for e in _experiments_in(results, ds):
            runs = [
                r.summary
                for r in results.rows
                if r.dataset == ds and r.experiment is e and r.summary.radius == r0
            ]
            cm, cs = mean_std([s.close_tp_share for s in runs])
            om, os_ = mean_std([s.other_tp_share for s in runs])
            per_run = [
                (r.run, r.summary.close_tp_share, r.summary.other_tp_share)
                for r in results.rows
                if r.dataset == ds and r.experiment is e and r.summary.radius == r0
            ]
            entries.append((_full_label(e), cm or 0.0, cs or 0.0, om or 0.0, os_ or 0.0, per_run))
        groups.append((results.manifest.datasets[ds].title, entries))
    return close_points_svg(groups)

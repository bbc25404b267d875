"""Scoring every run of a manifest: one row per (dataset, experiment, run, radius).

``folds`` runs are scored on their fold's frames only; ``runs`` are each scored on the whole
dataset (a test set predicted by each fold's model). A run folder that does not exist is a
problem and is not counted (a missing run is not a run without predictions); a fold of the
dataset that a cross-validation lacks is listed, and :meth:`Results.coverage` tells the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from adaptor_score.folds import assign_folds
from adaptor_score.frames import Problem
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.manifest import PARAM_KEYS, Experiment, Manifest
from adaptor_score.metrics import Summary
from adaptor_score.scoring import METRIC_KEYS, mean_std, score

# One row per run and radius: who and what, then the metrics every score report has.
RESULT_COLUMNS = ("dataset", "experiment", *PARAM_KEYS, "seed", "run", *METRIC_KEYS)


# ----------------------------------------------------------------------------- scoring


@dataclass
class ResultRow:
    dataset: str
    experiment: Experiment
    run: str
    summary: Summary
    seed: int | None = None  # the training seed, when the manifest names one

    def as_dict(self) -> dict:
        s = self.summary
        return {
            "dataset": self.dataset,
            "experiment": self.experiment.name,
            **{k: self.experiment.params.get(k, "") for k in PARAM_KEYS},
            "seed": "" if self.seed is None else self.seed,
            "run": self.run,
            **{k: getattr(s, k) for k in METRIC_KEYS},
        }


@dataclass(frozen=True)
class CaseRow:
    """One run's counts over one surgery (or simulation) of its frames: the per-case values
    that paired comparisons and challengeR's analyses start from."""

    dataset: str
    experiment: str
    seed: int | None
    run: str
    surgery: str
    radius: float
    tp: int
    fp: int
    fn: int
    kind: str = "folds"  # "folds": each run on its own fold; "runs": every run on the same frames


@dataclass
class Results:
    manifest: Manifest
    rows: list[ResultRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    # (dataset, experiment name) -> folds a complete cross-validation has
    expected: dict[tuple[str, str], int] = field(default_factory=dict)

    def coverage(self, dataset: str, experiment: Experiment) -> str:
        """``"3/4 folds"`` for an incomplete cross-validation, else ``""``: every cell averaged
        over fewer folds than the dataset has says so."""
        want = self.expected.get((dataset, experiment.name))
        have = len(
            {r.run for r in self.rows if r.dataset == dataset and r.experiment is experiment}
        )
        return f"({have}/{want} folds)" if want and have < want else ""

    def to_frame(self):
        """The long results (``results.csv``) as a pandas DataFrame: one row per dataset,
        experiment, run and radius."""
        import pandas as pd

        return pd.DataFrame([r.as_dict() for r in self.rows], columns=list(RESULT_COLUMNS))

    def select(
        self, dataset: str, experiment: Experiment, radius: float, first_seed_only: bool = False
    ) -> list[Summary]:
        """Every run's summary; with ``first_seed_only``, those of the lowest training seed (for
        counts that would repeat once per seed, such as images)."""
        rows = [
            r
            for r in self.rows
            if r.dataset == dataset and r.experiment is experiment and r.summary.radius == radius
        ]
        seeds = sorted({r.seed for r in rows if r.seed is not None})
        if first_seed_only and seeds:
            rows = [r for r in rows if r.seed in (None, seeds[0])]
        return [r.summary for r in rows]

    def fold_values(
        self, dataset: str, experiment: Experiment, radius: float, metric: str
    ) -> list[float | None]:
        """One value per run (fold): the metric, averaged over the training seeds where a run
        was trained with several. Without seeds, each run's own value."""
        by_run: dict[str, list[float]] = {}
        for r in self.rows:
            if r.dataset == dataset and r.experiment is experiment and r.summary.radius == radius:
                v = getattr(r.summary, metric)
                by_run.setdefault(r.run, [])
                if v is not None:
                    by_run[r.run].append(v)
        return [mean_std(v)[0] for v in by_run.values()]

    def seed_spread(
        self, dataset: str, experiment: Experiment, radius: float, metric: str
    ) -> float | None:
        """Sample std over training seeds of the mean over runs: how much the seed alone moves
        the headline number (None with fewer than two seeds)."""
        per_seed: dict[int, list[float]] = {}
        for r in self.rows:
            if (
                r.dataset == dataset
                and r.experiment is experiment
                and r.seed is not None
                and r.summary.radius == radius
                and getattr(r.summary, metric) is not None
            ):
                per_seed.setdefault(r.seed, []).append(getattr(r.summary, metric))  # fmt: skip
        return mean_std([mean_std(v)[0] for v in per_seed.values()])[1]

    def seeds(self, dataset: str) -> list[int]:
        return sorted({r.seed for r in self.rows if r.dataset == dataset and r.seed is not None})


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
            if res["kind"] == "folds":
                folds = sorted({f for f in fold_of[ds.name].values() if f is not None})
                results.expected[(ds.name, exp.name)] = len(folds)
                for missing in sorted(set(folds) - set(res["runs"])):
                    results.problems.append(
                        Problem(
                            str(manifest.path),
                            f"[{ds.name} / {exp.name}] fold {missing!r}: no run in the manifest;"
                            f" its cells average the other folds and say so",
                        )
                    )
            for run, pred_dir in res["runs"].items():
                if not Path(pred_dir).is_dir():
                    results.problems.append(
                        Problem(
                            str(pred_dir),
                            f"[{ds.name} / {exp.name} / {run}] run folder missing; not counted"
                            " (a missing run is not a run without predictions)",
                        )
                    )
                    continue
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
                report = score(gts[ds.name], pred_dir, manifest.radii, keys=frames)
                for p in report.problems:
                    results.problems.append(
                        Problem(p.file, f"[{ds.name} / {exp.name} / {run}] {p.problem}", p.frame)
                    )
                for s in report.overall():
                    results.rows.append(ResultRow(ds.name, exp, run, s, res.get("seed")))
                for surgery, summaries in report.by_folder().items():
                    results.cases += [
                        CaseRow(ds.name, exp.name, res.get("seed"), run, surgery, s.radius,
                                s.tp, s.fp, s.fn, res["kind"])
                        for s in summaries
                    ]  # fmt: skip
    return results

"""Cross-validation and sweeps: every (experiment, fold) is one self-contained training job.

A sweep file (TOML) lists experiments, each a preset plus overrides::

    [[experiment]]
    name = "variant1-g2-s1"
    config = "variant1"        # baseline | variant1 | variant2 | path/to/config.json
    sigma1 = 2
    sigma2 = 1

Jobs are numbered experiment-major. ``run_job`` trains one job on ``<out>/<experiment>/fold-<k>``
(the held-out fold's frames are predicted and scored there; an optional test set is predicted by
every fold's model into ``test_predictions/``). ``collect`` writes a manifest for
``adaptor-score tables`` and the paper's Tables 1-4 from whatever jobs have finished.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from adaptor_baseline.config import TrainConfig, preset, with_overrides
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import index_dataset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

OVERRIDE_KEYS = {
    "distribution": "target.distribution",
    "sigma1": "target.sigma1",
    "alpha": "target.alpha",
    "sigma2": "model.sigma2",
    "temperature": "model.temperature",
    "softargmax_mode": "model.softargmax_mode",
    "width": "model.width",
    "depth": "model.depth",
    "epochs": "epochs",
    "steps_per_epoch": "steps_per_epoch",
    "batch_size": "batch_size",
    "lr": "lr",
    "input_size": "input_size",
    "crop": "crop",
    "seed": "seed",
}


@dataclass
class Experiment:
    name: str
    config: TrainConfig

    def params(self) -> dict:
        """Columns for the paper's tables."""
        c = self.config
        model = {"baseline": "Baseline", "variant1": "Variant 1", "variant2": "Variant 2"}[
            c.model.variant
        ]
        p = {"model": model, "variant": c.model.variant, "distribution": c.target.distribution}
        if c.target.distribution == "tanh":
            p["alpha"] = c.target.alpha if c.target.alpha is not None else 3.5 * c.target.sigma1
        else:
            p["sigma1"] = c.target.sigma1
        if c.model.variant != "baseline":
            p["sigma2"] = c.model.sigma2
        return p


def experiment_from(name: str, config: str, overrides: dict) -> Experiment:
    cfg = TrainConfig.load(config) if config.endswith(".json") else preset(config)
    unknown = set(overrides) - set(OVERRIDE_KEYS)
    if unknown:
        raise ValueError(f"experiment {name}: unknown settings {', '.join(sorted(unknown))}")
    cfg = with_overrides(cfg, **{OVERRIDE_KEYS[k]: v for k, v in overrides.items()})
    cfg.name = name
    return Experiment(name, cfg)


def load_sweep(path: str | Path) -> list[Experiment]:
    doc = tomllib.loads(Path(path).read_text())
    out, seen = [], set()
    for e in doc.get("experiment", []):
        e = dict(e)
        name = e.pop("name", None)
        if not name or name in seen:
            raise ValueError(f"{path}: each [[experiment]] needs a unique name (got {name!r})")
        seen.add(name)
        out.append(experiment_from(name, e.pop("config", "variant1"), e))
    if not out:
        raise ValueError(f"{path}: no [[experiment]] entries")
    return out


@dataclass
class Plan:
    data: Path
    out: Path
    experiments: list[Experiment]
    folds: list[str]
    folds_spec: str | None
    test: Path | None

    def jobs(self) -> list[tuple[Experiment, str]]:
        return [(e, f) for e in self.experiments for f in self.folds]

    def run_dir(self, experiment: Experiment, fold: str) -> Path:
        return self.out / experiment.name / f"fold-{fold}"


def make_plan(
    data: str | Path,
    out: str | Path,
    experiments: list[Experiment],
    folds_spec: str | None = None,
    test: str | Path | None = None,
) -> Plan:
    keys = [r.key for r in index_dataset(data, require_labels=True)]
    folds = sorted({f for f in make_folds(keys, folds_spec) if f is not None})
    if len(folds) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, found {len(folds)}")
    return Plan(Path(data), Path(out), experiments, folds, folds_spec, Path(test) if test else None)


def job_command(plan: Plan, index: int, sweep: str | None, base_args: list[str]) -> str:
    """The shell command that runs job ``index`` alone (for job arrays or several GPUs)."""
    args = [
        "adaptor-baseline",
        "cv",
        "--data",
        str(plan.data),
        "--out",
        str(plan.out),
        "--job",
        str(index),
    ]
    if plan.folds_spec:
        args += ["--folds", plan.folds_spec]
    if plan.test:
        args += ["--test", str(plan.test)]
    args += ["--sweep", sweep] if sweep else base_args
    return shlex.join(args)


def run_job(plan: Plan, index: int, device: str | None = None, console=None) -> dict:
    """Train job ``index``, predict the test set with it (if any); skip when already finished."""
    from adaptor_baseline.predict import predict_dir
    from adaptor_baseline.train import train

    experiment, fold = plan.jobs()[index]
    run = plan.run_dir(experiment, fold)
    if (run / "val_score.json").exists() and (
        plan.test is None or (run / "test_predictions").exists()
    ):
        return {"skipped": str(run)}
    result = train(
        experiment.config,
        plan.data,
        run,
        fold,
        plan.folds_spec,
        resume=True,
        device=device,
        console=console,
    )
    if plan.test is not None:
        predict_dir(run, plan.test, run / "test_predictions", device=device)
    return result


def _q(value) -> str:
    """A TOML basic string (JSON's escaping is valid TOML)."""
    return json.dumps(str(value))


def collect(plan: Plan) -> Path:
    """Write ``<out>/manifest.toml`` for the finished runs and the tables into ``<out>/tables``."""
    from adaptor_score.tables import load_manifest, run_manifest, write_tables

    lines = [
        "radius = 6",
        "radii = [6, 8, 10]",
        "",
        "[[dataset]]",
        'name = "cv"',
        f"title = {_q('Cross-validation on ' + plan.data.name)}",
        f"ground_truth = {_q(plan.data.resolve())}",
    ]
    if plan.folds_spec and not plan.folds_spec.startswith(("groups:", "preset:", "folder")):
        lines.append(f"folds = {_q(Path(plan.folds_spec).resolve())}")
    fold_csv = None
    if plan.folds_spec and plan.folds_spec.startswith(("groups:", "preset:")):
        # Tables need the same folds: write them out as a fold file.
        records = index_dataset(plan.data, require_labels=True)
        fold_csv = plan.out / "folds.csv"
        with open(fold_csv, "w") as f:
            f.write("folder,video,frame,fold\n")
            for r, k in zip(records, make_folds([r.key for r in records], plan.folds_spec)):
                if k is not None:
                    f.write(f"{r.key.folder},{r.key.video},{r.key.frame},{k}\n")
        lines.append(f"folds = {_q(fold_csv.resolve())}")
    if plan.test:
        lines += [
            "",
            "[[dataset]]",
            'name = "test"',
            f"title = {_q('Test set ' + plan.test.name)}",
            f"ground_truth = {_q(plan.test.resolve())}",
        ]
    for e in plan.experiments:
        done = [f for f in plan.folds if (plan.run_dir(e, f) / "val_predictions").exists()]
        if not done:
            continue
        lines += ["", "[[experiment]]", f"name = {_q(e.name)}"]
        for k, v in e.params().items():
            lines.append(f"{k} = {_q(v)}" if isinstance(v, str) else f"{k} = {float(v)}")
        folds = ", ".join(
            f"{_q(f)} = {_q((plan.run_dir(e, f) / 'val_predictions').resolve())}" for f in done
        )
        lines += ["[[experiment.results]]", 'dataset = "cv"', f"folds = {{ {folds} }}"]
        tested = [f for f in done if (plan.run_dir(e, f) / "test_predictions").exists()]
        if plan.test and tested:
            runs = ", ".join(
                _q((plan.run_dir(e, f) / "test_predictions").resolve()) for f in tested
            )
            lines += ["[[experiment.results]]", 'dataset = "test"', f"runs = [{runs}]"]
    manifest = plan.out / "manifest.toml"
    manifest.write_text("\n".join(lines) + "\n")
    write_tables(run_manifest(load_manifest(manifest)), plan.out / "tables")
    return manifest

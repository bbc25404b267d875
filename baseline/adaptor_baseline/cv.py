"""Cross-validation and sweeps: every (experiment, fold[, seed]) is one self-contained training
job. Experiments and sweep files are :mod:`adaptor_baseline.sweep`'s.

Jobs are numbered experiment-major. ``run_job`` trains one job on ``<out>/<experiment>/fold-<k>``
(the held-out fold's frames are predicted and scored there; an optional test set is predicted by
every fold's model into ``test_predictions/``). ``collect`` writes a manifest for
``adaptor-score tables`` and the paper's Tables 1-4 from whatever jobs have finished.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from adaptor_baseline.config import TrainConfig, config_diff
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import index_dataset
from adaptor_baseline.sweep import Experiment, params_of
from adaptor_score import atomic
from adaptor_score.contract import RANKING_RADIUS, REPORT_RADII
from adaptor_score.pathguard import child
from adaptor_score.safefiles import BadFile, read_text


def saved_config(run: Path) -> TrainConfig | None:
    """The configuration a run folder was trained with (None when it holds none yet)."""
    path = run / "config.json"
    if not path.exists():
        return None
    try:
        return TrainConfig.load(path)
    except (OSError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: cannot read the run's configuration ({e})") from None


def _trained_with(run: Path) -> TrainConfig:
    cfg = saved_config(run)
    if cfg is None:
        raise ValueError(f"{run}: predictions without the config.json they were made with")
    return cfg


# Fields that change no weight of a run: its name, and how often the log evaluates the held-out
# fold (a run resumed or skipped with another value is the same run).
NOT_THE_JOB = {"name", "val_every"}


def check_run_folder(run: Path, cfg: TrainConfig) -> None:
    """Refuse to reuse a run folder that holds another configuration: a job is its whole
    configuration, not its name (an edited sweep would otherwise skip the job, or resume it, and
    label the old run with the new values)."""
    before = saved_config(run)
    if before is None:
        return
    changed = [k for k in config_diff(before, cfg) if k not in NOT_THE_JOB]
    if changed:
        raise ValueError(
            f"{run} holds a run of another configuration ({', '.join(changed)} differ from the"
            f" sweep's experiment {cfg.name!r}); give the changed experiment a new name, use"
            " another --out, or delete that folder to train it again"
        )


@dataclass
class Plan:
    data: Path
    out: Path
    experiments: list[Experiment]
    folds: list[str]
    folds_spec: str | None
    test: Path | None
    name: str = "cv"  # the datasets' names in the manifest and the tables (e.g. A.1, A.2)
    test_name: str = "test"
    seeds: list[int] | None = None  # cv --seeds: every (experiment, fold) once per seed

    def variants(self, experiment: Experiment) -> list[Experiment]:
        """The experiment once, or once per seed."""
        return [experiment.with_seed(s) for s in self.seeds] if self.seeds else [experiment]

    def jobs(self) -> list[tuple[Experiment, str]]:
        """(experiment, fold) per job, experiment-major, then seed, then fold."""
        return [(v, f) for e in self.experiments for v in self.variants(e) for f in self.folds]

    def run_dir(self, experiment: Experiment, fold: str) -> Path:
        """``<out>/<experiment>/[seed-<seed>/]fold-<fold>``; names that would leave ``out`` are
        refused."""
        seed = [] if experiment.seed is None else [f"seed-{experiment.seed}"]
        return child(self.out, experiment.name, *seed, f"fold-{fold}", what="experiment or fold")

    @property
    def folds_file(self) -> Path:
        """The frames' folds as training used them: written once, read back by the tables."""
        return self.out / FOLDS_FILE


def make_plan(
    data: str | Path,
    out: str | Path,
    experiments: list[Experiment],
    folds_spec: str | None = None,
    test: str | Path | None = None,
    name: str = "cv",
    test_name: str = "test",
    seeds: list[int] | None = None,
) -> Plan:
    if name == test_name:
        raise ValueError(
            f"the cross-validation and the test set need different names, not {name!r}"
        )
    keys = [r.key for r in index_dataset(data, require_labels=True)]
    assigned = make_folds(keys, folds_spec)
    folds = sorted({f for f in assigned if f is not None})
    if len(folds) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, found {len(folds)}")
    test_dir = Path(test) if test else None
    if seeds is not None and len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds names a seed twice: {seeds}")
    plan = Plan(Path(data), Path(out), experiments, folds, folds_spec, test_dir, name, test_name,
                list(seeds) if seeds else None)  # fmt: skip
    for e, f in plan.jobs():  # every folder name is checked before anything runs
        plan.run_dir(e, f)
    _record_folds(plan, keys, assigned)
    write_jobs_record(plan)
    return plan


FOLDS_FILE = "folds.csv"


def _folds_text(keys, assigned) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)  # data for our own fold reader, not a spreadsheet export: verbatim
    w.writerow(["folder", "video", "frame", "fold"])
    w.writerows([*k, f] for k, f in zip(keys, assigned) if f is not None)
    return buf.getvalue()


def _record_folds(plan: Plan, keys, assigned) -> None:
    """Write ``<out>/folds.csv`` (each frame's fold) the first time; later, refuse a plan whose
    folds differ from the ones the folder's models were trained on."""
    text = _folds_text(keys, assigned)
    path = plan.folds_file
    if path.exists():
        try:
            before = read_text(path, 64 << 20)
        except BadFile as e:
            raise ValueError(f"{path}: {e}") from None
        if before != text:
            raise ValueError(
                f"{path}: the runs in {plan.out} were trained on other folds than --folds"
                f" {plan.folds_spec or 'folder'} gives for {plan.data} now; use another --out"
            )
        return
    atomic.write_text(path, text)


def job_args(plan: Plan, sweep: str | None, base_args: list[str]) -> list[str]:
    """The options after ``adaptor-baseline cv`` that rebuild ``plan`` (without ``--job``)."""
    args = ["--data", str(plan.data), "--out", str(plan.out)]
    if plan.folds_spec:
        args += ["--folds", plan.folds_spec]
    if plan.test:
        args += ["--test", str(plan.test)]
    if plan.name != "cv":
        args += ["--name", plan.name]
    if plan.test_name != "test":
        args += ["--test-name", plan.test_name]
    if plan.seeds:
        args += ["--seeds", *map(str, plan.seeds)]
    return args + (["--sweep", str(sweep)] if sweep else []) + base_args


def job_command(plan: Plan, index: int, sweep: str | None, base_args: list[str]) -> str:
    """The shell command that runs job ``index`` alone (for job arrays or several GPUs)."""
    return shlex.join(["adaptor-baseline", "cv", *job_args(plan, sweep, base_args), "--job",
                       str(index)])  # fmt: skip


def run_finished(run: Path, with_test: bool) -> bool:
    """Whether the job in ``run`` has finished, judged from its files alone (no scheduler asked):
    its held-out fold scored and, with a test set, the test set predicted. The local executor,
    the SLURM executor and ``cv --status`` all judge by this."""
    return (run / "val_score.json").exists() and (
        not with_test or (run / "test_predictions").exists()
    )


JOBS_FILE = "jobs.json"


def write_jobs_record(plan: Plan) -> Path:
    """``<out>/jobs.json``: each job's number, experiment, fold and run folder, so that
    ``cv --status OUT`` can judge every job from the files without the sweep at hand."""
    doc = {
        "test": plan.test is not None,
        "jobs": [
            {"job": i, "experiment": e.name, "seed": e.seed, "fold": f,
             "run": str(plan.run_dir(e, f).relative_to(plan.out))}
            for i, (e, f) in enumerate(plan.jobs())
        ],
    }  # fmt: skip
    return atomic.write_text(plan.out / JOBS_FILE, json.dumps(doc, indent=1) + "\n")


def run_job(plan: Plan, index: int, device: str | None = None, console=None) -> dict:
    """Train job ``index``, predict the test set with it (if any); skip when already finished."""
    from adaptor_baseline.predict import predict_dir
    from adaptor_baseline.train import train

    experiment, fold = plan.jobs()[index]
    run = plan.run_dir(experiment, fold)
    check_run_folder(run, experiment.config)
    if run_finished(run, plan.test is not None):
        return {"skipped": str(run)}
    threads = os.environ.get("SLURM_CPUS_PER_TASK")
    if threads and threads.isdigit():  # the CPUs SLURM gave this task, not the node's
        import torch

        torch.set_num_threads(int(threads))
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


def _datasets(plan: Plan) -> dict:
    """The manifest's datasets: the cross-validation, on exactly the folds that trained the
    models, and the test set when there is one."""
    from adaptor_score.manifest import Dataset

    folds_file = plan.folds_file  # exactly the folds that trained the models
    title = f"Cross-validation on {plan.data.name}"
    datasets = {
        plan.name: Dataset(
            plan.name,
            f"{plan.name}: {title}" if plan.name != "cv" else title,
            plan.data,
            folds_file,
        )
    }
    if plan.test:
        title = f"Test set {plan.test.name}"
        datasets[plan.test_name] = Dataset(
            plan.test_name,
            f"{plan.test_name}: {title}" if plan.test_name != "test" else title,
            plan.test,
            None,
            plan.name,
        )
    return datasets


def collect(plan: Plan) -> Path:
    """Write ``<out>/manifest.toml`` for the finished runs (paths relative to it) and the tables
    into ``<out>/tables``."""
    from adaptor_score.manifest import Experiment as ManifestExperiment
    from adaptor_score.manifest import Manifest, write_manifest
    from adaptor_score.tables import run_manifest, write_tables

    datasets = _datasets(plan)
    rows = []
    for experiment in plan.experiments:
        results, labels = [], set()
        for e in plan.variants(experiment):  # one set of results per training seed
            done = [f for f in plan.folds if (plan.run_dir(e, f) / "val_predictions").exists()]
            if not done:
                continue
            runs = {f: plan.run_dir(e, f) / "val_predictions" for f in done}
            results.append({"dataset": plan.name, "kind": "folds", "runs": runs, "seed": e.seed})
            tested = [f for f in done if (plan.run_dir(e, f) / "test_predictions").exists()]
            if plan.test and tested:
                runs = {
                    f"run{i + 1}": plan.run_dir(e, f) / "test_predictions"
                    for i, f in enumerate(tested)
                }
                results.append(
                    {"dataset": plan.test_name, "kind": "runs", "runs": runs, "seed": e.seed}
                )
            # Labels come from what the runs were trained with, never from the sweep as it is now.
            labels |= {
                json.dumps(params_of(_trained_with(plan.run_dir(e, f))), sort_keys=True)
                for f in done
            }
        if not results:
            continue
        if len(labels) > 1:
            raise ValueError(
                f"experiment {experiment.name}: its folds were trained with different settings"
            )
        rows.append(ManifestExperiment(experiment.name, json.loads(labels.pop()), results))
    if not rows:
        raise ValueError(f"{plan.out}: no finished jobs to collect")
    manifest = Manifest(
        plan.out / "manifest.toml", RANKING_RADIUS, list(REPORT_RADII), datasets, rows
    )
    write_manifest(manifest)  # the record; the tables come from the manifest in memory
    write_tables(run_manifest(manifest), plan.out / "tables")
    return manifest.path

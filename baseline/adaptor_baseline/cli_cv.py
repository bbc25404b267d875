"""``adaptor-baseline cv``: cross-validation and sweeps, run here (``--executor local``) or on a
SLURM cluster (``--executor slurm``), and ``--status`` of a sweep's jobs."""

from __future__ import annotations

from pathlib import Path

import click

from adaptor_baseline.cli_options import (
    FOLDS_OPTION,
    build_config,
    config_options,
    json_config,
    option_args,
    options_given,
    spec_path,
)
from adaptor_score.cli_common import console, emit_rows, fatal
from adaptor_score.pathguard import check_outputs


@click.command("cv")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A labelled dataset in the AdaptOR layout (required unless --status).",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
    help="The sweep's folder (required unless --status).",
)  # fmt: skip
@click.option(
    "--sweep", type=click.Path(dir_okay=False, exists=True), help="TOML list of experiments."
)
@FOLDS_OPTION
@click.option(
    "--test",
    "test_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A separate labelled test set, predicted by every fold's model.",
)
@click.option(
    "--name", "cv_name", default="cv", show_default=True,
    help="The cross-validation's name in the tables (e.g. A.1).",
)  # fmt: skip
@click.option(
    "--test-name", default="test", show_default=True,
    help="The test set's name in the tables (e.g. A.2).",
)  # fmt: skip
@click.option(
    "--seeds", "seeds", type=int, multiple=True,
    help="Train every (experiment, fold) once per seed: --seeds 0 1 2. The tables give mean ±"
    " std over folds and, beside it, the spread over seeds.",
)  # fmt: skip
@click.argument("more_seeds", nargs=-1, type=int, metavar="[SEED]...")
@click.option("--job", type=click.IntRange(min=0), help="Run only this job (see --list-jobs).")
@click.option(
    "--list-jobs", is_flag=True, help="Print one self-contained command per job and exit."
)
@click.option("--collect-only", is_flag=True, help="Only build the tables from finished jobs.")
@click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
@click.option(
    "--executor", type=click.Choice(["local", "slurm"]), default="local", show_default=True,
    help="local: run the jobs here, one after another; slurm: submit them as a job array.",
)  # fmt: skip
@click.option(
    "--sbatch-arg", "sbatch_args", multiple=True,
    help="An sbatch option for the array and collect jobs (repeatable), e.g."
    " --sbatch-arg=--partition=gpu --sbatch-arg=--gres=gpu:1 (GPU options: array only).",
)  # fmt: skip
@click.option(
    "--max-parallel", type=click.IntRange(min=1), help="At most N array tasks at once (slurm)."
)
@click.option(
    "--settings", "settings_name", type=click.Choice(["learning"]),
    help="learning: the demo's converged recipe for every experiment (its sigma_1 and sigma_2"
    " stay the experiment's); options given here still win. docs/sweeps.md gives its cost.",
)  # fmt: skip
@click.option(
    "--dry-run",
    is_flag=True,
    help="slurm: write the batch script, print the commands, submit none.",
)
@click.option(
    "--status", "status_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Say per job of this sweep folder: done, queued, failed (with its log), missing.",
)  # fmt: skip
@click.option("--json", "json_out", help="With --status: the jobs as JSON to this file ('-':"
              " standard output, instead of the table).")  # fmt: skip
@config_options
def cv_cmd(data_dir, out_dir, sweep, folds_spec, test_dir, seeds, more_seeds, job, list_jobs,
           collect_only, device, cv_name, test_name, executor, sbatch_args, max_parallel, dry_run,
           status_dir, json_out, settings_name, config_name, **overrides):  # fmt: skip
    """Cross-validate one configuration or a sweep; then write the paper's Tables 1-4.

    SEED...: further seeds after --seeds (--seeds 0 1 2)."""
    from adaptor_baseline import cv
    from adaptor_baseline.recipes import learning_settings
    from adaptor_baseline.sweep import Experiment, load_sweep

    if more_seeds and not seeds:
        raise click.UsageError(f"unexpected arguments {' '.join(map(str, more_seeds))}")
    seeds = [*seeds, *more_seeds] or None

    if status_dir is not None:
        return _print_status(status_dir, json_out)
    if data_dir is None or out_dir is None:
        raise click.UsageError("--data and --out are required (or --status OUT)")
    check_outputs(
        {"--data": data_dir, "--test": test_dir, "--sweep": sweep,
         "--folds": spec_path(folds_spec), "--config": json_config(config_name)},
        {"--out": out_dir},
    )  # fmt: skip
    given = {**(learning_settings() if settings_name else {}), **options_given(overrides)}
    try:
        if sweep:
            experiments = load_sweep(sweep, defaults=given)
        else:
            experiments = [Experiment(config_name, build_config(config_name, **given))]
        plan = cv.make_plan(
            data_dir, out_dir, experiments, folds_spec, test_dir, cv_name, test_name, seeds
        )
        jobs = plan.jobs()
        base = option_args(config_name, given)
        if list_jobs:
            for i in range(len(jobs)):
                click.echo(cv.job_command(plan, i, sweep, base))
            return
        if executor == "slurm" and job is None and not collect_only:
            return _submit(plan, sweep, base, sbatch_args, max_parallel, dry_run)
        if not collect_only:
            _run_jobs(plan, jobs, job, device)
        if job is None:
            manifest = cv.collect(plan)
            console.print((plan.out / "tables" / "tables.md").read_text())
            console.print(f"manifest: {manifest}; tables in {plan.out / 'tables'}")
    except (ValueError, OSError) as e:
        fatal(e)


def _run_jobs(plan, jobs, job, device) -> None:
    """Run one job or all, each under a header that says which of how many, the time so far
    and, from the second on, an estimate of the time left (the mean of the jobs run so far)."""
    import time

    from rich.text import Text

    from adaptor_baseline import cv
    from adaptor_score.outputs import duration_text

    todo = [job] if job is not None else list(range(len(jobs)))
    start = time.monotonic()
    for n, i in enumerate(todo):
        if i >= len(jobs):
            raise ValueError(f"job {i} does not exist: there are {len(jobs)} jobs")
        e, fold = jobs[i]
        seed = "" if e.seed is None else f", seed {e.seed}"
        spent = time.monotonic() - start
        left = f", about {duration_text(spent / n * (len(todo) - n))} left" if n else ""
        title = f"job {i} ({n + 1} of {len(todo)}): {e.name}{seed}, fold {fold}"
        console.rule(Text(f"{title} [{duration_text(spent)} so far{left}]"))  # names are not markup
        cv.run_job(plan, i, device, console)


def _submit(plan, sweep, base, sbatch_args, max_parallel, dry_run) -> None:
    import shlex

    from adaptor_baseline.slurm import SlurmError, submit

    try:
        sub = submit(plan, sweep, base, sbatch_args, max_parallel, dry_run)
    except SlurmError as e:
        fatal(e)
    console.print(f"batch script: {sub.script} ({len(sub.jobs)} of {len(plan.jobs())} jobs"
                  " not finished)", soft_wrap=True)  # fmt: skip
    if dry_run:
        for c in sub.commands:
            click.echo(shlex.join(c))
        return
    what = f"array {sub.array} ({len(sub.jobs)} tasks)" if sub.array else "no array (all done)"
    console.print(f"submitted {what}; collect job {sub.collect} writes the tables; "
                  f"`adaptor-baseline cv --status {plan.out}` says where each job is",
                  soft_wrap=True)  # fmt: skip


def _print_status(out: Path, json_out: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from adaptor_baseline.slurm import SlurmError, status

    try:
        jobs = status(out)
    except SlurmError as e:
        fatal(e)
    t = Table(title=Text(f"jobs of {out}"), title_justify="left")
    for col in ("job", "experiment", "fold", "state"):
        t.add_column(col)
    for j in jobs:
        t.add_row(str(j.job), Text(j.experiment), Text(j.fold), j.state)
    rows = [{"job": j.job, "experiment": j.experiment, "fold": j.fold, "state": j.state,
             "detail": j.detail} for j in jobs]  # fmt: skip
    emit_rows(json_out, rows, t)
    if json_out == "-":
        return
    for j in jobs:
        if j.state == "failed":
            console.print(Text(f"job {j.job} ({j.experiment}, fold {j.fold}) failed: {j.detail}"))
    counts = {
        s: sum(j.state == s for j in jobs)
        for s in ("done", "running", "queued", "failed", "missing")
    }
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))

"""Running a sweep on a SLURM cluster: one array task per unfinished job, a collect job after it.

``adaptor-baseline cv ... --executor slurm`` writes ``<out>/slurm/array-<n>.sh`` and submits it
with ``sbatch --array``: task ``t`` runs job ``JOBS[t]`` of the plan with the same
``adaptor-baseline cv ... --job J`` that ``--list-jobs`` prints, with torch using the CPUs SLURM
gave the task (``SLURM_CPUS_PER_TASK``) and the GPU ``--gres`` gave it (SLURM sets
``CUDA_VISIBLE_DEVICES``). A collect job that depends on the array with ``afterany`` (so a failed
task does not block it forever) writes the tables from whatever finished.

Only jobs that are not finished, judged from their files as the local executor judges them, and
not queued or running from an earlier submission, are submitted: running the same command again
submits what is missing or failed. Nothing here needs accounting (``sacct``): each task writes its
exit status to ``<out>/slurm/exit/<job>`` when it ends, and ``squeue`` says what is still queued.

``--sbatch-arg`` values go to both ``sbatch`` calls, except ``--gres``/``--gpus*`` (the array's
only: the collect job needs no GPU).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_baseline.cv import JOBS_FILE, Plan, job_args, run_finished
from adaptor_score import atomic
from adaptor_score.safefiles import BadFile, read_text

SLURM_DIR = "slurm"
SUBMISSIONS = "submissions.json"
_GPU_ARGS = ("--gres", "--gpus", "--gpus-per-task", "--gpus-per-node", "-G")


class SlurmError(RuntimeError):
    """sbatch or squeue failed, or is not there; the message says what it answered."""


def _gpu_arg(arg: str) -> bool:
    return arg.split("=", 1)[0] in _GPU_ARGS


def _folder(out: Path) -> Path:
    return out / SLURM_DIR


def _load(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(read_text(path, 16 << 20))
    except (BadFile, ValueError) as e:
        raise SlurmError(f"{path}: {e}") from None


def _sbatch(args: list[str]) -> str:
    if shutil.which("sbatch") is None:
        raise SlurmError("sbatch is not on PATH: is this a SLURM login node?")
    r = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SlurmError(f"sbatch {shlex.join(args)} failed: {r.stderr.strip() or r.stdout}")
    return r.stdout.strip().split(";")[0]


def queued_jobs() -> set[str]:
    """Ids (``123`` and ``123_4``) of everything still in the queue; needs only ``squeue``."""
    if shutil.which("squeue") is None:
        return set()
    r = subprocess.run(["squeue", "-h", "-r", "-o", "%i %A"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SlurmError(f"squeue failed: {r.stderr.strip()}")
    return set(r.stdout.split())


def batch_script(plan: Plan, jobs: list[int], argv: list[str], folder: Path) -> str:
    """The array's script: task ``t`` runs job ``JOBS[t]``, records its exit status."""
    command = shlex.join([sys.executable, "-m", "adaptor_baseline.cli", "cv", *argv])
    exit_dir = shlex.quote(str(folder / "exit"))
    return f"""#!/bin/bash
# Written by adaptor-baseline cv --executor slurm: one array task per job of {plan.out}.
JOBS=({" ".join(map(str, jobs))})
JOB=${{JOBS[$SLURM_ARRAY_TASK_ID]}}
export OMP_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}} MKL_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}}
rm -f {exit_dir}/$JOB
trap 'echo $? > {exit_dir}/$JOB' EXIT
echo "job $JOB on $(hostname), task $SLURM_ARRAY_TASK_ID of array $SLURM_ARRAY_JOB_ID"
{command} --job "$JOB"
"""


@dataclass
class Submission:
    array: str | None  # the array's job id (None on a dry run or when nothing was pending)
    collect: str | None
    jobs: list[int]  # the plan's job numbers, in array-task order
    script: Path
    commands: list[list[str]]


def submit(
    plan: Plan,
    sweep: str | None,
    base_args: list[str],
    sbatch_args: tuple[str, ...] = (),
    max_parallel: int | None = None,
    dry_run: bool = False,
) -> Submission:
    """Submit every job that is neither finished nor queued, then the collect job."""
    folder = _folder(plan.out)
    (folder / "logs").mkdir(parents=True, exist_ok=True)  # a log folder missing fails every task
    (folder / "exit").mkdir(exist_ok=True)
    record = _load(folder / SUBMISSIONS, {"submissions": []})
    queued = set() if dry_run else queued_jobs()
    in_queue = {
        job
        for sub in record["submissions"]
        for task, job in enumerate(sub["jobs"])
        if sub.get("array") and f"{sub['array']}_{task}" in queued
    }
    pending = [  # the plan's jobs built once: with seeds, each is a configuration
        i
        for i, (e, f) in enumerate(plan.jobs())
        if i not in in_queue and not run_finished(plan.run_dir(e, f), plan.test is not None)
    ]
    argv = job_args(plan, sweep, base_args)
    n = len(record["submissions"]) + 1
    script = folder / f"array-{n}.sh"
    atomic.write_text(script, batch_script(plan, pending, argv, folder))
    throttle = f"%{max_parallel}" if max_parallel else ""
    # the job lines' paths are the user's, relative to where they typed them
    sbatch_args = (f"--chdir={Path.cwd()}", *sbatch_args)
    array_cmd = [
        f"--array=0-{len(pending) - 1}{throttle}", f"--job-name=adaptor-cv-{n}",
        f"--output={folder / 'logs' / '%A_%a.out'}", *sbatch_args, str(script),
    ]  # fmt: skip
    collect_argv = shlex.join(
        [sys.executable, "-m", "adaptor_baseline.cli", "cv", *argv, "--collect-only"]
    )
    plain = [a for a in sbatch_args if not _gpu_arg(a)]
    collect_cmd = [
        f"--job-name=adaptor-collect-{n}", f"--output={folder / 'logs' / 'collect-%j.out'}",
        *plain, f"--wrap={collect_argv}",
    ]  # fmt: skip
    after = sorted({sub["array"] for sub in record["submissions"] if sub.get("array")})
    waiting = [a for a in after if any(q.split("_")[0] == a for q in queued)]
    if dry_run:
        deps = ":".join(["$ARRAY", *waiting])
        commands = [["sbatch", *array_cmd] if pending else [],
                    ["sbatch", f"--dependency=afterany:{deps}", *collect_cmd]]  # fmt: skip
        return Submission(None, None, pending, script, [c for c in commands if c])
    array = _sbatch(array_cmd) if pending else None
    deps = [d for d in [array, *waiting] if d]
    dependency = [f"--dependency=afterany:{':'.join(deps)}"] if deps else []
    collect = _sbatch([*dependency, *collect_cmd])
    record["submissions"].append(
        {"array": array, "collect": collect, "jobs": pending, "script": script.name,
         "at": time.time()}
    )  # fmt: skip
    atomic.write_text(folder / SUBMISSIONS, json.dumps(record, indent=1) + "\n")
    return Submission(array, collect, pending, script, [array_cmd, [*dependency, *collect_cmd]])


@dataclass
class JobStatus:
    job: int
    experiment: str
    fold: str
    state: str  # done | failed | queued | missing
    detail: str = ""


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = read_text(path, 64 << 20)
    except BadFile as e:
        return f"(no log: {e})"
    return "\n".join(text.rstrip().splitlines()[-lines:])


def status(out: str | Path) -> list[JobStatus]:
    """Each job of ``<out>/jobs.json``: done (its files say so), queued (in ``squeue``), failed
    (its task ended without finishing it: the log's last lines), or missing (never submitted)."""
    out = Path(out)
    jobs = _load(out / JOBS_FILE, None)
    if jobs is None:
        raise SlurmError(f"{out / JOBS_FILE}: not found; is {out} the --out of a cv run?")
    folder = _folder(out)
    record = _load(folder / SUBMISSIONS, {"submissions": []})
    queued = queued_jobs()
    last: dict[int, tuple[str, int]] = {}  # job -> (array id, task) of its latest submission
    for sub in record["submissions"]:
        for task, job in enumerate(sub["jobs"]):
            if sub.get("array"):
                last[job] = (sub["array"], task)
    result = []
    for j in jobs["jobs"]:
        done = run_finished(out / j["run"], jobs["test"])
        name = j["experiment"] if j.get("seed") is None else f"{j['experiment']} (seed {j['seed']})"
        st = JobStatus(j["job"], name, j["fold"], "missing")
        if done:
            st.state = "done"
        elif j["job"] in last:
            array, task = last[j["job"]]
            log = folder / "logs" / f"{array}_{task}.out"
            if f"{array}_{task}" in queued or (array in queued and not log.exists()):
                st.state, st.detail = "queued", f"array {array}, task {task}"
            else:
                code = _load(folder / "exit" / str(j["job"]), None)
                why = "killed before it could record an exit status" if code is None else (
                    f"exit {code}")  # fmt: skip
                st.state, st.detail = "failed", f"{why}; {log}:\n{_tail(log)}"
        result.append(st)
    return result


def wait(out: str | Path, timeout: float = 600, poll: float = 1.0) -> list[JobStatus]:
    """The status once nothing of ``out`` is queued any more (and its collect job has run)."""
    folder = _folder(Path(out))
    t0 = time.monotonic()
    while True:
        record = _load(folder / SUBMISSIONS, {"submissions": []})
        ids = {i for s in record["submissions"] for i in (s.get("array"), s.get("collect")) if i}
        queued = {q.split("_")[0] for q in queued_jobs()}
        if not ids & queued:
            return status(out)
        if time.monotonic() - t0 > timeout:
            raise SlurmError(f"jobs of {out} still queued after {timeout:g} s")
        time.sleep(poll)


__all__ = ["JobStatus", "SlurmError", "Submission", "queued_jobs", "status", "submit", "wait"]

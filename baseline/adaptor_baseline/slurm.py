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

**Values in the generated script.** Every value that enters it (paths, the command's arguments)
goes through :func:`sh_word`, one single-quoted shell word, whatever it holds (``$(...)``,
backquotes, quotes, newlines, bytes that are not UTF-8: the script is written as the file
system's bytes); paths are set once as variables and used in double quotes; comments carry no
value. **State read back** (``jobs.json``, ``submissions.json``, the exit files) is checked
against declared schemas (:class:`_JobsFile`, :class:`_SubmissionsFile`): a forged or damaged
file is a :class:`SlurmError` naming the file and the key, never a traceback.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from adaptor_baseline.cv import JOBS_FILE, Plan, job_args, run_finished
from adaptor_score import atomic
from adaptor_score.safefiles import BadFile, read_bytes, read_text

SLURM_DIR = "slurm"
SUBMISSIONS = "submissions.json"
_GPU_ARGS = ("--gres", "--gpus", "--gpus-per-task", "--gpus-per-node", "-G")


class SlurmError(RuntimeError):
    """sbatch or squeue failed, or is not there; the message says what it answered."""


def _gpu_arg(arg: str) -> bool:
    return arg.split("=", 1)[0] in _GPU_ARGS


def _folder(out: Path) -> Path:
    return out / SLURM_DIR


class _Job(msgspec.Struct):
    job: int
    experiment: str
    fold: str
    run: str
    seed: int | None = None


class _JobsFile(msgspec.Struct):
    test: bool
    jobs: list[_Job]


class _Submitted(msgspec.Struct):
    jobs: list[int]
    array: str | None = None
    collect: str | None = None
    script: str = ""
    at: float = 0.0


class _SubmissionsFile(msgspec.Struct):
    submissions: list[_Submitted] = []


def _load(path: Path, schema, default):
    """``path`` decoded as ``schema`` (``default`` when there is none); a file of another shape
    (a list for a table, a missing key, deep nesting) is a :class:`SlurmError` naming it."""
    if not path.exists():
        return default
    try:
        return msgspec.json.decode(read_bytes(path, 16 << 20), type=schema)
    except BadFile as e:
        raise SlurmError(f"{path}: {e}") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise SlurmError(f"{path}: not a file this toolkit wrote ({_where(e)})") from None
    except RecursionError:
        raise SlurmError(f"{path}: nested too deeply to be a file this toolkit wrote") from None


def _where(e: Exception) -> str:
    text = str(e)
    return text.replace(" - at `$", ", at `").replace("`.", "`", 1) if " - at `$" in text else text


def _exit_code(path: Path) -> int | None:
    """The exit status a task recorded: a whole number on one line, or None (none recorded)."""
    if not path.exists():
        return None
    try:
        text = read_text(path, 64).strip()
    except BadFile as e:
        raise SlurmError(f"{path}: {e}") from None
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise SlurmError(f"{path}: not an exit status ({text[:40]!r})")
    return int(text)


def sh_word(value) -> str:
    """``value`` (a path or text) as one single-quoted shell word: nothing in it is expanded,
    newlines included; bytes that are not UTF-8 stay as they are (written back as bytes).

    >>> print(sh_word("a b$(touch x)'`"), sh_word(Path("/tmp/plain")))
    'a b$(touch x)'"'"'`' '/tmp/plain'
    """
    return "'" + os.fspath(value).replace("'", "'\"'\"'") + "'"


def _sbatch(args: list[str]) -> str:
    if shutil.which("sbatch") is None:
        raise SlurmError("sbatch is not on PATH: is this a SLURM login node?")
    r = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SlurmError(f"sbatch {shlex.join(args)} failed: {r.stderr.strip() or r.stdout}")
    return r.stdout.strip().split(";")[0]


def queue_states() -> dict[str, str]:
    """Id (``123`` and ``123_4``) -> state (``PENDING``, ``RUNNING``...) of everything in the
    queue; needs only ``squeue``."""
    if shutil.which("squeue") is None:
        return {}
    r = subprocess.run(["squeue", "-h", "-r", "-o", "%i %A %T"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SlurmError(f"squeue failed: {r.stderr.strip()}")
    out: dict[str, str] = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = out[parts[1]] = parts[2]
    return out


def queued_jobs() -> set[str]:
    """Ids (``123`` and ``123_4``) of everything still in the queue."""
    return set(queue_states())


def batch_script(plan: Plan, jobs: list[int], argv: list[str], folder: Path) -> str:
    """The array's script: task ``t`` runs job ``JOBS[t]``, records its exit status where
    ``cv --status`` reads it. Every value is one :func:`sh_word`; comments hold none."""
    command = " ".join(sh_word(a) for a in [sys.executable, "-m", "adaptor_baseline.cli", "cv",
                                             *argv])  # fmt: skip
    return f"""#!/bin/bash
# Written by adaptor-baseline cv --executor slurm: one array task per job of the sweep.
EXIT_DIR={sh_word(folder / "exit")}
JOBS=({" ".join(str(int(j)) for j in jobs)})
JOB=${{JOBS[$SLURM_ARRAY_TASK_ID]}}
export OMP_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}} MKL_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}}
rm -f -- "$EXIT_DIR/$JOB"
trap 'echo $? > "$EXIT_DIR/$JOB"' EXIT
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
    record = _load(folder / SUBMISSIONS, _SubmissionsFile, _SubmissionsFile())
    queued = set() if dry_run else queued_jobs()
    in_queue = {
        job
        for sub in record.submissions
        for task, job in enumerate(sub.jobs)
        if sub.array and f"{sub.array}_{task}" in queued
    }
    pending = [  # the plan's jobs built once: with seeds, each is a configuration
        i
        for i, (e, f) in enumerate(plan.jobs())
        if i not in in_queue and not run_finished(plan.run_dir(e, f), plan.test is not None)
    ]
    argv = job_args(plan, sweep, base_args)
    n = len(record.submissions) + 1
    script = folder / f"array-{n}.sh"
    # the file system's bytes: a path that is not UTF-8 stays the path it is
    atomic.write_text(script, batch_script(plan, pending, argv, folder), errors="surrogateescape")
    throttle = f"%{max_parallel}" if max_parallel else ""
    # the job lines' paths are the user's, relative to where they typed them
    sbatch_args = (f"--chdir={Path.cwd()}", *sbatch_args)
    array_cmd = [
        f"--array=0-{len(pending) - 1}{throttle}", f"--job-name=adaptor-cv-{n}",
        f"--output={folder / 'logs' / '%A_%a.out'}", *sbatch_args, str(script),
    ]  # fmt: skip
    collect_argv = " ".join(  # sbatch --wrap puts it into a script: the same quoting
        sh_word(a) for a in [sys.executable, "-m", "adaptor_baseline.cli", "cv", *argv,
                             "--collect-only"]
    )  # fmt: skip
    plain = [a for a in sbatch_args if not _gpu_arg(a)]
    collect_cmd = [
        f"--job-name=adaptor-collect-{n}", f"--output={folder / 'logs' / 'collect-%j.out'}",
        *plain, f"--wrap={collect_argv}",
    ]  # fmt: skip
    after = sorted({sub.array for sub in record.submissions if sub.array})
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
    record.submissions.append(_Submitted(pending, array, collect, script.name, time.time()))
    atomic.write_bytes(folder / SUBMISSIONS, msgspec.json.format(msgspec.json.encode(record)))
    return Submission(array, collect, pending, script, [array_cmd, [*dependency, *collect_cmd]])


@dataclass
class JobStatus:
    job: int
    experiment: str
    fold: str
    state: str  # done | failed | running | queued | missing
    detail: str = ""


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = read_text(path, 64 << 20)
    except BadFile as e:
        return f"(no log: {e})"
    return "\n".join(text.rstrip().splitlines()[-lines:])


def status(out: str | Path) -> list[JobStatus]:
    """Each job of ``<out>/jobs.json``: done (its files say so), running or queued (in
    ``squeue``), failed (its task ended without finishing it: the log's last lines), or missing
    (never submitted)."""
    out = Path(out)
    jobs = _load(out / JOBS_FILE, _JobsFile, None)
    if jobs is None:
        raise SlurmError(f"{out / JOBS_FILE}: not found; is {out} the --out of a cv run?")
    folder = _folder(out)
    record = _load(folder / SUBMISSIONS, _SubmissionsFile, _SubmissionsFile())
    states = queue_states()
    last: dict[int, tuple[str, int]] = {}  # job -> (array id, task) of its latest submission
    for sub in record.submissions:
        for task, job in enumerate(sub.jobs):
            if sub.array:
                last[job] = (sub.array, task)
    result = []
    for j in jobs.jobs:
        run = out / j.run
        if not run.resolve().is_relative_to(out.resolve()):
            raise SlurmError(f"{out / JOBS_FILE}: jobs[{j.job}].run {j.run!r} leaves {out}")
        name = j.experiment if j.seed is None else f"{j.experiment} (seed {j.seed})"
        st = JobStatus(j.job, name, j.fold, "missing")
        if run_finished(run, jobs.test):
            st.state = "done"
        elif j.job in last:
            array, task = last[j.job]
            log = folder / "logs" / f"{array}_{task}.out"
            task_state = states.get(f"{array}_{task}")
            if task_state is None and array in states and not log.exists():
                task_state = "PENDING"  # the array's tasks not yet split out by squeue
            if task_state is not None:
                running = task_state in ("RUNNING", "COMPLETING", "CONFIGURING")
                st.state = "running" if running else "queued"
                st.detail = f"array {array}, task {task}"
            else:
                code = _exit_code(folder / "exit" / str(j.job))
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
        record = _load(folder / SUBMISSIONS, _SubmissionsFile, _SubmissionsFile())
        ids = {i for s in record.submissions for i in (s.array, s.collect) if i}
        queued = {q.split("_")[0] for q in queued_jobs()}
        if not ids & queued:
            return status(out)
        if time.monotonic() - t0 > timeout:
            raise SlurmError(f"jobs of {out} still queued after {timeout:g} s")
        time.sleep(poll)


__all__ = ["JobStatus", "SlurmError", "Submission", "queue_states", "queued_jobs", "sh_word",
           "status", "submit", "wait"]  # fmt: skip

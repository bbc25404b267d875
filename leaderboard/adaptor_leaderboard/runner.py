"""Running a submitted image on the hidden test set and scoring it into the ledger.

Through the ``docker`` Python SDK (Docker, or podman's Docker-compatible socket): the GPU when
there is one, no network (``network_mode="none"``), ``/input`` read-only, a fresh ``/output``, a
read-only root file system with a small ``/tmp``, no capabilities, an unprivileged user, memory
and pid limits, a wall-clock limit, and an output limit in bytes, entries and depth that a
watchdog enforces while the container runs. Whatever the container does — hang, crash, run out
of memory, flood its output with bytes, files or folders nested a thousand deep, write FIFOs,
symlinks or files outside the layout — fails or degrades its own submission only, and scoring
treats the output as untrusted input (see ``adaptor_score.predictions``).

Accounting: the limit check and the claim of a submission are one ledger transaction. Every
path after the claim ends in a ledger status; a failure on our side (engine, disk, scorer,
ground truth, an exception anywhere in here) is recorded with ``charged = 0`` and never uses up
one of the team's submissions. A run killed outright (the organiser's machine rebooted) stays
``running`` until ``ledger recover`` marks it failed on our side.

Exit status: a complete output counts. When the container exits non-zero but wrote a file for
every input image, the output is scored (the exit code is kept in the reason); a non-zero exit
with files missing fails the submission. Statuses and reasons: ``failed`` with
``time limit (N s)``, ``out of memory (exit 137)``, ``exit N; M of K outputs missing``,
``output over ...`` (charged), ``infrastructure: ...`` (not charged); else ``scored``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.lifecycle import (
    check_test_input,
    claim,
    load_truth,
    score_into_ledger,
    settled,
)
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_score import atomic
from adaptor_score.contract import REPORT_RADII
from adaptor_score.pathguard import check_outputs, child
from adaptor_score.safefiles import remove_tree, tree_usage
from adaptor_score.validate import missing_outputs


@dataclass(frozen=True)
class RunLimits:
    wall_seconds: float = 3600.0
    memory: str = "16g"
    pids: int = 1024
    user: str = "10001:10001"
    gpu: bool | None = None  # None: request all GPUs when the engine host has any
    output_max_bytes: int = 1 << 30
    # Entries (files, folders, links) and depth of the output tree: the test set needs one file
    # per image (500) in folders 3 deep; empty files cost almost no bytes but each one costs the
    # scorer a read.
    output_max_entries: int = 50_000
    output_max_depth: int = 16
    log_max_bytes: int = 4 << 20
    tmp_size: str = "1g"
    watch_seconds: float = 1.0
    report_seconds: float = 30.0  # how often a running container's progress is reported


def measure_output(out: Path, limits: RunLimits):
    """``(violation, usage)``: why the output tree breaks the limits (None when it does not) and
    what it holds (None when it could not be measured). Never raises: a tree that cannot be
    measured is a violation, so the limit holds whatever the container writes."""
    try:
        u = tree_usage(out, limits.output_max_depth, limits.output_max_entries)
    except Exception as e:  # noqa: BLE001 - fail closed
        return f"output could not be measured ({type(e).__name__}: {e})", None
    if u.bytes > limits.output_max_bytes:
        return f"output over {limits.output_max_bytes:,} bytes", u
    if u.entries > limits.output_max_entries:
        return f"output over {limits.output_max_entries:,} files and folders", u
    if u.truncated:
        return f"output nested deeper than {limits.output_max_depth} folders", u
    return None, u


def output_violation(out: Path, limits: RunLimits) -> str | None:
    """Why the output tree breaks the limits, or None (see :func:`measure_output`)."""
    return measure_output(out, limits)[0]


def _has_gpu(client) -> bool:
    try:
        runtimes = client.info().get("Runtimes", {})
    except Exception:
        return False
    return "nvidia" in runtimes or os.path.exists("/dev/nvidia0")


@dataclass
class RunResult:
    submission_id: str
    status: str
    reason: str
    run_seconds: float
    exit_code: int | None
    f1: float | None = None


class _Watchdog(threading.Thread):
    """Measures the output every ``watch_seconds`` and kills the container on a violation; it
    outlives anything the tree throws at it (``output_violation`` never raises)."""

    def __init__(self, container, out: Path, limits: RunLimits, report=None):
        super().__init__(daemon=True)
        self.container, self.out, self.limits, self.report = container, out, limits, report
        self.done = threading.Event()
        self.violation: str | None = None

    def run(self) -> None:
        t0 = last = time.perf_counter()
        while not self.done.wait(self.limits.watch_seconds):
            why, u = measure_output(self.out, self.limits)  # one walk serves limit and report
            now = time.perf_counter()
            if (
                self.report is not None
                and u is not None
                and now - last >= self.limits.report_seconds
            ):
                last = now
                try:
                    self.report(
                        f"running for {now - t0:.0f} s; output so far: {u.entries} entries,"
                        f" {u.bytes / 1e6:.1f} MB"
                    )
                except Exception:  # noqa: BLE001 - reporting never stops the watch
                    pass
            if why is not None:
                self.violation = why
                for _ in range(3):  # the kill itself can fail transiently
                    try:
                        self.container.kill()
                        return
                    except Exception:  # noqa: BLE001
                        time.sleep(0.5)
                return


def _container_kwargs(client, command, input_dir, out, limits: RunLimits) -> dict:
    import docker

    gpu = _has_gpu(client) if limits.gpu is None else limits.gpu
    kwargs = dict(
        command=[command],
        detach=True,
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"size={limits.tmp_size}"},
        mem_limit=limits.memory,
        memswap_limit=limits.memory,
        pids_limit=limits.pids,
        user=limits.user,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        volumes={
            str(Path(input_dir).resolve()): {"bind": "/input", "mode": "ro"},
            str(out.resolve()): {"bind": "/output", "mode": "rw"},
        },
        environment={"ADAPTOR_INPUT": "/input", "ADAPTOR_OUTPUT": "/output"},
    )
    if gpu:
        kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return kwargs


def run_submission(
    client,
    ledger: Ledger,
    image: str,
    team: str,
    input_dir: str | Path,
    gt_dir: str | Path,
    work_dir: str | Path,
    rules: PhaseRules,
    institute: str = "",
    limits: RunLimits = RunLimits(),
    command: str = "landmark_detection",
    report=None,
) -> RunResult:
    """Run ``image`` on ``input_dir``, score its output against ``gt_dir``, record everything;
    ``report(line)`` receives a progress line every ``limits.report_seconds`` while it runs.

    Raises, with nothing recorded: ``GroundTruthError`` for a ground truth that cannot be used,
    :class:`~adaptor_leaderboard.lifecycle.SubmissionInputError` for an input the container must
    not see (labels, the ground truth itself, other frames), ``PathError`` for a work folder
    inside an input, ``ValueError`` when the image is unknown to the engine, ``PermissionError``
    when the team has no submission left.
    """
    import docker

    gt = load_truth(gt_dir)  # everything that can be refused is, before the claim
    check_test_input(input_dir, gt)
    check_outputs({"--input": input_dir, "--ground-truth": gt_dir}, {"--work": work_dir})
    try:
        digest = client.images.get(image).id
    except docker.errors.ImageNotFound:
        raise ValueError(f"image {image!r} not found on the engine") from None
    sid = claim(ledger, team, rules, institute, image, digest)
    try:
        with settled(ledger, sid):  # our side broke (or Ctrl-C): never the team's loss
            return _run_claimed(
                client, ledger, sid, image, input_dir, gt, work_dir, rules, limits, command, report
            )
    except Exception as e:
        return RunResult(sid, "failed", f"infrastructure: {type(e).__name__}: {e}", 0.0, None)


def _run_claimed(
    client, ledger, sid, image, input_dir, gt_dir, work_dir, rules, limits, command, report=None
):
    import requests

    import docker

    run_dir = child(work_dir, sid, what="submission id")
    out = run_dir / "output"
    out.mkdir(parents=True)
    os.chmod(out, 0o777)  # the container's unprivileged user writes here
    ledger.set_status(sid, "running")
    t0 = time.perf_counter()
    try:
        container = client.containers.run(
            image, **_container_kwargs(client, command, input_dir, out, limits)
        )
    except docker.errors.APIError as e:
        reason = f"infrastructure: could not start the container: {e.explanation or e}"
        ledger.fail(sid, reason, ours=True)
        return RunResult(sid, "failed", reason, 0.0, None)

    watchdog = _Watchdog(container, out, limits, report)
    watchdog.start()
    exit_code, reason = None, ""
    try:
        try:
            exit_code = int(container.wait(timeout=limits.wall_seconds)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            container.kill()
            reason = f"time limit ({limits.wall_seconds:g} s)"
        seconds = time.perf_counter() - t0
        watchdog.done.set()
        watchdog.join()
        try:
            logs = container.logs(stdout=True, stderr=True, tail=5000)[-limits.log_max_bytes :]
        except Exception as e:  # noqa: BLE001
            logs = f"(logs unavailable: {e})".encode()
        atomic.write_bytes(run_dir / "container.log", logs)
    finally:
        watchdog.done.set()
        try:
            container.remove(force=True)
        except Exception:  # noqa: BLE001
            pass

    violation = watchdog.violation or output_violation(out, limits)
    if violation:
        reason = violation
        remove_tree(out)
    elif not reason and exit_code == 137:
        reason = "out of memory (exit 137)"
    elif not reason and exit_code != 0:
        missing, expected = missing_outputs(out, input_dir)
        if missing:
            reason = f"exit {exit_code}; {missing} of {expected} outputs missing"
    if reason:
        ledger.fail(sid, reason, ours=False, run_seconds=seconds)
        return RunResult(sid, "failed", reason, seconds, exit_code)
    note = f"exit {exit_code}; output complete, scored" if exit_code else ""
    try:
        report = score_into_ledger(
            ledger, sid, out, gt_dir, seconds, (*REPORT_RADII, rules.radius), note
        )
    except Exception as e:  # our side (the ground truth, the disk): not the team's fault
        reason = f"infrastructure: scoring failed: {e}"
        ledger.fail(sid, reason, ours=True, run_seconds=seconds)
        return RunResult(sid, "failed", reason, seconds, exit_code)
    f1 = next(s.f1 for s in report.overall() if s.radius == rules.radius)
    return RunResult(sid, "scored", note, seconds, exit_code, f1)

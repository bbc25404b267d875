"""Running a submitted image on the hidden test set and scoring it into the ledger.

Through the ``docker`` Python SDK (Docker, or podman's Docker-compatible socket): the GPU when
there is one, no network (``network_mode="none"``), ``/input`` read-only, a fresh ``/output``, a
read-only root file system with a small ``/tmp``, no capabilities, an unprivileged user, memory
and pid limits, a wall-clock limit. Whatever the container does — hang, crash, run out of memory,
flood its output, write symlinks or files outside the layout — fails or degrades its own
submission only: every path ends in a ledger status, and scoring treats the output as untrusted
input (see ``adaptor_score.predictions``).

Statuses and reasons: ``failed`` with ``time limit (N s)``, ``out of memory (exit 137)``,
``exit N``, ``output over N bytes``, ``infrastructure: ...`` (our side: does not count against the
team's limit); else ``scored``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, check_limit
from adaptor_score.scoring import score

RADII = (6.0, 8.0, 10.0)


@dataclass(frozen=True)
class RunLimits:
    wall_seconds: float = 3600.0
    memory: str = "16g"
    pids: int = 1024
    user: str = "10001:10001"
    gpu: bool | None = None  # None: request all GPUs when the engine host has any
    output_max_bytes: int = 1 << 30
    log_max_bytes: int = 4 << 20
    tmp_size: str = "1g"


def score_into_ledger(
    ledger: Ledger,
    submission_id: str,
    output_dir: str | Path,
    gt_dir: str | Path,
    run_seconds: float | None = None,
):
    """Score an output folder at 6/8/10 px and store it (overall, per surgery, per frame)."""
    report = score(gt_dir, output_dir, RADII)
    ledger.record_scoring(submission_id, report, str(gt_dir), run_seconds)
    return report


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


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
) -> RunResult:
    """Run ``image`` on ``input_dir``, score its output against ``gt_dir``, record everything."""
    import requests

    import docker

    refused = check_limit(ledger, rules, team)
    if refused:
        raise PermissionError(refused)
    try:
        digest = client.images.get(image).id
    except docker.errors.ImageNotFound:
        raise ValueError(f"image {image!r} not found on the engine") from None
    sid = ledger.add_submission(team, rules.phase, institute, image, digest)
    run_dir = Path(work_dir) / sid
    out = run_dir / "output"
    out.mkdir(parents=True)
    os.chmod(out, 0o777)  # the container's unprivileged user writes here
    ledger.set_status(sid, "running")

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
    t0 = time.perf_counter()
    try:
        container = client.containers.run(image, **kwargs)
    except docker.errors.APIError as e:
        ledger.set_status(
            sid, "failed", f"infrastructure: could not start the container: {e.explanation or e}"
        )
        return RunResult(sid, "failed", "infrastructure: could not start", 0.0, None)

    flooded = threading.Event()
    done = threading.Event()

    def watch_output():
        while not done.wait(1.0):
            if _tree_bytes(out) > limits.output_max_bytes:
                flooded.set()
                try:
                    container.kill()
                except Exception:
                    pass
                return

    watcher = threading.Thread(target=watch_output, daemon=True)
    watcher.start()
    exit_code, reason = None, ""
    try:
        try:
            exit_code = int(container.wait(timeout=limits.wall_seconds)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            container.kill()
            reason = f"time limit ({limits.wall_seconds:g} s)"
        seconds = time.perf_counter() - t0
        done.set()
        watcher.join()
        try:
            logs = container.logs(stdout=True, stderr=True, tail=5000)[-limits.log_max_bytes :]
        except Exception as e:
            logs = f"(logs unavailable: {e})".encode()
        (run_dir / "container.log").write_bytes(logs)
    finally:
        done.set()
        try:
            container.remove(force=True)
        except Exception:
            pass

    if flooded.is_set():
        reason = f"output over {limits.output_max_bytes:,} bytes"
        shutil.rmtree(out, ignore_errors=True)
    elif not reason and exit_code == 137:
        reason = "out of memory (exit 137)"
    elif not reason and exit_code != 0:
        reason = f"exit {exit_code}"
    if reason:
        ledger.set_status(sid, "failed", reason, seconds)
        return RunResult(sid, "failed", reason, seconds, exit_code)
    if _tree_bytes(out) > limits.output_max_bytes:
        ledger.set_status(sid, "failed", f"output over {limits.output_max_bytes:,} bytes", seconds)
        return RunResult(sid, "failed", "output over limit", seconds, exit_code)
    try:
        report = score_into_ledger(ledger, sid, out, gt_dir, seconds)
    except Exception as e:  # our side (e.g. the ground truth): not the team's fault
        ledger.set_status(sid, "failed", f"infrastructure: scoring failed: {e}", seconds)
        return RunResult(sid, "failed", f"infrastructure: {e}", seconds, exit_code)
    f1 = next(s.f1 for s in report.overall() if s.radius == rules.radius)
    return RunResult(sid, "scored", "", seconds, exit_code, f1)

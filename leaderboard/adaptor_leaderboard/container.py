"""Running one container under the organisers' limits: nothing here knows of the ledger.

Through the ``docker`` Python SDK (Docker, or podman's Docker-compatible socket): the GPU when
there is one, no network (``network_mode="none"``), ``/input`` read-only, a fresh ``/output``, a
read-only root file system with a small ``/tmp``, no capabilities, an unprivileged user, memory
and pid limits, a wall-clock limit, and an output limit in bytes, entries and depth that a
watchdog enforces while the container runs (:class:`Watchdog`). :func:`run_container` returns
what happened (:class:`ContainerRun`); :mod:`adaptor_leaderboard.runner` turns that into a
submission's status.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_score import atomic
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


class Watchdog(threading.Thread):
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


@dataclass
class ContainerRun:
    """What one container run did: ``reason`` is empty when its output may be scored, else why
    not (``infrastructure: ...`` when our side failed to start it)."""

    exit_code: int | None
    seconds: float
    reason: str
    ours: bool = False  # the failure is ours (the engine), not the team's


def run_container(
    client, image: str, command: str, input_dir: str | Path, run_dir: Path, limits: RunLimits,
    report=None,
) -> ContainerRun:  # fmt: skip
    """Run ``image`` on ``input_dir`` with its output in ``run_dir/output`` and its log in
    ``run_dir/container.log``; judge the output against the limits and the exit status."""
    import requests

    import docker

    out = run_dir / "output"
    out.mkdir(parents=True)
    os.chmod(out, 0o777)  # the container's unprivileged user writes here
    t0 = time.perf_counter()
    try:
        container = client.containers.run(
            image, **_container_kwargs(client, command, input_dir, out, limits)
        )
    except docker.errors.APIError as e:
        why = f"infrastructure: could not start the container: {e.explanation or e}"
        return ContainerRun(None, 0.0, why, ours=True)

    watchdog = Watchdog(container, out, limits, report)
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
    return ContainerRun(exit_code, seconds, reason)

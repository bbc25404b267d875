"""Finding the container engine the way users expect, and starting podman's API when needed.

In order: ``--docker-host``, then ``DOCKER_HOST``; else the first socket that answers among
Docker's (``/var/run/docker.sock``), podman's rootful (``/run/podman/podman.sock``) and rootless
(``$XDG_RUNTIME_DIR/podman/podman.sock``) ones. When none answers and ``podman`` is installed,
podman's Docker-compatible API is started for the run on a private socket
(``podman system service --time=0``) and stopped afterwards: only what this module started is
stopped. Otherwise the error says exactly what to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL = "/run/podman/podman.sock"


class EngineError(RuntimeError):
    """No container engine could be reached or started; the message says what to do."""


def candidate_sockets() -> list[str]:
    """The sockets to try, in order (``unix://`` URLs)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    paths = [DOCKER_SOCKET, PODMAN_ROOTFUL, f"{runtime}/podman/podman.sock"]
    return [f"unix://{p}" for p in dict.fromkeys(paths)]


def _client(url: str, timeout: float = 5.0):
    import docker

    client = docker.DockerClient(base_url=url, timeout=timeout)
    client.ping()
    return client


HOW_TO = (
    "no container engine answers. Start one and run again: Docker (`sudo systemctl start docker`),"
    " or podman's Docker-compatible API (`podman system service --time=0"
    " unix:///run/podman/podman.sock &` as root, or `systemctl --user start podman.socket`),"
    " or name its socket with --docker-host / DOCKER_HOST"
)


@contextmanager
def engine(docker_host: str | None = None, report=lambda line: None):
    """A connected ``docker.DockerClient`` for the duration of the block (see the module).

    Only connecting is this function's to judge: an engine error inside the block (a run that
    fails) goes on as it is, never renamed "cannot reach the container engine"."""
    client = _listening(docker_host, report)
    if client is not None:
        yield client
        return
    podman = shutil.which("podman")
    if podman is None:
        raise EngineError(HOW_TO)
    with _podman_service(podman, report) as url:
        yield _client(url)


def _listening(docker_host: str | None, report):
    """A client of the engine named (``--docker-host``, ``DOCKER_HOST``) or of the first socket
    that answers; ``None`` when none is named and none answers."""
    import docker

    explicit = docker_host or os.environ.get("DOCKER_HOST")
    if explicit:
        try:
            return _client(explicit)
        except docker.errors.DockerException as e:
            raise EngineError(f"cannot reach the container engine at {explicit}: {e}") from None
    tried = []
    for url in candidate_sockets():
        if not Path(url.removeprefix("unix://")).exists():
            continue
        try:
            client = _client(url)
        except docker.errors.DockerException as e:
            tried.append(f"{url} ({type(e).__name__})")
            continue
        report(f"container engine: {url}")
        return client
    if tried and shutil.which("podman") is None:
        raise EngineError(f"{HOW_TO}; tried {', '.join(tried)}")
    return None


@contextmanager
def _podman_service(podman: str, report, wait_s: float = 30.0):
    """podman's API on a private socket for the block; the service is stopped afterwards."""
    import docker

    folder = tempfile.mkdtemp(prefix="adaptor-podman-")
    url = f"unix://{folder}/podman.sock"
    log = open(Path(folder) / "service.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([podman, "system", "service", "--time=0", url],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                _client(url, timeout=2.0)
                break
            except docker.errors.DockerException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = (Path(folder) / "service.log").read_text(errors="replace")[-400:]
                    raise EngineError(f"podman's API service did not start: {tail.strip()}"
                                      f" ({HOW_TO})") from None  # fmt: skip
                time.sleep(0.2)
        report(f"container engine: podman's API, started for this run at {url}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)

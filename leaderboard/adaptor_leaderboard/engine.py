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
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

DOCKER_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL = "/run/podman/podman.sock"
# Connecting is judged in seconds; a call on the connected client may take as long as an image
# load of a few GB (seen: over a minute for 725 MB through podman): the client's timeout is this.
CONNECT_TIMEOUT = 5.0
CALL_TIMEOUT = 1800.0


class EngineError(RuntimeError):
    """No container engine could be reached or started; the message says what to do."""


def candidate_sockets() -> list[str]:
    """The sockets to try, in order (``unix://`` URLs)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    paths = [DOCKER_SOCKET, PODMAN_ROOTFUL, f"{runtime}/podman/podman.sock"]
    return [f"unix://{p}" for p in dict.fromkeys(paths)]


def _client(url: str, timeout: float = CONNECT_TIMEOUT):
    """A client of ``url`` that answered a ping within ``timeout``, then given
    :data:`CALL_TIMEOUT` for the calls to come. A malformed address (``tcp://127.0.0.1:99999``,
    ``http://[::1``) is a ``DockerException`` like an engine that does not answer."""
    import docker

    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
    except (ValueError, TypeError) as e:
        raise docker.errors.DockerException(f"not an engine address ({e})") from None
    client.ping()
    client.api.timeout = CALL_TIMEOUT
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
        with _stopped_by_signals():
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


class Stopped(SystemExit):
    """SIGTERM or SIGHUP arrived while this process held an engine it started."""


@contextmanager
def _stopped_by_signals():
    """SIGTERM and SIGHUP end the block as an exception, so every ``finally`` runs and the
    service this module started is stopped (their default action ends the process at once and
    left podman's service running, with its private folder). Main thread only (Python's rule);
    the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""Finding the container engine: what is tried, and what the user is told when nothing answers."""

import pytest

import adaptor_leaderboard.engine as engine_module
from adaptor_leaderboard.engine import EngineError, candidate_sockets, engine


def test_the_sockets_tried_are_dockers_then_podmans_rootful_then_rootless(monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1234")
    assert candidate_sockets() == [
        "unix:///var/run/docker.sock",
        "unix:///run/podman/podman.sock",
        "unix:///run/user/1234/podman/podman.sock",
    ]


def test_without_any_engine_the_error_says_what_to_run(monkeypatch, tmp_path):
    pytest.importorskip("docker")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(engine_module, "candidate_sockets", lambda: [f"unix://{tmp_path}/x.sock"])
    monkeypatch.setattr(engine_module.shutil, "which", lambda name: None)
    with pytest.raises(EngineError) as e, engine():
        pass
    assert "podman system service --time=0" in str(e.value)
    assert "systemctl start docker" in str(e.value)


def test_a_named_socket_that_does_not_answer_is_named(monkeypatch, tmp_path):
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/gone.sock")
    with pytest.raises(EngineError, match="gone.sock"), engine():
        pass


def test_an_engine_error_during_the_run_is_not_called_unreachable(monkeypatch):
    """Connecting is engine()'s to judge; what fails inside the block goes on as it is."""
    docker = pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere.sock")
    monkeypatch.setattr(engine_module, "_client", lambda url, timeout=5.0: object())
    with pytest.raises(docker.errors.APIError), engine():
        raise docker.errors.APIError("the run failed")


@pytest.mark.parametrize("host", ["tcp://127.0.0.1:99999", "http://[::1", "unix://", "ftp://x"])
def test_a_malformed_engine_address_is_an_error_that_names_it(monkeypatch, host):
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", host)
    with pytest.raises(EngineError) as e, engine():
        pass
    assert host in str(e.value)


CHILD = """
import sys, time
import adaptor_leaderboard.engine as m
m._client = lambda url, timeout=5.0: object()  # the stand-in service answers at once
with m._podman_service(sys.argv[1], lambda line: None) as url:
    print("READY", url, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_to_the_run_stops_the_service_it_started(tmp_path, signame):
    """A real process holding a started service (a stand-in script for podman, which records its
    pid) gets SIGTERM or SIGHUP: the service is stopped and its private folder removed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pytest.importorskip("docker")
    fake = tmp_path / "podman"
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path}/service.pid\nexec sleep 120\n")
    fake.chmod(0o755)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(fake)], stdout=subprocess.PIPE,
                             text=True)  # fmt: skip
    line = child.stdout.readline()
    assert line.startswith("READY"), line
    folder = line.split()[1].removeprefix("unix://").rsplit("/", 1)[0]
    deadline = time.monotonic() + 10
    while not (tmp_path / "service.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    service = int((tmp_path / "service.pid").read_text())
    child.send_signal(getattr(signal, signame))
    assert child.wait(20) == 128 + getattr(signal, signame)
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(service, 0)
    assert not os.path.exists(folder)

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

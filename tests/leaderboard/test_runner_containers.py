"""Submissions run through the Docker SDK against podman's Docker-compatible socket: hostile
containers fail their own submission, never the pipeline or another team's result.

Needs podman and the base image that `tools/container-engine.sh` builds; `make test-containers`
provides both and runs these tests. Elsewhere they are skipped with the reason.
"""

import os
import shutil
import subprocess
import time

import pytest

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules, rank_phase
from adaptor_leaderboard.runner import RunLimits, run_submission
from tests.leaderboard.conftest import images_only

pytestmark = pytest.mark.containers
BASE = "python:3.11-slim-bookworm"

# Each "submission" is a few lines of Python on the base image; {body} runs after the setup.
PROGRAM = """
import json, os, sys, time
inp, out = "/input", "/output"
images = [os.path.join(d, f) for d, _, fs in os.walk(inp) for f in fs if f.endswith(".png")]
def write_all(points):
    for img in images:
        rel = os.path.relpath(img, inp)
        target = os.path.join(out, rel[:-4] + ".json")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        parts = rel.split(os.sep)
        with open(target, "w") as f:
            json.dump({{"folderName": parts[0], "subfolderName": parts[1], "imageFileName": parts[-1],
                       "points": points}}, f)
{body}
"""

SUBMISSIONS = {
    "empty": "write_all([])",
    "translator": (  # both tasks; its "translation" copies each image (no transformation)
        "if sys.argv[1:] == ['domain_transformation']:\n"
        "    import shutil\n"
        "    for img in images:\n"
        "        target = os.path.join(out, os.path.relpath(img, inp))\n"
        "        os.makedirs(os.path.dirname(target), exist_ok=True)\n"
        "        shutil.copyfile(img, target)\n"
        "else:\n"
        "    write_all([])"
    ),
    "hang": "time.sleep(600)",
    "crash": "sys.exit(1)",
    "warn": "write_all([]); sys.exit(3)",  # complete output, non-zero exit: scored
    "fifo": (
        "write_all([])\n"
        "first = os.path.join(out, os.path.relpath(images[0], inp))[:-4] + '.json'\n"
        "os.remove(first); os.mkfifo(first)\n"  # reading it would block forever
        "os.mkfifo(os.path.join(out, 'stray.json'))"
    ),
    "deep": (
        "write_all([])\n"
        "p = out\n"
        "for i in range(1000):\n    p = os.path.join(p, 'd'); os.mkdir(p)\n"
        "for i in range(300):\n"
        "    open(os.path.join(out, f'tick{i}.txt'), 'w').write('x'); time.sleep(0.1)"
    ),
    "files": (
        "write_all([])\n"
        "os.makedirs(os.path.join(out, 'many'))\n"
        "for i in range(5000):\n    open(os.path.join(out, 'many', str(i)), 'w').close()\n"
        "time.sleep(30)"
    ),
    "oom": "hog = bytearray(400 * 1024 * 1024)\nfor i in range(0, len(hog), 4096): hog[i] = 1",
    "flood": "open('/output/flood.bin', 'wb').write(os.urandom(1 << 20) * 40)\ntime.sleep(30)",
    "malicious": (
        "write_all([{'x': 10, 'y': 10}])\n"
        "first = os.path.join(out, os.path.relpath(images[0], inp))[:-4] + '.json'\n"
        "os.remove(first); os.symlink('/etc/passwd', first)\n"
        "os.makedirs(os.path.join(out, 'elsewhere'), exist_ok=True)\n"
        "open(os.path.join(out, 'elsewhere', 'x.json'), 'w').write('{\"points\": [{\"x\": \"NaN\"}]}')\n"
        "import socket\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=3); net = 'network'\n"
        "except OSError: net = 'no network'\n"
        "open(os.path.join(out, 'net.txt'), 'w').write(net)\n"
        "try:\n    open('/input/intruder', 'w'); ro = 'input writable'\n"
        "except OSError: ro = 'input read-only'\n"
        "open(os.path.join(out, 'ro.txt'), 'w').write(ro)\n"
        "open(os.path.join(out, 'uid.txt'), 'w').write(str(os.getuid()))"
    ),
}


@pytest.fixture(scope="module")
def socket_url(tmp_path_factory):
    """podman's Docker-compatible API on a private socket, with the hostile images built."""
    if shutil.which("podman") is None:
        pytest.skip("no podman on this machine (make test-containers installs it where it can)")
    if subprocess.run(["podman", "image", "exists", BASE]).returncode != 0:
        pytest.skip(f"base image {BASE} missing (tools/container-engine.sh builds it)")
    import docker

    sock = tmp_path_factory.mktemp("podman") / "podman.sock"
    # Its own working folder: conmon leaves an 'oom' marker file in the service's cwd.
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=sock.parent,
    )
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.1)
    url = f"unix://{sock}"
    docker.DockerClient(base_url=url).ping()
    root = tmp_path_factory.mktemp("images")
    for name, body in SUBMISSIONS.items():
        ctx = root / name
        ctx.mkdir()
        (ctx / "run.py").write_text(PROGRAM.format(body=body))
        (ctx / "Dockerfile").write_text(
            f'FROM {BASE}\nCOPY run.py /run.py\nENTRYPOINT ["python3", "/run.py"]\n'
        )
        subprocess.run(
            ["podman", "build", "-q", "-t", f"adaptor-hostile/{name}", str(ctx)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    yield url
    service.terminate()
    service.wait(timeout=10)


@pytest.fixture(scope="module")
def engine(socket_url):
    import docker

    client = docker.DockerClient(base_url=socket_url)
    yield client
    client.close()


LIMITS = RunLimits(
    wall_seconds=20,
    memory="128m",
    pids=64,
    gpu=False,
    output_max_bytes=8 << 20,
    output_max_entries=2000,
)


def run(engine, ledger, name, test_set, tmp_path, **kw):
    gt, _ = test_set
    return run_submission(
        engine,
        ledger,
        f"adaptor-hostile/{name}",
        name,
        images_only(gt),
        gt,
        tmp_path / "runs",
        PhaseRules("test", max_submissions=None),
        limits=kw.pop("limits", LIMITS),
        **kw,
    )


def test_hostile_containers_fail_only_themselves(engine, test_set, tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        results = {}
        results["empty"] = run(engine, ledger, "empty", test_set, tmp_path)
        results["hang"] = run(
            engine,
            ledger,
            "hang",
            test_set,
            tmp_path,
            limits=RunLimits(wall_seconds=4, memory="128m", pids=64, gpu=False),
        )
        for name in ("crash", "warn", "fifo", "deep", "files", "oom", "flood", "malicious"):
            results[name] = run(engine, ledger, name, test_set, tmp_path)
        assert results["empty"].status == "scored" and results["empty"].f1 == 0.0
        assert results["hang"].reason == "time limit (4 s)"
        assert results["crash"].status == "failed"
        assert (
            results["crash"].reason.startswith("exit 1;")
            and "outputs missing" in results["crash"].reason
        )
        assert results["warn"].status == "scored" and results["warn"].reason.startswith("exit 3;")
        # FIFOs in the output neither hang the scorer nor get read; they are problems
        assert results["fifo"].status == "scored"
        # a thousand nested folders and five thousand empty files: killed by the watchdog,
        # well before the wall-clock limit
        assert results["deep"].reason == "output nested deeper than 16 folders"
        assert results["deep"].run_seconds < 15
        assert results["files"].reason == "output over 2,000 files and folders"
        assert results["files"].run_seconds < 15
        assert results["oom"].reason == "out of memory (exit 137)"
        assert results["flood"].reason.startswith("output over")
        assert results["malicious"].status == "scored"
        # every run left a status and its logs; the ledger agrees
        statuses = {s.team: (s.status, s.reason) for s in ledger.submissions()}
        assert statuses["hang"][0] == statuses["oom"][0] == "failed"
        for r in results.values():
            assert (tmp_path / "runs" / r.submission_id / "container.log").exists()
        # the malicious run: sandboxed, and its tricks only cost it
        out = tmp_path / "runs" / results["malicious"].submission_id / "output"
        assert (out / "net.txt").read_text() == "no network"
        assert (out / "ro.txt").read_text() == "input read-only"
        assert (out / "uid.txt").read_text() == "10001"
        sid = results["malicious"].submission_id
        problems = ledger._conn.execute(
            "SELECT problems FROM scorings WHERE submission_id = ?", (sid,)
        ).fetchone()[0]
        assert problems >= 2  # the symlink out of the tree and the stray broken file
        fifo_problems = ledger._conn.execute(
            "SELECT problems FROM scorings WHERE submission_id = ?",
            (results["fifo"].submission_id,),
        ).fetchone()[0]
        assert fifo_problems >= 2  # the FIFO in place of a result and the stray FIFO
        charged = {s.team: s.charged for s in ledger.submissions()}
        assert all(charged.values())  # every one of these failures is the team's own
        board = rank_phase(ledger, PhaseRules("test"))
        assert {s.team for s in board} == {"empty", "malicious", "warn", "fifo"}


def test_limits_are_enforced_before_running(engine, test_set, tmp_path):
    gt, _ = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        rules = PhaseRules("test", max_submissions=1)
        run_submission(
            engine,
            ledger,
            "adaptor-hostile/empty",
            "T",
            images_only(gt),
            gt,
            tmp_path / "runs",
            rules,
            limits=LIMITS,
        )
        with pytest.raises(PermissionError, match="used its 1 submissions"):
            run_submission(
                engine,
                ledger,
                "adaptor-hostile/empty",
                "T",
                images_only(gt),
                gt,
                tmp_path / "runs",
                rules,
                limits=LIMITS,
            )
        with pytest.raises(ValueError, match="not found"):
            run_submission(
                engine,
                ledger,
                "adaptor-hostile/none-such",
                "U",
                images_only(gt),
                gt,
                tmp_path / "runs",
                rules,
            )
    assert os.path.exists(tmp_path / "l.sqlite")


def test_run_command_through_the_cli(engine, socket_url, test_set, tmp_path):
    from click.testing import CliRunner

    from adaptor_leaderboard.cli import main

    gt, _ = test_set
    common = [
        "--input",
        str(images_only(gt)),
        "--ground-truth",
        str(gt),
        "--ledger",
        str(tmp_path / "l.sqlite"),
        "--work",
        str(tmp_path / "runs"),
        "--docker-host",
        socket_url,
        "--no-gpu",
        "--memory",
        "256m",
        "--time-limit",
        "30",
    ]
    ok = CliRunner().invoke(main, ["run", "adaptor-hostile/empty", "--team", "A", *common])
    assert ok.exit_code == 0 and "scored, F1@6 0.0000" in ok.output, ok.output
    bad = CliRunner().invoke(main, ["run", "adaptor-hostile/crash", "--team", "B", *common])
    assert bad.exit_code == 1 and "failed: exit 1;" in bad.output, bad.output
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert [(s.team, s.status) for s in ledger.submissions()] == [
            ("A", "scored"),
            ("B", "failed"),
        ]
    # the labels as the container's input: refused before the claim, with the engine right there
    labels = [*common]
    labels[labels.index("--input") + 1] = str(gt)
    shown = CliRunner().invoke(main, ["run", "adaptor-hostile/empty", "--team", "C", *labels])
    assert shown.exit_code == 2 and "would see the labels" in shown.output, shown.output
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert [s.team for s in ledger.submissions()] == ["A", "B"]


def test_the_translation_task_runs_beside_a_submission_and_never_charges(engine, test_set,
                                                                          tmp_path):  # fmt: skip
    """A container that offers domain_transformation is run on its own input and recorded; one
    that does not is recorded as not offering it; neither changes the landmark submission."""
    from adaptor_leaderboard.translations import latest, run_translations

    gt, _ = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        inputs = {"sim": images_only(gt)}
        done = {}
        for name in ("translator", "empty"):
            r = run(engine, ledger, name, test_set, tmp_path)
            assert r.status == "scored"
            (done[name],) = run_translations(engine, ledger, r.submission_id,
                                             f"adaptor-hostile/{name}", inputs, tmp_path / "runs",
                                             LIMITS)  # fmt: skip
            assert ledger.get(r.submission_id).status == "scored"  # untouched either way
        t = done["translator"]
        assert t.status == "translated" and t.written == t.images > 0
        assert t.problems == t.images  # each "translation" is the input itself: listed
        assert done["empty"].status == "not offered" and "exit 0" in done["empty"].reason
        rows = {(r["team"], r["domain"]): r["status"] for r in latest(ledger, "test")}
        assert rows == {("translator", "sim"): "translated", ("empty", "sim"): "not offered"}
        assert all(s.charged for s in ledger.submissions())  # one charge each: the landmark run


def test_run_starts_podmans_api_itself_when_no_engine_listens(
    engine, socket_url, test_set, tmp_path, monkeypatch
):
    """No --docker-host, no DOCKER_HOST, no socket answering: `run` of an archive starts podman's
    API for the run on a private socket, loads and runs it, and stops the service (nothing of it
    is left running)."""
    from click.testing import CliRunner

    import adaptor_leaderboard.engine as engine_module
    from adaptor_leaderboard.cli import main

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(engine_module, "candidate_sockets", lambda: [f"unix://{tmp_path}/none.sock"])
    gt, _ = test_set
    archive = tmp_path / "team-z.tar.gz"
    subprocess.run(["podman", "tag", "adaptor-hostile/empty", "team-z/detector:1"], check=True)
    subprocess.run(f"podman save -q --format docker-archive team-z/detector:1 | gzip > {archive}",
                   shell=True, check=True)  # fmt: skip
    subprocess.run(["podman", "rmi", "team-z/detector:1"], stdout=subprocess.DEVNULL)
    r = CliRunner().invoke(main, ["run", str(archive), "--team", "Z",
                                  "--input", str(images_only(gt)), "--ground-truth", str(gt),
                                  "--ledger", str(tmp_path / "l.sqlite"), "--work", str(tmp_path / "runs"),
                                  "--no-gpu", "--memory", "256m", "--time-limit", "30"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "podman's API, started for this run" in r.output and "scored" in r.output
    left = subprocess.run(["pgrep", "-f", "adaptor-podman-"], capture_output=True, text=True)
    assert left.stdout.strip() == "", left.stdout


def test_an_archive_submission_is_loaded_recorded_and_run_by_its_id(
    engine, socket_url, test_set, tmp_path
):
    """`docker save` output as the submission: loaded into the engine, its SHA-256 and the image's
    id recorded, run by id; an archive of two images, and one carrying another team's tag, are
    refused before anything is claimed."""
    import hashlib

    from click.testing import CliRunner

    from adaptor_leaderboard.cli import main

    gt, _ = test_set
    archive = tmp_path / "team-a.tar"
    subprocess.run(["podman", "tag", "adaptor-hostile/empty", "team-a/detector:v1"], check=True)
    subprocess.run(["podman", "save", "-q", "--format", "docker-archive", "-o", str(archive),
                    "team-a/detector:v1"], check=True)  # fmt: skip
    subprocess.run(["podman", "rmi", "team-a/detector:v1"], stdout=subprocess.DEVNULL)
    common = ["--input", str(images_only(gt)), "--ground-truth", str(gt),
              "--ledger", str(tmp_path / "l.sqlite"), "--work", str(tmp_path / "runs"),
              "--docker-host", socket_url, "--no-gpu", "--memory", "256m", "--time-limit", "30"]  # fmt: skip
    r = CliRunner().invoke(main, ["run", str(archive), "--team", "A", *common])
    assert r.exit_code == 0 and "scored" in r.output, r.output
    with Ledger(tmp_path / "l.sqlite") as ledger:
        (s,) = ledger.submissions()
    assert s.archive == f"team-a.tar sha256:{hashlib.sha256(archive.read_bytes()).hexdigest()}"
    assert s.image.endswith("team-a/detector:v1") and s.digest.startswith("sha256:")  # podman: localhost/
    assert s.digest == engine.images.get("team-a/detector:v1").id
    stolen = CliRunner().invoke(main, ["run", str(archive), "--team", "B", *common])
    assert stolen.exit_code == 2 and "team A's submission" in stolen.output, stolen.output
    two = tmp_path / "two.tar"
    subprocess.run(["podman", "save", "-q", "--multi-image-archive", "-o", str(two),
                    "adaptor-hostile/empty", "adaptor-hostile/crash"], check=True)  # fmt: skip
    r = CliRunner().invoke(main, ["run", str(two), "--team", "C", *common])
    assert r.exit_code == 2 and "holds 2 images" in r.output, r.output
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert len(ledger.submissions()) == 1  # nothing claimed for the refused ones


def test_a_queue_of_archives_killed_and_resumed_runs_nothing_twice(
    engine, socket_url, test_set, tmp_path
):
    """Three archives (one broken), the queue killed (SIGKILL) during the second run, then run
    again: the first is not run again, the second runs again uncharged, the broken one is never
    claimed, and the board is published after each scored submission."""
    import signal
    import sys

    gt, _ = test_set
    queue = tmp_path / "queue"
    queue.mkdir()
    for team, image in (("a-empty", "adaptor-hostile/empty"), ("b-hang", "adaptor-hostile/hang")):
        subprocess.run(["podman", "tag", image, f"{team}/x:1"], check=True)
        subprocess.run(["podman", "save", "-q", "--format", "docker-archive", "-o",
                        str(queue / f"{team}.tar"), f"{team}/x:1"], check=True)  # fmt: skip
        subprocess.run(["podman", "rmi", f"{team}/x:1"], stdout=subprocess.DEVNULL)
    (queue / "c-broken.tar.gz").write_bytes(b"\x1f\x8b broken")
    ledger_path = tmp_path / "l.sqlite"
    cmd = [sys.executable, "-c", "import sys; from adaptor_leaderboard.cli import main; sys.exit(main())",
           "run", str(queue), "--input", str(images_only(gt)), "--ground-truth", str(gt),
           "--ledger", str(ledger_path), "--work", str(tmp_path / "runs"), "--docker-host", socket_url,
           "--no-gpu", "--memory", "256m", "--time-limit", "8", "--publish", str(tmp_path / "site")]  # fmt: skip
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if ledger_path.exists():
            with Ledger(ledger_path) as ledger:
                if any(s.team == "b-hang" and s.status == "running" for s in ledger.submissions()):
                    break
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert (tmp_path / "site" / "index.html").exists()  # published after a-empty was scored
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stdout + second.stderr  # an item was refused
    assert "[1 of 3] a-empty: a-empty.tar: done before" in second.stdout
    assert "[3 of 3] c-broken: c-broken.tar.gz: refused, not claimed" in second.stdout
    with Ledger(ledger_path) as ledger:
        subs = [(s.team, s.status, s.charged) for s in ledger.submissions()]
    assert subs[0] == ("a-empty", "scored", True)
    assert subs[1] == ("b-hang", "failed", False)  # interrupted by the kill: given back
    assert subs[2][:2] == ("b-hang", "failed") and subs[2][2]  # its own run: the time limit
    assert len(subs) == 3


def test_an_archive_with_translate_runs_both_tasks_on_the_loaded_image(
    engine, socket_url, test_set, tmp_path
):
    """`run ARCHIVE --translate`: the translation runs the image the archive brought (by the id
    the ledger recorded), not a container named after the archive's path."""
    from click.testing import CliRunner

    from adaptor_leaderboard.cli import main
    from adaptor_leaderboard.translations import latest

    gt, _ = test_set
    archive = tmp_path / "team-t.tar"
    subprocess.run(["podman", "tag", "adaptor-hostile/translator", "team-t/both:1"], check=True)
    subprocess.run(["podman", "save", "-q", "--format", "docker-archive", "-o", str(archive),
                    "team-t/both:1"], check=True)  # fmt: skip
    subprocess.run(["podman", "rmi", "team-t/both:1"], stdout=subprocess.DEVNULL)
    sim = tmp_path / "sim-input"
    shutil.copytree(images_only(gt), sim)
    r = CliRunner().invoke(main, ["run", str(archive), "--team", "T", "--translate", f"sim={sim}",
                                  "--input", str(images_only(gt)), "--ground-truth", str(gt),
                                  "--ledger", str(tmp_path / "l.sqlite"), "--work", str(tmp_path / "runs"),
                                  "--docker-host", socket_url, "--no-gpu", "--memory", "256m",
                                  "--time-limit", "30"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "domain_transformation on sim: translated" in r.output, r.output
    with Ledger(tmp_path / "l.sqlite") as ledger:
        assert [x["status"] for x in latest(ledger, "test")] == ["translated"]

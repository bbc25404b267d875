"""The organisers' side against hostile inputs: containers never see labels, refusals never cost
a submission, names are identities, and a board is published whole or not at all."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from adaptor_leaderboard import lifecycle
from adaptor_leaderboard.cli import main
from adaptor_leaderboard.ledger import Ledger, LedgerError, LimitReached
from adaptor_leaderboard.lifecycle import SubmissionInputError, check_test_input
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.runner import run_submission
from adaptor_score.groundtruth import load_ground_truth


def _images_only(gt, dst):
    shutil.copytree(gt, dst, ignore=shutil.ignore_patterns("point_labels", "synth.json"))
    return dst


@pytest.mark.parametrize(
    "make_input",
    [
        lambda gt, tmp: gt,  # the ground truth itself
        lambda gt, tmp: next(p for p in gt.iterdir() if p.is_dir()),  # inside it
        lambda gt, tmp: gt.parent,  # holding it
        lambda gt, tmp: shutil.copytree(gt, tmp / "copy"),  # a copy with point_labels/
        lambda gt, tmp: (_images_only(gt, tmp / "s"), shutil.copy(gt / "synth.json", tmp / "s"))[0],
        lambda gt, tmp: (_images_only(gt, tmp / "j"), (tmp / "j" / "a.json").write_text("{}"))[0],
        lambda gt, tmp: (tmp / "empty").mkdir() or tmp / "empty",  # no image
        lambda gt, tmp: (
            _images_only(gt, tmp / "fewer"),
            next((tmp / "fewer").rglob("*.png")).unlink(),
        )[0],
        lambda gt, tmp: (
            _images_only(gt, tmp / "more"),
            shutil.copy(
                next((tmp / "more").rglob("*.png")),
                next((tmp / "more").rglob("images")) / "999999.png",
            ),
        )[0],  # fmt: skip
    ],
)
def test_an_input_a_container_must_not_see_is_refused_before_the_claim(
    test_set, tmp_path, make_input
):
    gt, _ = test_set
    bad = make_input(gt, tmp_path)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        with pytest.raises(SubmissionInputError):
            # no engine is needed: the refusal comes before anything is asked of it
            run_submission(None, ledger, "img", "Team A", bad, gt, tmp_path / "runs",
                           PhaseRules(phase="test", max_submissions=1))  # fmt: skip
        assert ledger.submissions() == []  # nothing claimed, nothing charged
    assert not (tmp_path / "runs").exists()


def test_the_images_alone_pass(test_set, tmp_path):
    gt, _ = test_set
    inp = _images_only(gt, tmp_path / "in")
    assert check_test_input(inp, load_ground_truth(gt)) == len(load_ground_truth(gt))


def test_team_names_are_identities(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.add_submission("Team A", "test", limit=1)
        for alias in ("Team A ", " Team  A", "team a", "TEAM\u00a0A", "Ｔｅａｍ Ａ"):  # NFKC
            with pytest.raises(LimitReached):
                ledger.add_submission(alias, "test", limit=1)
        for hidden in ("Team A\u200b", "Team\u202eA", "Team A\u2066", "Te\u00adam A", "A\x07"):
            with pytest.raises(LedgerError, match="invisible or control character"):
                ledger.add_submission(hidden, "test", limit=1)
        assert {s.team for s in ledger.submissions()} == {"Team A"}
        ledger.register_team("team a", institute="Uni A")
        assert list(ledger.teams()) == ["Team A"]


def test_the_cli_says_so_for_a_hidden_character(test_set, tmp_path):
    gt, teams = test_set
    args = ["ledger", "add-output", str(teams["good"]), "--ground-truth", str(gt), "--ledger",
            str(tmp_path / "l.sqlite"), "--team"]  # fmt: skip
    r = CliRunner().invoke(main, [*args, "Team A\u200b"])
    assert r.exit_code == 2 and "invisible" in r.output


def test_add_output_checks_before_it_claims_and_our_failures_cost_nothing(
    test_set, tmp_path, monkeypatch
):
    gt, teams = test_set
    ledger_path = tmp_path / "l.sqlite"
    base = ["ledger", "add-output", "--ground-truth", str(gt), "--ledger", str(ledger_path),
            "--team", "T"]  # fmt: skip
    r = CliRunner().invoke(main, [*base, str(gt)])  # the ground truth as the output
    assert r.exit_code == 2 and "overlaps the ground truth" in r.output

    def broken(*a, **k):
        raise RuntimeError("scorer crashed")

    monkeypatch.setattr(lifecycle, "score_into_ledger", broken)
    r = CliRunner().invoke(main, [*base, str(teams["good"])])
    assert r.exit_code == 2 and "not counted against the team" in r.output
    with Ledger(ledger_path) as ledger:
        [s] = ledger.submissions()
        assert s.status == "failed" and not s.charged and "scorer crashed" in s.reason


@pytest.fixture
def board(test_set, tmp_path):
    """A ledger with three scored teams (one with a hostile name) and its published site."""
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    names = {"good": "<img src=x onerror=alert(1)>", "mid": "Mid", "weak": "Weak"}
    for key, name in names.items():
        r = CliRunner().invoke(main, ["ledger", "add-output", str(teams[key]), "--ground-truth",
                                      str(gt), "--ledger", str(path), "--team", name])  # fmt: skip
        assert r.exit_code == 0, r.output
    site = tmp_path / "site"
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site),
                                  "--bootstrap", "20"])  # fmt: skip
    assert r.exit_code == 0, r.output
    return path, site


def _snapshot(site):
    return {p.name: p.read_bytes() for p in site.iterdir()}


def test_markdown_escapes_html_in_names(board):
    _, site = board
    md = (site / "leaderboard.md").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and "<img" not in md


def test_a_radius_that_was_not_scored_is_refused_and_the_board_kept(board, tmp_path):
    path, site = board
    before = _snapshot(site)
    rules = tmp_path / "rules.toml"
    rules.write_text("[phase.test]\nradius = 7\n")
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site),
                                  "--rules", str(rules)])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "rank at 7 px" in r.output
    assert _snapshot(site) == before


def test_teams_scored_on_different_frames_are_refused_and_the_board_kept(board, test_set, tmp_path):
    path, site = board
    gt, teams = test_set
    smaller = shutil.copytree(gt, tmp_path / "gt-small")
    next(smaller.rglob("point_labels/*.json")).unlink()
    r = CliRunner().invoke(main, ["ledger", "add-output", str(teams["mid"]), "--ground-truth",
                                  str(smaller), "--ledger", str(path), "--team", "Other"])  # fmt: skip
    assert r.exit_code == 0, r.output
    before = _snapshot(site)
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site)])
    assert r.exit_code == 2, r.output
    assert "different frame sets" in r.output and "Other" in r.output
    assert _snapshot(site) == before


def test_a_full_disk_during_publish_keeps_the_previous_site(board):
    path, site = board
    before = _snapshot(site)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    code = "import sys; from adaptor_leaderboard.cli import main; sys.exit(main())"
    r = subprocess.run(
        [sys.executable, "-c", code, "publish", "--ledger", str(path), "--out", str(site),
         "--bootstrap", "20"],
        capture_output=True, text=True, preexec_fn=limit,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "cannot write" in r.stderr and "Traceback" not in r.stderr
    assert _snapshot(site) == before
    assert [p.name for p in site.parent.iterdir() if p.name.startswith(".site")] == []


def test_publish_never_deletes_files_it_did_not_write(board):
    path, site = board
    (site / "notes.md").write_text("the organiser's notes")
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site)])
    assert r.exit_code == 2 and "did not write" in r.output
    assert (site / "notes.md").exists()
    json.loads((site / "leaderboard.json").read_text())  # the old board, whole


def test_deeply_nested_rules_are_a_named_refusal(board, tmp_path):
    path, site = board
    rules = tmp_path / "deep.toml"
    rules.write_text("[phase.test]\nx = " + "[" * 20000 + "]" * 20000 + "\n")
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site),
                                  "--rules", str(rules)])  # fmt: skip
    assert r.exit_code == 2 and "deep.toml" in r.output and "nested too deeply" in r.output


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("tie_decimals = 400", "tie_decimals must be between 0 and 12"),
        ("tie_decimals = 13", "tie_decimals must be between 0 and 12"),
        ("display_decimals = 1000000", "display_decimals must be between 0 and 12"),
        ("radius = 1e9", "radius must be between 0 and 587 px"),
        ("radius = -1", "radius must be between 0 and 587 px"),
    ],
)
def test_rules_that_would_silently_change_the_ranking_are_refused(board, tmp_path, rule, said):
    path, site = board
    before = _snapshot(site)
    rules = tmp_path / "rules.toml"
    rules.write_text(f"[phase.test]\n{rule}\n")
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site),
                                  "--rules", str(rules)])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert said in r.output and "rules.toml" in r.output
    assert _snapshot(site) == before


@pytest.mark.parametrize(
    "option", [["--bootstrap", "1000000000"], ["--bootstrap", "-1"], ["--seed", "-1"],
               ["--seed", str(2**64)], ["--unit", "pixel"]],
)  # fmt: skip
def test_publish_options_out_of_bounds_are_refused_before_work(board, option):
    path, site = board
    before = _snapshot(site)
    r = CliRunner().invoke(main, ["publish", "--ledger", str(path), "--out", str(site), *option])
    assert r.exit_code == 2 and option[0] in r.output and "Traceback" not in r.output
    assert _snapshot(site) == before


def test_a_rank_with_too_many_decimals_is_refused_in_python_too():
    from adaptor_leaderboard.ranking import rank

    with pytest.raises(ValueError, match="between 0 and 12"):
        rank([0.5, 0.6], tie_decimals=400)

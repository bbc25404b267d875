"""Running a challenge for weeks: every outcome explained to its team, phases with dates, results
private until the reveal, and one publication configuration that no re-publish loses (the engine
and the container run stood in for here; test_runner_containers.py runs them for real)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import adaptor_leaderboard.engine as engine_module
import adaptor_leaderboard.runner as runner_module
from adaptor_leaderboard.cli import main
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.lifecycle import claim
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.refusals import refusals
from adaptor_leaderboard.runner import RunResult, score_into_ledger
from adaptor_leaderboard.teamreport import team_reports
from tests.leaderboard.test_queue import archive


@pytest.fixture
def queue(tmp_path, test_set, monkeypatch):
    """A queue of three teams: Alpha's archive scores, Beta's container crashes (its log says
    why), Gamma's archive is not an image. The engine is a stand-in; scoring is real."""
    gt, teams = test_set
    q = tmp_path / "q"
    q.mkdir()
    archive(q / "Alpha.tar", "alpha/det:1")
    archive(q / "Beta.tar", "beta/det:1")
    (q / "Gamma.tar.gz").write_bytes(b"not an image archive at all")

    def run_submission(client, ledger, source, team, input_dir, gt_dir, work_dir, rules,
                       institute="", limits=None, report=None):  # fmt: skip
        sid = claim(ledger, team, rules, institute, source.tags[0], "sha256:x", source.record)
        run_dir = work_dir / sid
        run_dir.mkdir(parents=True)
        if team == "Beta":
            (run_dir / "container.log").write_text(
                "loading weights\nTraceback (most recent call last):\n"
                "FileNotFoundError: /app/weights/model.pt\n")  # fmt: skip
            ledger.fail(sid, "exit 1; 8 of 8 outputs missing", ours=False)
            return RunResult(sid, "failed", "exit 1; 8 of 8 outputs missing", 1.0, 1)
        (run_dir / "container.log").write_text("predicted 8 frames\n")
        score_into_ledger(ledger, sid, teams["good"], gt_dir)
        return RunResult(sid, "scored", "", 1.0, 0, 0.9)

    monkeypatch.setattr(engine_module, "_listening", lambda *a: object())
    monkeypatch.setattr(runner_module, "run_submission", run_submission)
    return q, gt


def test_a_queue_explains_each_outcome_to_its_team_and_exits_2(queue, tmp_path):
    q, gt = queue
    ledger_path, work = tmp_path / "l.sqlite", tmp_path / "runs"
    r = CliRunner().invoke(main, ["run", str(q), "--input", str(gt), "--ground-truth", str(gt),
                                  "--work", str(work), "--ledger", str(ledger_path)])  # fmt: skip
    assert r.exit_code == 2, r.output  # one item refused
    out = tmp_path / "reports"
    r = CliRunner().invoke(main, ["report", "--ledger", str(ledger_path), "--work", str(work),
                                  "--out", str(out), "--json", str(tmp_path / "r.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    reports = {x["team"]: x for x in json.loads((tmp_path / "r.json").read_text())}
    assert set(reports) == {"Alpha", "Beta", "Gamma"}
    (beta,) = reports["Beta"]["submissions"]
    assert beta["state"] == "failed" and "outputs missing" in beta["reason"] and beta["charged"]
    assert beta["log"].endswith("container.log") and "FileNotFoundError" in beta["log_tail"][-1]
    (alpha,) = reports["Alpha"]["submissions"]
    assert alpha["state"] == "scored" and alpha["score"]["f1"] > 0.5
    assert not reports["Gamma"]["submissions"]
    (refusal,) = reports["Gamma"]["refusals"]
    assert "Gamma.tar.gz" in refusal["source"] and "not a readable tar archive" in refusal["reason"]
    md = (out / "Beta.md").read_text()
    assert "exit 1; 8 of 8 outputs missing" in md and "FileNotFoundError" in md
    assert "container.log" in md and "counts towards the limit" in md
    assert "not a readable tar archive" in (out / "Gamma.md").read_text()
    r = CliRunner().invoke(main, ["ledger", "list", "--team", "beta", "--ledger", str(ledger_path),
                                  "--json", "-"])  # fmt: skip
    assert [row["team"] for row in json.loads(r.output)] == ["Beta"]
    site = tmp_path / "site"  # the page accounts for the failed submission too
    r = CliRunner().invoke(main, ["publish", "--ledger", str(ledger_path), "--out", str(site),
                                  "--bootstrap", "10"])  # fmt: skip
    assert r.exit_code == 0, r.output
    (unscored,) = json.loads((site / "leaderboard.json").read_text())["unscored"]
    assert unscored["team"] == "Beta" and unscored["state"] == "failed" and unscored["counted"]
    page = (site / "index.html").read_text()
    assert "Submissions without a score" in page and "8 of 8 outputs missing" in page


def test_a_submission_outside_its_phase_is_refused_before_the_claim_and_said(tmp_path, test_set):
    gt, teams = test_set
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[phase.test]\nopen = 2021-09-01T00:00:00Z\n"
                          "close = 2021-10-01T12:00:00Z\n")  # fmt: skip
    ledger_path = tmp_path / "l.sqlite"
    r = CliRunner().invoke(main, ["ledger", "add-output", str(teams["good"]), "--ground-truth",
                                  str(gt), "--team", "Late", "--rules", str(rules_file),
                                  "--ledger", str(ledger_path)])  # fmt: skip
    assert r.exit_code == 2 and "closed at 2021-10-01T12:00:00Z" in r.output, r.output
    with Ledger(ledger_path) as ledger:
        assert ledger.submissions() == []
        rules = PhaseRules(opens=1000.0, closes=2000.0)
        with pytest.raises(PermissionError, match="opens at"):
            claim(ledger, "Early", rules, now=999.0)
        sid = claim(ledger, "OnTime", rules, now=1500.0)
        assert ledger.get(sid).created_at == 1500.0  # the clock, read once, is the record
        with pytest.raises(PermissionError, match="closed at"):
            claim(ledger, "Late", rules, now=2000.0)


def test_a_private_phase_publishes_who_submitted_and_no_score_until_the_reveal(tmp_path, test_set):
    gt, teams = test_set
    ledger_path = tmp_path / "l.sqlite"
    with Ledger(ledger_path) as ledger:
        for team, out in (("Alpha", "good"), ("Beta", "weak")):
            score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), teams[out], gt)
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[phase.test]\npublic = false\nreveal = 2999-01-01T00:00:00Z\n")
    site = tmp_path / "site"
    r = CliRunner().invoke(main, ["publish", "--ledger", str(ledger_path), "--rules",
                                  str(rules_file), "--out", str(site), "--bootstrap", "10"])  # fmt: skip
    assert r.exit_code == 0, r.output
    public = {p.name for p in site.iterdir()}
    assert public == {"index.html", "leaderboard.json", "leaderboard.md"}
    page = (site / "index.html").read_text()
    assert "Alpha" in page and "Beta" in page and "2999-01-01" in page
    board = json.loads((site / "leaderboard.json").read_text())
    assert board["results"] == "private" and "standings" not in board
    import re

    for name in public:
        text = re.sub(r"<style>.*?</style>", "", (site / name).read_text(), flags=re.S)
        assert "F1" not in text and "f1" not in text and "0.9" not in text, name
    full = tmp_path / "site-organisers"
    assert json.loads((full / "leaderboard.json").read_text())["standings"][0]["team"] == "Alpha"
    rules_file.write_text("[phase.test]\npublic = false\nreveal = 2000-01-01T00:00:00Z\n")
    r = CliRunner().invoke(main, ["publish", "--ledger", str(ledger_path)])  # settings stored
    assert r.exit_code == 0, r.output
    assert json.loads((site / "leaderboard.json").read_text())["standings"][0]["f1"] > 0.5


def test_every_publish_uses_the_stored_settings_so_the_gallery_survives(tmp_path, test_set):
    """The organiser publishes once with the translation measures; later publishes (by hand or
    the queue's, which name only the site) keep the section, the replicates and the seed."""
    from adaptor_leaderboard.pubconfig import load, publish_phase, settle
    from adaptor_leaderboard.translations import add_translation
    from tests.leaderboard.conftest import images_only
    from tests.leaderboard.test_translations import _measures, _translate

    gt, teams = test_set
    inp = images_only(gt)
    ledger_path = tmp_path / "l.sqlite"
    with Ledger(ledger_path) as ledger:
        sid = ledger.add_submission("good", "test", "I")
        score_into_ledger(ledger, sid, teams["good"], gt)
        add_translation(ledger, sid, "sim", inp, _translate(inp, tmp_path / "tr"))
    m = _measures(tmp_path, gt, {"good": tmp_path / "tr"})
    site = tmp_path / "site"
    r = CliRunner().invoke(main, ["publish", "--ledger", str(ledger_path), "--out", str(site),
                                  "--bootstrap", "30", "--seed", "7",
                                  "--translation-measures", str(m)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Domain transformation" in (site / "index.html").read_text()
    settings = settle(ledger_path, {"out": site, "phase": "test"})  # what the queue does
    with Ledger(ledger_path) as ledger:
        from adaptor_leaderboard.cli_translations import translation_measures_file

        publish_phase(ledger, settings, PhaseRules("test"),
                      [translation_measures_file(p) for p in map(__import__("pathlib").Path,
                                                                    settings.measures)])  # fmt: skip
    board = json.loads((site / "leaderboard.json").read_text())
    assert board["bootstrap"]["replicates"] == 30 and board["bootstrap"]["seed"] == 7
    assert "Domain transformation" in (site / "index.html").read_text()
    assert (site / "gallery").is_dir() and load(ledger_path).measures == [str(m.resolve())]
    r = CliRunner().invoke(main, ["publish", "--ledger", str(ledger_path)])
    assert r.exit_code == 0 and "Domain transformation" in (site / "index.html").read_text()


def test_a_publish_without_any_stored_site_says_to_name_it(tmp_path, test_set):
    r = CliRunner().invoke(main, ["publish", "--ledger", str(tmp_path / "l.sqlite")])
    assert r.exit_code == 2 and "--out" in r.output


def test_refusals_are_recorded_for_the_team_under_its_ledger_name(tmp_path):
    from adaptor_leaderboard.refusals import record_refusal

    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.register_team("Team A", institute="I")
        record_refusal(ledger, "team  a", "test", "a.tar", "holds 2 images")
        record_refusal(ledger, "Bad\u0007Name", "test", "b.tar", "control character")
        assert [r["team"] for r in refusals(ledger)] == ["Team A", "Bad\u0007Name"]
        assert len(refusals(ledger, team="TEAM A")) == 1
        reports = team_reports(ledger, PhaseRules("test"), tmp_path / "runs")
    assert [x["team"] for x in reports] == ["Team A", "Bad\u0007Name"]

"""Submission accounting and the ledger on a bad day: concurrent claims, our failures, stale
runs, clocks that step back, old, read-only, corrupt and full ledgers, hostile team names."""

import csv
import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from adaptor_leaderboard.cli import main
from adaptor_leaderboard.ledger import Ledger, LedgerError, LimitReached
from adaptor_leaderboard.ranking import PhaseRules, rank_phase
from adaptor_leaderboard.runner import RunLimits, run_submission, score_into_ledger

CLAIM = textwrap.dedent("""
    import sys, time
    from adaptor_leaderboard.ledger import Ledger, LimitReached
    with Ledger(sys.argv[1]) as ledger:
        while time.time() < float(sys.argv[2]):  # start together
            pass
        try:
            print(ledger.add_submission("A", "test", limit=1))
        except LimitReached:
            print("refused")
""")


def test_concurrent_claims_cannot_both_pass_the_limit(tmp_path):
    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM, str(path), str(start)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    answers = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert answers.count("refused") == 3, answers
    with Ledger(path) as ledger:
        assert len(ledger.submissions()) == 1


class _Images:
    def get(self, image):
        return type("Image", (), {"id": "sha256:feed"})()


class _BrokenEngine:
    """An engine whose container start breaks with something other than an API error."""

    images = _Images()

    class containers:  # noqa: N801
        @staticmethod
        def run(*a, **k):
            raise RuntimeError("socket closed under us")

    def info(self):
        return {}


def test_our_failures_never_use_up_a_submission(tmp_path, test_set):
    import shutil

    gt, _ = test_set  # a real test set: the input checks run before the claim
    images = shutil.copytree(
        gt, tmp_path / "in", ignore=shutil.ignore_patterns("point_labels", "*.json")
    )
    rules = PhaseRules("test", max_submissions=1)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        r = run_submission(
            _BrokenEngine(),
            ledger,
            "img",
            "A",
            images,
            gt,
            tmp_path / "w",
            rules,
            limits=RunLimits(gpu=False),
        )
        assert r.status == "failed" and r.reason.startswith("infrastructure: RuntimeError")
        s = ledger.get(r.submission_id)
        assert s.status == "failed" and not s.charged
        # the team still has its one submission
        sid = ledger.add_submission("A", "test", limit=1)
        assert ledger.get(sid).status == "queued"


def test_stale_runs_are_recovered_by_a_command(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        stale = ledger.add_submission("A", "test")
        ledger.set_status(stale, "running")
        fresh = ledger.add_submission("B", "test")
        ledger.set_status(fresh, "running")
        assert ledger.recover_stale(older_than=3600, now=time.time() + 10) == []
        assert ledger.recover_stale(older_than=3600, now=time.time() + 7200) == [stale, fresh]
        assert not ledger.get(stale).charged and ledger.get(stale).reason.startswith("interrupted")
    with Ledger(path) as ledger:
        again = ledger.add_submission("C", "test")
        ledger.set_status(again, "running")
    r = CliRunner().invoke(main, ["ledger", "recover", "--older-than", "0", "--ledger", str(path)])
    assert r.exit_code == 0 and f"recovered 1 stale submission(s): {again}" in r.output


def test_order_and_best_of_ties_follow_the_ledger_not_the_clock(tmp_path, test_set, monkeypatch):
    gt, teams = test_set
    clock = iter([5000.0, 1000.0, 900.0, 800.0, 700.0, 600.0, 500.0, 400.0, 300.0, 200.0])
    monkeypatch.setattr(time, "time", lambda: next(clock))
    with Ledger(tmp_path / "l.sqlite") as ledger:
        first = ledger.add_submission("A", "test")
        second = ledger.add_submission("A", "test")  # the clock stepped back
        monkeypatch.undo()
        score_into_ledger(ledger, first, teams["good"], gt)
        score_into_ledger(ledger, second, teams["good"], gt)  # equal F1
        assert [s.submission_id for s in ledger.submissions()] == [first, second]
        assert [s.seq for s in ledger.submissions()] == [1, 2]
        assert rank_phase(ledger, PhaseRules("test"))[0].submission_id == first  # the earlier


V1_SCHEMA = """
CREATE TABLE submissions (submission_id TEXT PRIMARY KEY, team TEXT NOT NULL, institute TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL, image TEXT NOT NULL DEFAULT '', digest TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id TEXT NOT NULL, at REAL NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', run_seconds REAL);
CREATE TABLE scorings (scoring_id INTEGER PRIMARY KEY AUTOINCREMENT, submission_id TEXT NOT NULL, at REAL NOT NULL,
    ground_truth TEXT NOT NULL, problems INTEGER NOT NULL);
INSERT INTO submissions VALUES ('s1', 'A', '', 'test', '', '', 200.0), ('s2', 'A', '', 'test', '', '', 100.0);
INSERT INTO events (submission_id, at, status, reason) VALUES ('s1', 1, 'queued', ''),
    ('s1', 2, 'failed', 'infrastructure: engine down'), ('s2', 3, 'queued', ''), ('s2', 4, 'failed', 'exit 1');
"""


def test_a_version_1_ledger_is_upgraded_once_and_keeps_its_meaning(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.close()
    with pytest.raises(LedgerError, match="schema version 0; open it once for writing"):
        Ledger(path, readonly=True)
    with Ledger(path) as ledger:
        subs = {s.submission_id: s for s in ledger.submissions()}
        assert [s.submission_id for s in ledger.submissions()] == ["s1", "s2"]  # insertion order
        assert not subs["s1"].charged and subs["s2"].charged
    with Ledger(path, readonly=True) as ledger:
        assert len(ledger.submissions()) == 2


def test_read_commands_open_the_ledger_read_only(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        score_into_ledger(ledger, ledger.add_submission("A", "test"), teams["good"], gt)
    with Ledger(path, readonly=True) as ledger:
        with pytest.raises(LedgerError, match="read-only"):
            ledger.add_submission("B", "test")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ledger._conn.execute("DELETE FROM events")  # SQLite itself refuses
    before = path.read_bytes()
    path.chmod(0o444)
    for args in (["ledger", "list"], ["ledger", "export", "--json", str(tmp_path / "e.json")],
                 ["publish", "--out", str(tmp_path / "site"), "--bootstrap", "10"]):  # fmt: skip
        r = CliRunner().invoke(main, [*args, "--ledger", str(path)])
        assert r.exit_code == 0, r.output
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_a_corrupt_ledger_exits_2_naming_the_file(tmp_path, content):
    path = tmp_path / "l.sqlite"
    path.write_bytes(content)
    for args in (["ledger", "list"], ["ledger", "export", "--csv", str(tmp_path / "e.csv")],
                 ["publish", "--out", str(tmp_path / "site")], ["ledger", "recover"]):  # fmt: skip
        r = CliRunner().invoke(main, [*args, "--ledger", str(path)])
        assert r.exit_code == 2, (args, r.output)
        assert f"error: {path}" in r.output and "Traceback" not in r.output


def test_a_missing_ledger_is_not_created_by_a_read_command(tmp_path):
    r = CliRunner().invoke(main, ["ledger", "list", "--ledger", str(tmp_path / "none.sqlite")])
    assert r.exit_code == 2 and "no ledger there" in r.output
    assert not (tmp_path / "none.sqlite").exists()


def test_a_full_disk_fails_cleanly_and_leaves_the_quota(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        pages = ledger._conn.execute("PRAGMA page_count").fetchone()[0]
        ledger._conn.execute(f"PRAGMA max_page_count = {pages}").fetchone()  # "disk is full"
        with pytest.raises(LedgerError, match="full"):
            for i in range(10_000):
                ledger.add_submission(f"team-{i}-" + "x" * 2000, "test", limit=3)
        full_at = len(ledger.submissions())
        with pytest.raises(LedgerError, match="full"):
            ledger.add_submission("B", "test", "x" * 8000, limit=3)
        assert len(ledger.submissions()) == full_at  # nothing half-written, no claim made
        assert not ledger.submissions(team="B")


def test_hostile_team_names_in_every_output(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    names = ['=HYPERLINK("x")', "[bold]Team[/] | pipe", "-2+3"]
    with Ledger(path) as ledger:
        for name in names:
            score_into_ledger(
                ledger, ledger.add_submission(name, "test", "[/oops]"), teams["mid"], gt
            )
        empty = ledger.add_submission("@none", "test")
        (tmp_path / "no-predictions").mkdir()
        score_into_ledger(ledger, empty, tmp_path / "no-predictions", gt)  # RMSE undefined
    r = CliRunner().invoke(main, ["ledger", "list", "--ledger", str(path)])
    assert r.exit_code == 0 and "[bold]Team[/] | pipe" in r.output
    r = CliRunner().invoke(
        main, ["publish", "--ledger", str(path), "--out", str(tmp_path / "s"), "--bootstrap", "20"]
    )
    assert r.exit_code == 0, r.output
    md = (tmp_path / "s" / "leaderboard.md").read_text()
    assert "[bold]Team[/] \\| pipe" in md
    with open(tmp_path / "s" / "leaderboard.csv", newline="") as f:
        teams_csv = [row["team"] for row in csv.DictReader(f)]
    assert '\'=HYPERLINK("x")' in teams_csv and "'-2+3" in teams_csv and "'@none" in teams_csv
    doc = json.loads((tmp_path / "s" / "leaderboard.json").read_text(), parse_constant=pytest.fail)
    assert any(s["rmse"] is None for s in doc["standings"])
    page = (tmp_path / "s" / "index.html").read_text()
    assert "=HYPERLINK(&quot;x&quot;)" in page  # the table escapes quotes as well
    # the figures hold it as XML text (<, & escaped): never inside a tag, where quotes would
    # end an attribute
    assert not re.search(r'<[^>]*=HYPERLINK\("x"\)', page)
    CliRunner().invoke(
        main,
        [
            "ledger",
            "export",
            "--ledger",
            str(path),
            "--json",
            str(tmp_path / "e.json"),
            "--csv",
            str(tmp_path / "e.csv"),
        ],
    )
    rows = json.loads((tmp_path / "e.json").read_text(), parse_constant=pytest.fail)
    assert rows[0]["created"].endswith("Z") and "T" in rows[0]["created"]
    assert "'=HYPERLINK" in (tmp_path / "e.csv").read_text()


@pytest.mark.parametrize(
    "rules, needle",
    [
        ('[phase.test]\nmax_submissions = "3"\n', "max_submissions has the wrong type"),
        ("[phase.test]\nradius = nan\n", "radius must be between 0 and 587 px"),
        ('[phase.test]\nmetric = "rmse"\n', "metric must be one of"),
        ("[phase.test]\ntie_decimals = -1\n", "tie_decimals must be between"),
        ("phase = 3\n", "'phase' must be a table"),
        ("[phase.test]\nlimit = 3\n", "unknown settings"),
    ],
)
def test_rules_files_are_checked(tmp_path, rules, needle):
    (tmp_path / "r.toml").write_text(rules)
    r = CliRunner().invoke(
        main,
        [
            "publish",
            "--rules",
            str(tmp_path / "r.toml"),
            "--out",
            str(tmp_path / "s"),
            "--ledger",
            str(tmp_path / "l.sqlite"),
        ],
    )
    assert r.exit_code == 2 and needle in r.output and "r.toml" in r.output


def test_limit_reached_inside_the_claim(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.add_submission("A", "test", limit=1)
        with pytest.raises(LimitReached):
            ledger.add_submission("A", "test", limit=1)
        ledger.fail(ledger.submissions()[0].submission_id, "engine", ours=True)
        ledger.add_submission("A", "test", limit=1)  # given back


def test_teams_register_edit_list_and_show_on_the_board(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    args = ["--ledger", str(path)]
    r = CliRunner().invoke(main, ["team", "add", "Alpha", "--institute", "Uni A", "--contact", "a@uni.example",
                                  "--method-url", "https://example.org/alpha", *args])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["team", "edit", "Alpha", "--institute", "Uni A2", *args])
    assert r.exit_code == 0 and "Uni A2" in r.output
    r = CliRunner().invoke(main, ["team", "edit", "Nobody", "--institute", "x", *args])
    assert r.exit_code == 2 and "not registered" in r.output
    r = CliRunner().invoke(
        main, ["team", "add", "Evil", "--method-url", "javascript:alert(1)", *args]
    )
    assert r.exit_code == 2 and "must start with https://" in r.output
    r = CliRunner().invoke(main, ["team", "list", *args])
    assert "Alpha" in r.output and "a@uni.example" in r.output
    with Ledger(path) as ledger:
        assert ledger.teams()["Alpha"]["method_url"] == "https://example.org/alpha"  # kept by edit
        score_into_ledger(
            ledger, ledger.add_submission("Alpha", "test", "old name"), teams["good"], gt
        )
        ledger.register_team("Beta", method_url="javascript:alert(1)")  # the API does not check
        score_into_ledger(ledger, ledger.add_submission("Beta", "test"), teams["mid"], gt)
    r = CliRunner().invoke(
        main, ["publish", "--out", str(tmp_path / "s"), "--bootstrap", "10", *args]
    )
    assert r.exit_code == 0, r.output
    page = (tmp_path / "s" / "index.html").read_text()
    assert '<a href="https://example.org/alpha" rel="nofollow noopener">Alpha</a>' in page
    assert "javascript:" not in page  # never a link, never printed into an attribute
    rows = json.loads((tmp_path / "s" / "leaderboard.json").read_text())["standings"]
    assert rows[0]["institute"] == "Uni A2" and rows[0]["method_url"] == "https://example.org/alpha"
    assert "a@uni.example" not in page + (tmp_path / "s" / "leaderboard.csv").read_text()


def test_a_version_2_ledger_gains_the_teams_table(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.add_submission("A", "test")
        ledger._conn.execute("DROP TABLE teams")
        ledger._conn.execute("PRAGMA user_version = 2")
    with Ledger(path) as ledger:  # upgrades: no second ALTER TABLE of version 1's step
        assert ledger.teams() == {} and len(ledger.submissions()) == 1


def test_listings_as_json_for_scripts(tmp_path, test_set):
    """`ledger list`, `team list` (and `cv --status`) take `--json -`: JSON alone on standard
    output, the same rows as the table; `--json FILE` writes them beside the table."""
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    args = ["--ledger", str(path)]
    r = CliRunner().invoke(main, ["team", "add", "A [bold]x[/bold]", "--institute", "Uni", *args])
    assert r.exit_code == 0, r.output
    with Ledger(path) as ledger:
        score_into_ledger(ledger, ledger.add_submission("A [bold]x[/bold]", "test"), teams["good"], gt)
    r = CliRunner().invoke(main, ["team", "list", "--json", "-", *args])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == [{"team": "A [bold]x[/bold]", "institute": "Uni", "contact": "",
                                     "method_url": "", "updated_at": json.loads(r.output)[0]["updated_at"]}]  # fmt: skip
    r = CliRunner().invoke(main, ["ledger", "list", "--json", "-", *args])
    rows = json.loads(r.output)
    assert [(x["team"], x["status"], x["charged"]) for x in rows] == [("A [bold]x[/bold]", "scored", True)]
    assert 0 < rows[0]["f1"] <= 1 and rows[0]["radius"] == 6.0
    r = CliRunner().invoke(main, ["ledger", "list", "--json", str(tmp_path / "s.json"), *args])
    assert r.exit_code == 0 and "[bold]x[/bold]" in r.output  # the table, names printed as text
    assert json.loads((tmp_path / "s.json").read_text()) == rows

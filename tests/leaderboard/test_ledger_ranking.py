import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_leaderboard.bootstrap import bootstrap
from adaptor_leaderboard.cli import main
from adaptor_leaderboard.ledger import Ledger, LedgerError, LimitReached
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import (
    PhaseRules,
    load_rules,
    rank,
    rank_phase,
)
from adaptor_leaderboard.runner import score_into_ledger


def scored(ledger, team, pred_dir, gt, phase="test", institute=""):
    sid = ledger.add_submission(team, phase, institute)
    score_into_ledger(ledger, sid, pred_dir, gt)
    return sid


def _charged(ledger, team: str) -> int:
    """Submissions that use up the team's quota (in progress counts too)."""
    return sum(1 for s in ledger.submissions("test", team) if s.charged)


def test_ranks_ties_and_rounding():
    assert rank([0.9, 0.9, 0.8, 0.7, 0.7]).tolist() == [1, 1, 3, 4, 4]
    assert rank([0.84446, 0.84444]).tolist() == [1, 2]  # full precision by default
    assert rank([0.84454, 0.84446], tie_decimals=4).tolist() == [1, 1]  # both 0.8445


def test_best_of_latest_scoring_and_failures(tmp_path, test_set):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        scored(ledger, "A", teams["weak"], gt)
        best_a = scored(ledger, "A", teams["good"], gt)
        scored(ledger, "B", teams["mid"], gt)
        failed = ledger.add_submission("C", "test")
        ledger.set_status(failed, "running")
        ledger.set_status(failed, "failed", "time limit (10 s)")
        other_phase = scored(ledger, "D", teams["good"], gt, phase="preliminary")
        board = rank_phase(ledger, PhaseRules("test"))
        assert [(s.rank, s.team) for s in board] == [(1, "A"), (2, "B")]
        assert board[0].submission_id == best_a and board[0].submissions == 2
        assert other_phase not in [s.submission_id for s in board]
        # a re-score adds a row; the latest scoring counts, the old one stays
        first = ledger.latest_scoring(best_a)
        score_into_ledger(ledger, best_a, teams["good"], gt)
        second = ledger.latest_scoring(best_a)
        assert second > first
        assert ledger.scores(first) == ledger.scores(second)  # the first scoring is still there
        assert rank_phase(ledger, PhaseRules("test"))[0].scoring_id == second


def test_exact_ties_share_a_rank(tmp_path, test_set):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        scored(ledger, "X", teams["mid"], gt)
        scored(ledger, "Y", teams["mid"], gt)  # identical predictions, identical F1
        scored(ledger, "Z", teams["weak"], gt)
        assert [(s.rank, s.team) for s in rank_phase(ledger, PhaseRules("test"))] == [
            (1, "X"),
            (1, "Y"),
            (3, "Z"),
        ]


def test_submission_limit_and_infrastructure_failures(tmp_path, test_set):
    gt, teams = test_set
    rules = PhaseRules("test", max_submissions=2)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ours = ledger.add_submission("A", "test")
        ledger.fail(ours, "engine down", ours=True)
        # whether a failure counts is data: a team's failure whose text mimics ours still counts
        mimic = ledger.add_submission("B", "test")
        ledger.fail(mimic, "infrastructure: my model crashed", ours=False)
        assert ledger.get(mimic).charged and not ledger.get(ours).charged
        scored(ledger, "A", teams["weak"], gt)
        assert _charged(ledger, "A") < rules.max_submissions  # A may submit again
        scored(ledger, "A", teams["mid"], gt)
        with pytest.raises(LimitReached, match="used its 2 submissions"):
            ledger.add_submission("A", "test", limit=rules.max_submissions)
    r = CliRunner().invoke(
        main,
        [
            "ledger",
            "add-output",
            str(teams["good"]),
            "--ground-truth",
            str(gt),
            "--team",
            "A",
            "--ledger",
            str(tmp_path / "l.sqlite"),
            "--rules",
            str(_rules_file(tmp_path, 2)),
        ],
    )
    assert r.exit_code == 2 and "refused" in r.output


def _rules_file(tmp_path, limit):
    f = tmp_path / "rules.toml"
    f.write_text(f"[phase.test]\nmax_submissions = {limit}\nradius = 6.0\ntie_decimals = 3\n")
    return f


def test_rules_file(tmp_path):
    rules = load_rules(_rules_file(tmp_path, 5), "test")
    assert rules == PhaseRules("test", max_submissions=5, tie_decimals=3)
    with pytest.raises(ValueError, match="no \\[phase.final\\]"):
        load_rules(_rules_file(tmp_path, 5), "final")


def test_unknown_submission_and_status(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        with pytest.raises(LedgerError):
            ledger.set_status("nope", "running")
        sid = ledger.add_submission("A", "test")
        with pytest.raises(LedgerError):
            ledger.set_status(sid, "exploded")


KILL_MID_SCORING = """
import os, signal, sys
from adaptor_leaderboard.ledger import Ledger
from adaptor_score.scoring import score
ledger = Ledger(sys.argv[1])
report = score(sys.argv[2], sys.argv[3], (6.0,))
class DiesAfterFrameCounts:
    def __init__(self, conn):
        self.conn = conn
    def __getattr__(self, name):
        return getattr(self.conn, name)
    def executemany(self, sql, rows):
        self.conn.executemany(sql, rows)
        if "frame_counts" in sql:
            os.kill(os.getpid(), signal.SIGKILL)  # killed inside the transaction, before COMMIT
ledger._conn = DiesAfterFrameCounts(ledger._conn)
ledger.record_scoring(sys.argv[4], report, "gt")
"""


def test_a_kill_in_the_middle_of_scoring_loses_nothing_and_writes_nothing_half(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        done = scored(ledger, "A", teams["good"], gt)
        sid = ledger.add_submission("B", "test")
        ledger.set_status(sid, "running")
    conn = Ledger(path)._conn
    proc = subprocess.run(
        [sys.executable, "-c", KILL_MID_SCORING, str(path), str(gt), str(teams["mid"]), sid]
    )
    assert proc.returncode == -9
    with Ledger(path) as ledger:
        assert ledger.get(sid).status == "running"  # the scoring never happened
        assert ledger.latest_scoring(sid) is None
        assert (
            ledger._conn.execute(
                "SELECT COUNT(*) FROM frame_counts WHERE scoring_id NOT IN "
                "(SELECT scoring_id FROM scorings)"
            ).fetchone()[0]
            == 0
        )
        assert ledger.get(done).status == "scored" and len(ledger.submissions()) == 2
        score_into_ledger(ledger, sid, teams["mid"], gt)  # the organiser re-runs it
        assert ledger.get(sid).status == "scored"
    conn.close()


CONCURRENT = textwrap.dedent("""
    import sys
    from adaptor_leaderboard.ledger import Ledger
    from adaptor_leaderboard.runner import score_into_ledger
    with Ledger(sys.argv[1]) as ledger:
        score_into_ledger(ledger, sys.argv[2], sys.argv[3], sys.argv[4])
""")


def test_two_submissions_scored_at_the_same_time(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        a, b = ledger.add_submission("A", "test"), ledger.add_submission("B", "test")
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(path), sid, str(teams[t]), str(gt)])
        for sid, t in ((a, "good"), (b, "weak"))
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with Ledger(path) as ledger:
        assert ledger.get(a).status == ledger.get(b).status == "scored"
        for sid in (a, b):
            frames, counts = ledger.frame_counts(ledger.latest_scoring(sid), 6.0)
            assert len(frames) == 8 and len(counts) == 8
        assert [s.team for s in rank_phase(ledger, PhaseRules("test"))] == ["A", "B"]


def test_bootstrap_is_reproducible_and_sane(tmp_path, test_set):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for t in ("good", "mid", "weak"):
            scored(ledger, t, teams[t], gt)
        standings = rank_phase(ledger, PhaseRules("test"))
        rules = PhaseRules("test")
        a = bootstrap(ledger, standings, rules, replicates=300, seed=7)
        b = bootstrap(ledger, standings, rules, replicates=300, seed=7)
        c = bootstrap(ledger, standings, rules, replicates=300, seed=8)
        s = bootstrap(ledger, standings, rules, replicates=300, seed=7, unit="surgery")
    np.testing.assert_array_equal(a.f1, b.f1)
    assert not np.array_equal(a.f1, c.f1)
    freq = a.rank_frequencies()
    np.testing.assert_allclose(freq.sum(axis=1), 1.0)
    lo, hi = a.interval().T
    point = np.array([st.value for st in standings])
    assert (lo <= point + 1e-9).all() and (point <= hi + 1e-9).all()
    assert freq[0, 0] > 0.9  # "good" is clearly best
    assert s.f1.shape == (300, 3)


def test_publish_and_cli(tmp_path, test_set):
    gt, teams = test_set
    ledger_path = tmp_path / "l.sqlite"
    for t, inst in (("good", "Uni G"), ("mid", "Uni M"), ("weak", "Uni W")):
        r = CliRunner().invoke(
            main,
            [
                "ledger",
                "add-output",
                str(teams[t]),
                "--ground-truth",
                str(gt),
                "--team",
                t,
                "--institute",
                inst,
                "--ledger",
                str(ledger_path),
            ],
        )
        assert r.exit_code == 0, r.output
    out = tmp_path / "board"
    r = CliRunner().invoke(
        main,
        [
            "publish",
            "--ledger",
            str(ledger_path),
            "--out",
            str(out),
            "--bootstrap",
            "200",
            "--seed",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    md = (out / "leaderboard.md").read_text()
    assert "| 1 | good | Uni G |" in md and "| 3 | weak | Uni W |" in md
    doc = json.loads((out / "leaderboard.json").read_text())
    assert [s["team"] for s in doc["standings"]] == ["good", "mid", "weak"]
    # one entry per surgery folder (the root also holds the generator's synth.json)
    assert set(doc["per_surgery_f1"]["good"]) == {p.name for p in gt.iterdir() if p.is_dir()}
    page = (out / "index.html").read_text()
    assert page.count("<svg") == 10 and 'id="leaderboard"' in page and "<script" not in page
    again = tmp_path / "board2"
    CliRunner().invoke(
        main,
        [
            "leaderboard",
            "--ledger",
            str(ledger_path),
            "--out",
            str(again),
            "--bootstrap",
            "200",
            "--seed",
            "3",
        ],
    )

    def unstamped(text: str) -> str:
        return re.sub(r"Last updated [0-9T:Z-]+", "", text)

    # seeded: the same page but for the time it was published
    assert unstamped((again / "index.html").read_text()) == unstamped(page)
    r = CliRunner().invoke(
        main,
        [
            "ledger",
            "export",
            "--ledger",
            str(ledger_path),
            "--csv",
            str(tmp_path / "e.csv"),
            "--json",
            str(tmp_path / "e.json"),
        ],
    )
    assert r.exit_code == 0
    rows = json.loads((tmp_path / "e.json").read_text())
    assert len(rows) == 3 * 3 and {r["radius"] for r in rows} == {6.0, 8.0, 10.0}
    r = CliRunner().invoke(main, ["ledger", "list", "--ledger", str(ledger_path)])
    assert r.exit_code == 0 and "scored" in r.output
    with Ledger(ledger_path) as ledger:
        board = build_board(ledger, PhaseRules("test"), 50, 0)
    assert publish(board, tmp_path / "p")[-1].name == "index.html"


def test_interrupted_run_is_recorded_as_our_failure(tmp_path):
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        sid = ledger.add_submission("A", "test")
        ledger.set_status(sid, "running")
    r = CliRunner().invoke(
        main,
        ["ledger", "fail", sid, "--reason", "engine restarted", "--ours", "--ledger", str(path)],
    )
    assert r.exit_code == 0, r.output
    with Ledger(path) as ledger:
        s = ledger.get(sid)
        assert (s.status, s.reason) == ("failed", "infrastructure: engine restarted")
        assert _charged(ledger, "A") < 1  # the one submission is still A's
    r = CliRunner().invoke(main, ["ledger", "fail", "nope", "--reason", "x", "--ledger", str(path)])
    assert r.exit_code == 2


def test_the_bootstrap_ranks_by_the_tables_rule(tmp_path, test_set):
    """With metric = "tpr" the table and every replicate rank by TPR with the phase's tie rule:
    replicate 'all units once' must reproduce the table's ranks exactly."""
    from adaptor_leaderboard.ranking import metric_values, rank

    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for t in ("good", "mid", "weak"):
            scored(ledger, t, teams[t], gt)
        for metric in ("f1", "ppv", "tpr"):
            rules = PhaseRules("test", metric=metric, tie_decimals=2)
            standings = rank_phase(ledger, rules)
            boot = bootstrap(ledger, standings, rules, replicates=200, seed=3)
            assert boot.metric == metric
            # the ranks of each replicate are the ranking function applied to its values
            np.testing.assert_array_equal(boot.ranks, rank(boot.values[metric], 2))
            # and the ranking function applied to the full counts gives the table
            full = np.array([[st.scores[6.0][k] for k in ("tp", "fp", "fn")] for st in standings])
            assert rank(metric_values(full, metric), 2).tolist() == [st.rank for st in standings]


def test_metric_values_follow_the_scorers_convention():
    from adaptor_leaderboard.ranking import metric_values
    from adaptor_score.metrics import ratios

    rng = np.random.default_rng(0)
    counts = np.vstack([rng.integers(0, 4, (200, 3)), [[0, 0, 0], [0, 3, 0], [0, 0, 3]]])
    for row in counts:
        ppv, tpr, f1 = ratios(*row.tolist())
        got = [float(metric_values(row, m)) for m in ("ppv", "tpr", "f1")]
        assert got == pytest.approx([ppv, tpr, f1])


@pytest.mark.parametrize("table, column, value", [
    ("events", "run_seconds", "fast"), ("submissions", "created_at", "abc"),
    ("frame_counts", "tp", "many"), ("scores", "f1", "high"), ("teams", "registered_at", "x'00'"),
])  # fmt: skip
def test_text_where_a_number_belongs_is_refused_on_open_naming_the_column(
        tmp_path, test_set, table, column, value):  # fmt: skip
    import sqlite3

    from click.testing import CliRunner

    from adaptor_leaderboard.cli import main
    from adaptor_leaderboard.ledger import LedgerError

    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        ledger.register_team("A", institute="I")
        score_into_ledger(ledger, ledger.add_submission("A", "test", "I"), teams["good"], gt)
    with sqlite3.connect(path) as conn:
        literal = value if value.startswith("x'") else f"'{value}'"
        conn.execute(f"UPDATE {table} SET {column} = {literal}"
                     f" WHERE rowid = (SELECT MIN(rowid) FROM {table})")  # fmt: skip
    for readonly in (False, True):
        with pytest.raises(LedgerError, match=f"{table}.{column} holds"):
            Ledger(path, readonly=readonly)
    for args in (["ledger", "list"], ["ledger", "export", "--csv", str(tmp_path / "e.csv")],
                 ["publish", "--out", str(tmp_path / "site")]):  # fmt: skip
        r = CliRunner().invoke(main, [*args, "--ledger", str(path)])
        assert r.exit_code == 2 and f"{table}.{column}" in r.output, (args, r.output)
        assert "Traceback" not in r.output


def test_a_ledger_restored_from_a_dump_opens_and_keeps_its_submissions(tmp_path, test_set):
    """`sqlite3 old.sqlite .dump | sqlite3 new.sqlite` keeps every table but not user_version:
    the upgrade must add only the columns that are missing."""
    import sqlite3

    gt, teams = test_set
    old = tmp_path / "old.sqlite"
    with Ledger(old) as ledger:
        for team in ("A", "B"):
            score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), teams["good"], gt)
        before = [(s.team, s.seq, s.status, s.charged) for s in ledger.submissions()]
    new = tmp_path / "new.sqlite"
    with sqlite3.connect(old) as src, sqlite3.connect(new) as dst:
        dst.executescript("\n".join(src.iterdump()))
    assert sqlite3.connect(new).execute("PRAGMA user_version").fetchone()[0] == 0
    with Ledger(new) as ledger:
        assert [(s.team, s.seq, s.status, s.charged) for s in ledger.submissions()] == before
    with Ledger(new, readonly=True) as ledger:
        assert len(ledger.submissions()) == 2

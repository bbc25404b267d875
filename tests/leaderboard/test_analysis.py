"""challengeR's analyses on the leaderboard: the bootstrap re-applies the whole rule (best
submission included), every scheme equals the statistics module on the per-frame values, the
per-case long table is complete, and the page and files carry them."""

from __future__ import annotations

import csv
import json

import numpy as np

from adaptor_leaderboard.analysis import analyse
from adaptor_leaderboard.bootstrap import bootstrap, phase_counts, rank_replicates
from adaptor_leaderboard.ledger import SCHEMA_VERSION, Ledger
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import PhaseRules, metric_values, rank_phase
from adaptor_leaderboard.runner import score_into_ledger
from adaptor_score.stats import kendall_tau_b, rank_by
from adaptor_score.units import case_values


def _ledger(tmp_path, test_set, plan):
    gt, teams = test_set
    ledger = Ledger(tmp_path / "l.sqlite")
    for team, output in plan:
        score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), teams[output], gt)
    return ledger


def test_the_bootstrap_reapplies_the_best_submission_choice(tmp_path, test_set):
    """Team X's first submission is weak, its second good; on the original sample (every frame
    once) the rule gives the table, and on resamples X is ranked by whichever submission wins."""
    plan = [("X", "weak"), ("Y", "mid"), ("X", "good"), ("Z", "weak")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        rules = PhaseRules("test")
        standings = rank_phase(ledger, rules)
        frames, data, team_of, *_ = phase_counts(ledger, standings, rules)
        ranks, values = rank_replicates(data.sum(axis=1)[None], team_of, len(standings), rules)
        assert ranks[0].tolist() == [s.rank for s in standings]
        assert values["f1"][0].tolist() == [s.value for s in standings]
        boot = bootstrap(ledger, standings, rules, replicates=300, seed=1, unit="frame")
    x = [s.team for s in standings].index("X")
    own = np.flatnonzero(team_of == x)
    rng = np.random.default_rng(1)  # the bootstrap's own resamples, replayed
    idx = rng.integers(0, data.shape[1], size=(300, data.shape[1]))
    weights = np.stack([np.bincount(r, minlength=data.shape[1]) for r in idx])
    sums = np.einsum("ru,suk->rsk", weights, data)
    best = metric_values(sums[:, own], "f1").max(axis=1)
    np.testing.assert_array_equal(boot.values["f1"][:, x], best)
    tau = boot.kendall_tau()
    assert tau.shape == (300,) and np.allclose(tau, kendall_tau_b(boot.official, boot.ranks))


def test_every_scheme_is_the_statistics_module_on_per_frame_f1(tmp_path, test_set):
    plan = [("good", "good"), ("mid", "mid"), ("weak", "weak"), ("twin", "mid")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        rules = PhaseRules("test")
        standings = rank_phase(ledger, rules)
        a = analyse(ledger, standings, rules)
        frames, counts = ledger.frame_counts(standings[0].scoring_id, 6.0)
    assert a.radii == [6.0, 8.0, 10.0] and a.frames == frames
    assert a.ranks["official", 6.0].tolist() == [s.rank for s in standings]
    f1 = a.per_case[6.0]["f1"]
    assert a.unit == "surgery"  # two surgeries: the unit of analysis
    _, per_surgery = case_values(f1, a.frames, "surgery")
    for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
        assert a.at("frame").ranks[scheme].tolist() == rank_by(f1, scheme).tolist()
        want = rank_by(per_surgery, scheme, exact=True).tolist()
        assert a.ranks[scheme, 6.0].tolist() == a.at().ranks[scheme].tolist() == want
    empty = [i for i, c in enumerate(a.per_case[6.0]["counts"][0]) if not c.any()]
    assert all(f1[0, i] == 1.0 for i in empty)  # neither labels nor predictions: F1 = 1
    twins = [s.team for s in standings].index("twin"), [s.team for s in standings].index("mid")
    assert not a.significant[twins[0], twins[1]] and not a.significant[twins[1], twins[0]]
    rows = list(a.long_rows())
    surgeries = {f.split("/", 1)[0] for f in a.frames}
    videos = {f.rsplit("/", 1)[0] for f in a.frames}
    assert {r[5] for r in rows} == {"frame", "video", "surgery"}
    assert len(rows) == 3 * 3 * 4 * (len(a.frames) + len(videos) + len(surgeries))


def test_publish_writes_the_schemes_and_the_long_table(tmp_path, test_set):
    plan = [("good", "good"), ("mid", "mid"), ("weak", "weak")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=100, seed=0)
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    data = json.loads(paths["leaderboard.json"].read_text())
    schemes = {(r["scheme"], r["radius"]): r["ranks"] for r in data["schemes"]["ranks"]}
    assert schemes["official", 6.0] == {s.team: s.rank for s in board.standings}
    assert data["schemes"]["kendall_tau"]["replicates"] == 100
    with open(paths["per-case.csv"], newline="") as f:
        header = next(csv.reader(f))
    assert header == ["algorithm", "case", "task", "metric", "value", "level"]
    page = paths["index.html"].read_text()
    assert 'name="viewport"' in page and page.count("<svg") >= 9
    for fig in ("schemes", "tau", "blob", "significance", "cases"):
        assert f'id="fig-{fig}"' in page
    assert "Ranks under other schemes" in paths["leaderboard.md"].read_text()


def test_names_with_markup_and_dollars_stay_text_in_the_figures(tmp_path, test_set):
    """matplotlib would read "$...$" as mathtext (and stop at an unbalanced "$"); names are
    text, and markup in them is escaped."""
    names = ["$x^2$ & co", "<script>alert(1)</script>", "Half $ dollar"]
    plan = list(zip(names, ("good", "mid", "weak")))
    with _ledger(tmp_path, test_set, plan) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=50, seed=0)
    page = [p for p in publish(board, tmp_path / "site") if p.name == "index.html"][0].read_text()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "$x^2$ &amp; co" in page and "Half $ dollar" in page


def test_every_reference_inside_the_figures_finds_its_target(tmp_path, test_set):
    """Markers and clip paths are defined once and referenced (href="#id", url(#id)); with
    several figures on one page each reference must still find its own definition."""
    import re

    plan = [("good", "good"), ("mid", "mid"), ("weak", "weak")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=50, seed=0)
    page = [p for p in publish(board, tmp_path / "site") if p.name == "index.html"][0].read_text()
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    refs = re.findall(r'href="#([^"]+)"', page) + re.findall(r"url\(#([^)]+)\)", page)
    assert refs and set(refs) <= set(ids)


def test_a_radius_some_submission_lacks_is_left_out_not_a_crash(tmp_path, test_set):
    """A team scored at 6 px only: the analysis keeps the radii every team has; an extra
    submission scored at 6 px only is ranked at 6 px and left out elsewhere."""
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for team, output in (("good", "good"), ("mid", "mid")):
            score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), teams[output], gt)
        sid = ledger.add_submission("weak", "test", "I")
        score_into_ledger(ledger, sid, teams["weak"], gt, radii=(6.0,))
        sid = ledger.add_submission("mid", "test", "I")
        score_into_ledger(ledger, sid, teams["weak"], gt, radii=(6.0,))
        rules = PhaseRules("test")
        a = analyse(ledger, rules=rules, standings=rank_phase(ledger, rules))
    assert a.radii == [6.0]
    with Ledger(tmp_path / "m.sqlite") as ledger:
        for team, output in (("good", "good"), ("mid", "mid")):
            score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), teams[output], gt)
        sid = ledger.add_submission("mid", "test", "I")
        score_into_ledger(ledger, sid, teams["weak"], gt, radii=(6.0,))
        standings = rank_phase(ledger, rules)
        a = analyse(ledger, standings, rules)
    assert a.radii == [6.0, 8.0, 10.0]
    assert a.ranks["official", 8.0].tolist() == [1, 2]


def test_publishing_leaves_matplotlibs_settings_as_they_were(tmp_path, test_set):
    import matplotlib

    before = dict(matplotlib.rcParams)
    plan = [("good", "good"), ("mid", "mid")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        publish(build_board(ledger, PhaseRules("test"), replicates=20, seed=0), tmp_path / "s")
    assert dict(matplotlib.rcParams) == before


def _board_with_omitted_files(tmp_path):
    """Frames 0-5 of two videos have sutures, frames 6-8 of each none. Team A predicts every
    frame (one false positive on each empty frame); team B is A with the files of the empty
    frames left out, which the challenge's pooled rule rewards (fewer false positives) and a
    per-case analysis must not: those cases are missing, then 0."""
    from adaptor_score.frames import FrameKey
    from tests.evaluation.helpers import write_label, write_prediction

    gt = tmp_path / "gt"
    labels = [(100, 100), (200, 120), (300, 140)]
    frames = [FrameKey("s1", v, f"{i:06d}") for v in ("v1", "v2") for i in range(9)]
    for k in frames:
        write_label(gt, k, labels if int(k.frame) < 6 else [])
    omitted = []
    for team in ("A", "B"):
        for k in frames:
            empty = int(k.frame) >= 6
            if team == "B" and empty:
                omitted.append(str(k))
                continue
            shift = 1 if int(k.frame) % 2 else 9  # half the frames missed at 6 px
            pts = [(x + shift, y) for x, y in labels] if not empty else [(50, 50)]
            write_prediction(tmp_path / team, k, pts)
    ledger = Ledger(tmp_path / "l.sqlite")
    for team in ("A", "B"):
        score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), tmp_path / team, gt)
    return ledger, omitted


def test_a_frame_without_a_prediction_file_is_a_missing_case_not_a_perfect_one(tmp_path):
    ledger, omitted = _board_with_omitted_files(tmp_path)
    with ledger:
        rules = PhaseRules("test")
        standings = rank_phase(ledger, rules)
        teams = [s.team for s in standings]
        assert teams == ["B", "A"]  # the pooled table keeps the challenge's rule
        a = analyse(ledger, standings, rules, replicates=50, seed=0)
        b = teams.index("B")
        f1 = a.per_case[6.0]["f1"]
        gone = [a.frames.index(f) for f in omitted]
        assert np.isnan(f1[b, gone]).all() and not np.isnan(f1[1 - b]).any()
        # with NA as 0, B equals A on every case: no scheme may put B ahead
        for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
            for unit in ("frame", "video"):
                ranks = a.at(unit).ranks[scheme]
                assert ranks[b] >= ranks[1 - b], (scheme, unit)
        board = build_board(ledger, rules, replicates=50, seed=0)
    site = publish(board, tmp_path / "site")
    with open(tmp_path / "site" / "per-case.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["level"] == "frame" and r["metric"] == "f1"]
    na = {(r["algorithm"], r["case"]) for r in rows if r["value"] == "NA"}
    assert na == {("B", f) for f in omitted} and len(site) == 8
    # what challengeR computes from that file (NA -> 0, mean, ranks "min") is the page's ranking
    for radius in ("6 px",):
        means = {}
        for team in ("A", "B"):
            vals = [0.0 if r["value"] == "NA" else float(r["value"]) for r in rows
                    if r["algorithm"] == team and r["task"] == radius]  # fmt: skip
            means[team] = sum(vals) / len(vals)
        assert means["A"] == means["B"]
        assert a.at("frame").ranks["mean"].tolist() == [1, 1]


def test_a_schema_3_ledger_gains_the_missing_column_and_keeps_its_scorings(tmp_path, test_set):
    gt, teams = test_set
    path = tmp_path / "l.sqlite"
    with Ledger(path) as ledger:
        score_into_ledger(ledger, ledger.add_submission("A", "test"), teams["good"], gt)
        ledger._conn.execute("ALTER TABLE frame_counts DROP COLUMN missing")
        ledger._conn.execute("PRAGMA user_version = 3")
    with Ledger(path) as ledger:
        (sub,) = ledger.submissions()
        scoring = ledger.latest_scoring(sub.submission_id)
        assert ledger.missing_frames(scoring) == set()  # unknown before: never a missing case
        assert len(ledger.frame_counts(scoring, 6.0)[0]) == 8
        assert ledger._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_challengers_tau_compares_each_scheme_with_itself_on_replayed_resamples(tmp_path, test_set):
    """Replays the analysis's own draws through challengeR's bootstrap transcribed row by row:
    every replicate re-applies the same scheme to the drawn cases with challengeR's semantics,
    and tau is scipy's tau-b between that and the scheme on all cases."""
    from scipy.stats import kendalltau

    from tests.evaluation.challenger_reference import replicate_ranks

    plan = [("good", "good"), ("mid", "mid"), ("weak", "weak"), ("twin", "mid")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        rules = PhaseRules("test")
        a = analyse(ledger, rank_phase(ledger, rules), rules, replicates=25, seed=5)
    rng = np.random.default_rng(5)
    for r in a.radii:
        for unit in a.unit_names:
            ca = a.at(unit, r)
            draws = rng.integers(0, ca.values.shape[1], size=(25, ca.values.shape[1]))
            for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
                want_ranks = [replicate_ranks(ca.values, scheme, d.tolist(), exact=ca.exact)
                              for d in draws]  # fmt: skip
                assert ca.replicate_ranks[scheme].tolist() == [w.tolist() for w in want_ranks]
                tau = ca.tau(scheme)
                for got, w in zip(tau, want_ranks):
                    ref = kendalltau(ca.ranks[scheme], w, variant="b").statistic
                    assert (np.isnan(got) and np.isnan(ref)) or abs(got - ref) < 1e-12


def test_a_board_where_every_team_ties_says_so_in_words(tmp_path, test_set):
    plan = [("A", "mid"), ("B", "mid"), ("C", "mid")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=40, seed=0)
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    md = paths["leaderboard.md"].read_text()
    page = paths["index.html"].read_text()
    assert "undefined: every team tied" in md and "undefined: every team tied" in page
    assert "nan" not in md.lower() and ">nan<" not in page.lower()
    data = json.loads(paths["leaderboard.json"].read_text())
    assert data["schemes"]["kendall_tau"]["median"] is None
    with open(paths["schemes.csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["rank"] == "1" for r in rows) and all(r["tau_median"] == "" for r in rows)
    assert {r["unit"] for r in rows} == {"frame", "surgery"}


def test_the_files_carry_every_number_of_the_figures(tmp_path, test_set):
    plan = [("good", "good"), ("mid", "mid"), ("weak", "weak")]
    with _ledger(tmp_path, test_set, plan) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=60, seed=0)
    a = board.analysis
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    with open(paths["schemes.csv"], newline="") as f:
        schemes = list(csv.DictReader(f))
    with open(paths["significance.csv"], newline="") as f:
        pairs = list(csv.DictReader(f))
    for row in schemes:
        if row["scheme"] == "official":
            continue
        ca = a.at(row["unit"], float(row["radius"]))
        t = a.teams.index(row["team"])
        assert float(row["score"]) == ca.scores[row["scheme"]][t]
        assert int(row["rank"]) == ca.ranks[row["scheme"]][t]
        tau = ca.tau(row["scheme"])
        finite = tau[np.isfinite(tau)]
        if finite.size:
            assert float(row["tau_median"]) == float(np.median(finite))
    assert len(pairs) == 2 * len(a.radii) * 3 * 2  # units, radii, ordered pairs of 3 teams
    for row in pairs:
        ca = a.at(row["unit"], float(row["radius"]))
        i, j = a.teams.index(row["team"]), a.teams.index(row["other"])
        assert float(row["p_holm"]) == ca.p_holm[i, j] and float(row["p_raw"]) == ca.p_raw[i, j]
        assert (row["significant"] == "True") == bool(ca.significant[i, j])
    data = json.loads(paths["leaderboard.json"].read_text())["schemes"]
    assert len(data["analyses"]) == len(schemes) and len(data["pairs"]) == len(pairs)
    assert "missing case" in data["missing_rule"] and data["unit"] == "surgery"
    assert data["cases"] == "surgeries" and data["n"] == 2 and not data["can_be_significant"]
    assert "parity" in data["challenger_per_frame"]["note"]

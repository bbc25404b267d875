"""The page's verdicts at the unit that is independent: boards built for each case of issue 35.

A clean sweep over 8 surgeries is significant with surgeries as cases (exact test); 5 surgeries
say in words that nothing can be significant, with the smallest reachable p; the headline keys
carry the unit; leaving files out never helps and one missing frame costs less than its surgery.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from adaptor_leaderboard.analysis import analyse
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import PhaseRules, rank_phase
from adaptor_leaderboard.runner import score_into_ledger
from adaptor_score.frames import FrameKey
from tests.evaluation.helpers import write_label, write_prediction

LABELS = [(60 + 40 * i, 100 + 9 * i) for i in range(8)]


def _board(tmp_path, surgeries: int, hits: dict[str, object], frames: int = 3, videos: int = 1,
           omit: dict[str, list[str]] | None = None, extra_fp: dict[str, int] | None = None):  # fmt: skip
    """A ledger of teams that each find ``hits[team]`` of the 8 labels of every frame (an int, or
    a function of the surgery index), with ``extra_fp`` false positives per frame and the frames
    in ``omit[team]`` left without a file."""
    gt = tmp_path / "gt"
    keys = [FrameKey(f"s{s}", f"v{v}", f"{i:06d}") for s in range(surgeries)
            for v in range(videos) for i in range(frames)]  # fmt: skip
    for k in keys:
        write_label(gt, k, LABELS)
    ledger = Ledger(tmp_path / "l.sqlite")
    for team, h in hits.items():
        out = tmp_path / "out" / team
        for k in keys:
            if str(k) in (omit or {}).get(team, []):
                continue
            n = h(int(k.folder[1:])) if callable(h) else h
            fps = [(20 + 3 * j, 250) for j in range((extra_fp or {}).get(team, 0))]
            write_prediction(out, k, LABELS[:n] + fps)
        out.mkdir(parents=True, exist_ok=True)
        score_into_ledger(ledger, ledger.add_submission(team, "test", "I"), out, gt)
    return ledger


def test_a_clean_sweep_over_8_surgeries_is_significant_at_the_surgery_level(tmp_path):
    """The reference beats each of 3 teams in every one of 8 surgeries: exact one-sided p 1/256,
    Holm over 12 ordered pairs 0.047, significant; the per-frame normal approximation would
    have said nothing on 8 cases (0.086 was the page's old per-video value)."""
    hits = {"ref": 8, "t1": lambda s: 2 + s % 3, "t2": lambda s: 1 + s % 2, "t3": 1}
    with _board(tmp_path, 8, hits) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=200, seed=0)
    a = board.analysis
    assert a.unit == "surgery" and len(a.at().cases) == 8 and a.at().exact
    ref = a.teams.index("ref")
    others = [i for i in range(4) if i != ref]
    assert all(a.at().significant[ref, j] for j in others)
    assert np.allclose(a.at().p_holm[ref, others], 12 / 256)
    assert a.at().reachable and a.at().smallest_p == pytest.approx(12 / 256)
    assert a.ranks["test_then_rank", 6.0][ref] == 1
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    data = json.loads(paths["leaderboard.json"].read_text())
    head = data["schemes"]
    assert head["unit"] == "surgery" and head["cases"] == "surgeries" and head["n"] == 8
    assert sorted(head["significantly_better"]["ref"]) == ["t1", "t2", "t3"]
    assert head["holm_adjusted_p"]["ref"]["t3"] == pytest.approx(12 / 256)
    assert head["can_be_significant"] is True
    assert data["bootstrap"]["unit"] == "surgery" and data["bootstrap"]["cases"] == 8
    assert data["bootstrap"]["descriptive"] is True  # 8 < 20 surgeries
    assert {r["unit"] for r in head["ranks"]} == {"pooled", "surgery"}
    page = paths["index.html"].read_text()
    assert "Unit of analysis: the surgery (8 surgeries" in page
    assert "descriptive only" in page and "descriptive only" in paths["leaderboard.md"].read_text()


@pytest.mark.parametrize("teams", [2, 3])
def test_five_surgeries_say_that_nothing_can_be_significant_with_the_reachable_p(tmp_path, teams):
    """The real test set A.2 has 5 surgeries: the smallest one-sided exact p is 1/32, and Holm
    over even 2 ordered pairs lifts it to 0.0625. The page says so, not an all-tied finding."""
    hits = {f"t{i}": 8 - 2 * i for i in range(teams)}
    with _board(tmp_path, 5, hits) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=50, seed=0)
    ca = board.analysis.at()
    pairs = teams * (teams - 1)
    assert not ca.reachable and ca.smallest_p == pytest.approx(pairs / 32)
    assert not ca.significant.any()
    text = ca.verdict()
    assert f"{ca.smallest_p:.3g}" in text and "no difference between teams can be significant" in text
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    for name in ("index.html", "leaderboard.md"):
        assert "no difference between teams can be significant" in paths[name].read_text()
    head = json.loads(paths["leaderboard.json"].read_text())["schemes"]
    assert head["can_be_significant"] is False
    assert head["smallest_reachable_p"] == pytest.approx(pairs / 32)
    assert "not a finding" in head["verdict"]


def test_per_frame_results_live_only_in_the_labelled_parity_section(tmp_path):
    hits = {"a": 8, "b": lambda s: 3 + s % 4}
    with _board(tmp_path, 6, hits, frames=5) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=30, seed=0)
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    head = json.loads(paths["leaderboard.json"].read_text())["schemes"]
    assert head["n"] == 6 and head["challenger_per_frame"]["n"] == 30
    assert "parity" in head["challenger_per_frame"]["note"]
    assert head["challenger_per_frame"]["test"].startswith("one-sided Wilcoxon signed-rank, normal")
    assert head["test"].startswith("one-sided Wilcoxon signed-rank, exact")
    roles = {(r["unit"], r["role"]) for r in head["pairs"]}
    assert roles == {("surgery", "unit of analysis"), ("frame", "challengeR per-frame parity")}


def test_leaving_files_out_never_helps_and_one_missing_frame_costs_less_than_its_surgery(tmp_path):
    """Team B is team A (with false positives everywhere) less some files: the frames where A's
    file holds only false positives, and one frame with labels. Under no scheme at the unit of
    analysis does B rank above A; B's loss on the surgery with the missing frame is at most that
    frame's share of it, not the whole surgery."""
    hits = {"A": lambda s: 4 + s % 3, "B": lambda s: 4 + s % 3, "C": lambda s: 3 + s % 4}
    omit = {"B": ["s1/v0/000002", "s3/v1/000000"]}
    with _board(tmp_path, 6, hits, frames=4, videos=2, omit=omit,
                extra_fp={"A": 2, "B": 2, "C": 1}) as ledger:  # fmt: skip
        rules = PhaseRules("test")
        a = analyse(ledger, rank_phase(ledger, rules), rules, replicates=0)
    ca = a.at()
    ia, ib = a.teams.index("A"), a.teams.index("B")
    for scheme in ("mean", "median", "rank_then_mean", "test_then_rank"):
        assert ca.ranks[scheme][ib] >= ca.ranks[scheme][ia], scheme
    assert (ca.values[ib] <= ca.values[ia] + 1e-12).all()
    s1 = ca.cases.index("s1")
    frames_in_s1 = sum(f.startswith("s1/") for f in a.frames)
    lost = ca.values[ia, s1] - ca.values[ib, s1]
    assert 0 < lost <= 1 / frames_in_s1 + 1e-12 and ca.values[ib, s1] > 0


def test_files_left_out_never_help_on_random_boards(tmp_path):
    """Other members of the class: random teams, random omissions; the team with files left out
    never ranks above itself with them, under any scheme, at the unit of analysis."""
    rng = np.random.default_rng(7)
    for trial in range(3):
        base = {f"s{s}": int(rng.integers(1, 9)) for s in range(5)}
        fps = int(rng.integers(0, 4))
        frames = [f"s{s}/v0/{i:06d}" for s in range(5) for i in range(3)]
        omit = list(rng.choice(frames, size=int(rng.integers(1, 6)), replace=False))
        hits = {"full": lambda s, b=base: b[f"s{s}"], "gaps": lambda s, b=base: b[f"s{s}"],
                "other": lambda s: int(rng.integers(1, 9))}  # fmt: skip
        root = tmp_path / str(trial)
        with _board(root, 5, hits, omit={"gaps": omit},
                    extra_fp={"full": fps, "gaps": fps}) as ledger:  # fmt: skip
            rules = PhaseRules("test")
            a = analyse(ledger, rank_phase(ledger, rules), rules, replicates=0)
        ca = a.at()
        i, j = a.teams.index("full"), a.teams.index("gaps")
        for scheme, ranks in ca.ranks.items():
            assert ranks[j] >= ranks[i], (trial, scheme)


def test_the_unit_can_be_named_and_is_stated_everywhere(tmp_path):
    hits = {"a": 8, "b": lambda s: 3 + s % 4}
    with _board(tmp_path, 3, hits, frames=2, videos=3) as ledger:
        board = build_board(ledger, PhaseRules("test"), replicates=20, seed=0, unit="video")
    assert board.analysis.unit == "video" and board.boot.unit == "video"
    paths = {p.name: p for p in publish(board, tmp_path / "site")}
    text = paths["index.html"].read_text()
    assert "Unit of analysis: the video (9 videos)" in text and "share the patient" in text
    head = json.loads(paths["leaderboard.json"].read_text())["schemes"]
    assert head["unit"] == "video" and head["n"] == 9

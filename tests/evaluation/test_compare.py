"""adaptor-score compare: paired differences against a reference, on the tables' example."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from adaptor_score.compare import CompareError, compare
from adaptor_score.metrics import ratios
from adaptor_score.results import CaseRow
from adaptor_score.signrank import hodges_lehmann, wilcoxon
from adaptor_score.tables import load_manifest, run_manifest
from tests.evaluation.test_tables import EXPERIMENTS, LABELS, build


def _f1(hits, fps, offset, radius=6):
    tp = hits if offset <= radius else 0
    return ratios(tp, hits + fps - tp, len(LABELS) - tp)[2]


def test_differences_are_paired_per_fold_and_checked_by_hand(tmp_path):
    results = run_manifest(load_manifest(build(tmp_path)))
    frame = compare(results, "baseline-g1", replicates=500)
    row = frame[
        (frame.dataset == "CV") & (frame.experiment == "v1-g2-s1") & (frame.level == "fold")
        & (frame.metric == "f1")
    ].iloc[0]  # fmt: skip
    mine, ref = EXPERIMENTS[1][2], EXPERIMENTS[0][2]
    # each fold holds two frames of the same quality: the fold's F1 is the frame's
    d = np.array([_f1(*mine[i]) - _f1(*ref[i]) for i in range(2)])
    assert row["pairs"] == 2 and row["repeats"] == 1
    assert row["mean_difference"] == pytest.approx(d.mean())
    assert row["hl_estimate"] == pytest.approx(np.median([d[0], d.mean(), d[1]]))
    assert row["ci_low"] is None  # no bootstrap interval from two units
    assert row["p_two_sided"] == pytest.approx(wilcoxon(d).p)
    assert row["p_method"].startswith("exact")
    assert row["smallest_p"] == 0.5 and not row["can_reach_0_05"]
    assert set(frame[frame.dataset == "CV"].level) == {"fold", "surgery"}
    assert "baseline-g1" not in set(frame.experiment)


def test_a_test_set_predicted_by_every_fold_model_is_one_pair_per_surgery(tmp_path):
    """The test set's frames are one surgery, predicted by both fold models: per surgery that is
    one unit (the models averaged), per model two pairs labelled as models, never folds."""
    results = run_manifest(load_manifest(build(tmp_path)))
    frame = compare(results, "baseline-g1", replicates=500)
    test = frame[(frame.dataset == "Test") & (frame.experiment == "v1-g2-s2")]
    assert set(test.level) == {"model", "surgery"}
    surgery = test[(test.level == "surgery") & (test.metric == "f1")].iloc[0]
    assert surgery["pairs"] == 1 and surgery["repeats"] == 2
    mine, ref = EXPERIMENTS[2][2], EXPERIMENTS[0][2]
    want = np.mean([_f1(*mine[i]) for i in range(2)]) - np.mean([_f1(*ref[i]) for i in range(2)])
    assert surgery["mean_difference"] == pytest.approx(want)
    assert surgery["interval_note"] == "1 pair: no interval"


class _Manifest:
    def __init__(self, names):
        self.experiments = [type("E", (), {"name": n})() for n in names]
        self.radius, self.radii = 6.0, [6.0]


class _Results:
    def __init__(self, cases):
        self.manifest = _Manifest(sorted({c.experiment for c in cases}))
        self.cases = cases


def _case(experiment, seed, run, surgery, tp, kind="runs"):
    return CaseRow("T", experiment, seed, run, surgery, 6.0, tp, 10 - tp, 10 - tp, kind)


def test_models_and_seeds_are_averaged_within_each_surgery():
    """3 surgeries x 4 fold models x 2 seeds: the independent units are the 3 surgeries (the
    repeated-measures mistake would count 24 pairs)."""
    rng = np.random.default_rng(0)
    cases, truth = [], {}
    for g in ("s1", "s2", "s3"):
        for e, base in (("ref", 4), ("new", 6)):
            tps = []
            for run in ("f0", "f1", "f2", "f3"):
                for seed in (0, 1):
                    tp = int(base + rng.integers(0, 3))
                    tps.append(tp)
                    cases.append(_case(e, seed, run, g, tp))
            truth[e, g] = np.mean([t / 10 for t in tps])  # F1 = tp / (tp + (10 - tp))
    frame = compare(_Results(cases), "ref", replicates=200)
    row = frame[(frame.level == "surgery") & (frame.metric == "f1")].iloc[0]
    assert row["pairs"] == 3 and row["repeats"] == 8
    d = [truth["new", g] - truth["ref", g] for g in ("s1", "s2", "s3")]
    assert row["mean_difference"] == pytest.approx(np.mean(d))
    assert row["p_two_sided"] == 0.25 and row["smallest_p"] == 0.25  # 3 pairs: 2 x 2^-3
    model = frame[(frame.level == "model") & (frame.metric == "f1")].iloc[0]
    assert model["pairs"] == 4 and model["repeats"] == 2
    assert hodges_lehmann(d).note in row["interval_note"]


def test_the_p_value_is_printed_with_its_method_unit_and_n(tmp_path):
    from adaptor_score.compare import p_text

    row = {"p_two_sided": 0.25, "p_method": "exact signed-rank", "level": "surgery", "pairs": 3,
           "can_reach_0_05": False, "smallest_p": 0.25}  # fmt: skip
    assert p_text(row) == "0.25 (exact, 3 surgeries; cannot reach 0.05: smallest 0.25)"


def test_a_radius_that_was_not_scored_is_refused(tmp_path):
    results = run_manifest(load_manifest(build(tmp_path)))
    with pytest.raises(CompareError, match="radius 7 px was not scored; the manifest scores 6, 8"):
        compare(results, "baseline-g1", radius=7)


def test_an_unknown_reference_is_refused_with_the_names():
    class _M:
        experiments = []
        radius = 6.0

    class _R:
        manifest = _M()
        cases = []

    with pytest.raises(CompareError, match="no experiment named 'nope'"):
        compare(_R(), "nope")


def test_cli_writes_tables_and_challenger_long_csv(tmp_path):
    manifest = build(tmp_path)
    out = tmp_path / "cmp"
    r = CliRunner().invoke(main, ["compare", str(manifest), "--reference", "baseline-g1",
                                  "--out", str(out), "--replicates", "200"])  # fmt: skip
    assert r.exit_code == 0, r.output
    md = (out / "compare.md").read_text()
    assert "cannot reach 0.05" in md and "ΔF1 (HL) [95 % CI]" in md and "(exact, 2 folds;" in md
    assert "\\begin{tabular}" in (out / "compare.tex").read_text()
    with open(out / "per-case.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["algorithm", "case", "task", "metric", "value", "level", "seed"]
    assert {r["level"] for r in rows} == {"fold", "model", "surgery"}
    assert {r["algorithm"] for r in rows} == {e[0] for e in EXPERIMENTS}
    bad = CliRunner().invoke(
        main, ["compare", str(manifest), "--reference", "nope", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "baseline-g1" in bad.output
    into_input = CliRunner().invoke(main, ["compare", str(manifest), "--reference",
                                           "baseline-g1", "--out", str(tmp_path / "gt_cv")])  # fmt: skip
    assert into_input.exit_code == 2




def test_pairs_without_a_difference_are_said_beside_the_p_value():
    from adaptor_score.compare import p_text

    row = {"p_two_sided": 0.25, "p_method": "exact", "level": "fold", "pairs": 4,
           "nonzero_pairs": 3, "can_reach_0_05": False, "smallest_p": 0.25}  # fmt: skip
    assert p_text(row) == ("0.25 (exact, 4 folds, 1 without a difference; cannot reach 0.05:"
                           " smallest 0.25)")  # fmt: skip


@pytest.mark.parametrize("d", [
    [.01, -.07, .03, .04, -0.0, .05, .03, -.02, .04, .04, .05, .06, .03],  # the issue's sample
    [.02, .0, .0, .03, .05, -.01, .04, .02, .06, .03, -.02, .05, .04, .0],
])  # fmt: skip
def test_an_interval_that_disagrees_with_its_test_is_marked_and_explained(d):
    """Zero and tied differences: the test drops and ties them, the interval keeps them. Where
    the two disagree on 0, the row says so and the table marks the cell and explains it; where
    they agree, no mark."""
    import pandas as pd

    from adaptor_score.compare import COLUMNS, DISAGREES, _statistics, to_table
    from adaptor_score.render import to_markdown

    stats = _statistics(np.array(d), 200, 0)
    iv, test = hodges_lehmann(d), wilcoxon(d)
    excludes = iv.low > 0 or iv.high < 0
    assert stats["interval_agrees_with_test"] == (excludes == (test.p <= 1 - iv.level + 1e-12))
    rows = [{"dataset": "A", "experiment": "x", "reference": "r", "level": "surgery",
             "radius": 6.0, "metric": m, "pairs": len(d), "repeats": 1, **stats}
            for m in ("f1", "ppv", "tpr")]  # fmt: skip
    md = to_markdown(to_table(pd.DataFrame(rows, columns=list(COLUMNS)), "r"))
    marked = DISAGREES in md
    assert marked == (stats["interval_agrees_with_test"] is False)
    assert ("unless marked" in md) and (("disagree on whether 0" in md) == marked)
    assert "always agree" not in md


def test_the_issues_sample_disagrees():
    from adaptor_score.compare import _statistics

    d = [.01, -.07, .03, .04, -0.0, .05, .03, -.02, .04, .04, .05, .06, .03]
    stats = _statistics(np.array(d), 200, 0)
    assert stats["interval_agrees_with_test"] is False and stats["p_two_sided"] > 0.05
    assert stats["hl_low"] > 0

"""adaptor-score compare: paired differences against a reference, on the tables' example."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from adaptor_score.compare import CompareError, compare
from adaptor_score.metrics import ratios
from adaptor_score.stats import smallest_p, wilcoxon_two_sided
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
    assert row["pairs"] == 2
    assert row["mean_difference"] == pytest.approx(d.mean())
    assert row["ci_low"] <= row["mean_difference"] <= row["ci_high"]
    assert row["p_two_sided"] == pytest.approx(wilcoxon_two_sided(d))
    assert row["smallest_p"] == smallest_p(2, two_sided=True) == 0.5
    assert not row["can_reach_0_05"]
    assert set(frame.level) == {"fold", "surgery"} and "baseline-g1" not in set(frame.experiment)


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
    assert "cannot reach 0.05" in md and "ΔF1 [95 % CI]" in md
    assert "\\begin{tabular}" in (out / "compare.tex").read_text()
    with open(out / "per-case.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["algorithm", "case", "task", "metric", "value", "level", "seed"]
    assert {r["level"] for r in rows} == {"fold", "surgery"}
    assert {r["algorithm"] for r in rows} == {e[0] for e in EXPERIMENTS}
    bad = CliRunner().invoke(
        main, ["compare", str(manifest), "--reference", "nope", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "baseline-g1" in bad.output
    into_input = CliRunner().invoke(main, ["compare", str(manifest), "--reference",
                                           "baseline-g1", "--out", str(tmp_path / "gt_cv")])  # fmt: skip
    assert into_input.exit_code == 2


def test_seed_is_a_paired_factor_when_both_have_several():
    from adaptor_score.compare import _Cases, _pairs

    def cases(values):  # {(seed, run): f1}
        return _Cases({k: {"f1": v} for k, v in values.items()}, {k[0] for k in values})

    a = cases({(0, "f0"): 0.5, (1, "f0"): 0.7, (0, "f1"): 0.4, (1, "f1"): 0.6})
    b = cases({(0, "f0"): 0.4, (1, "f0"): 0.4, (0, "f1"): 0.4, (1, "f1"): 0.5})
    d, by_seed = _pairs(a, b, "f1")
    assert by_seed and sorted(np.round(d, 6).tolist()) == [0.0, 0.1, 0.1, 0.3]
    unseeded = cases({(None, "f0"): 0.5, (None, "f1"): 0.5})
    d, by_seed = _pairs(a, unseeded, "f1")  # seeds averaged first: one pair per run
    assert not by_seed and sorted(np.round(d, 6).tolist()) == [0.0, 0.1]

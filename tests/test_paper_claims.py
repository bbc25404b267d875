"""The paper's claims tested on the kept grid (benchmarks/paper_claims.py): quoted from the paper,
paired at the independent unit, decided by the exact test that ``compare`` uses."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "reference" / "paper-point-detection-sutures.txt"
sys.path.insert(0, str(ROOT / "benchmarks"))

import paper_claims  # noqa: E402
from paper_claims import PAPER_CLAIMS, PAPER_F1, verdict  # noqa: E402


@pytest.fixture(scope="module")
def kept():
    """The committed runs as ``Results``, and the claims made from them."""
    import paper_grid

    from adaptor_score.manifest import write_manifest
    from adaptor_score.tables import run_manifest

    with tempfile.TemporaryDirectory() as tmp:
        manifest = paper_grid.materialise(paper_grid.INTO, Path(tmp))
        write_manifest(manifest)
        results = run_manifest(manifest)
        yield results, paper_claims.claim_rows(results)


def test_every_claim_names_configurations_the_grid_trains():
    sweep = (ROOT / "examples" / "paper-sweep.toml").read_text()
    names = set(re.findall(r'name = "([^"]+)"', sweep))
    for c in PAPER_CLAIMS:
        assert {c.experiment, c.reference} <= names, c
        assert c.kind in ("f1", "radius", "close") and c.expect in (1, -1)
        assert (c.kind == "radius") == (c.radius != c.reference_radius), c


def test_the_papers_differences_are_its_tables_and_its_prose_is_quoted():
    if not PAPER.exists():
        pytest.skip("the paper's text is not beside this checkout")
    text = PAPER.read_text(encoding="utf-8")
    for (dataset, experiment, radius), f1 in PAPER_F1.items():
        assert re.search(rf"{re.escape(f'{f1:.4f}')} \\pm", text), (dataset, experiment, radius)
    for c in PAPER_CLAIMS:
        if c.prose is not None:
            sign = "+" if c.prose > 0 else "-"
            assert re.search(rf"F_1\s*{re.escape(sign)}\s*{abs(c.prose):.4f}", text), c
        if c.kind != "close":
            assert c.paper_difference() is not None, c  # every F1 claim has the paper's number


def test_the_prose_that_its_tables_contradict_is_shown_beside_them():
    """The text quotes +0.0082 for Variant 1 against the older baseline on A.1; its Table 1 (a)
    gives 0.4798 - 0.4376 = +0.0422. The page shows both."""
    c = next(c for c in PAPER_CLAIMS if (c.dataset, c.experiment, c.reference)
             == ("A.1", "v1-g3-s1", "baseline-g1"))  # fmt: skip
    assert c.paper_difference() == 0.0422 and c.prose == 0.0082
    row = {"dataset": "A.1", "claim": c.text, "source": c.source, "kind": c.kind,
           "experiment": c.experiment, "reference": c.reference, "radius": 6.0,
           "reference_radius": 6.0, "paper": 0.0422, "prose": 0.0082, "verdict": "x"}  # fmt: skip
    assert "+0.0422 (its text: +0.0082)" in paper_claims.claims_markdown([row])


@pytest.mark.parametrize(
    ("d", "expect", "start"),
    [
        ([0.1, 0.2, 0.3, 0.4], 1, "cannot tell at this n (4 folds: smallest two-sided p 0.125); same direction, 4 of 4"),
        ([-0.1, -0.2, -0.3, 0.05, -0.4], 1, "cannot tell at this n (5 folds: smallest two-sided p 0.0625); opposite direction, 1 of 5"),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 1, "reproduces; same direction, 6 of 6"),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], -1, "opposite (significant); opposite direction, 0 of 6"),
        ([0.1, -0.2, 0.3, -0.4, 0.5, 0.6], 1, "not significant (p 0.438); same direction, 4 of 6"),
    ],
)  # fmt: skip
def test_verdicts_follow_the_exact_test_and_the_claims_direction(d, expect, start):
    d = np.array(d)
    assert verdict(d, paper_claims._test(d), expect, "fold").startswith(start)


def test_claims_are_made_at_the_independent_unit(kept):
    results, rows = kept
    done = [r for r in rows if r["verdict"] != "not run yet"]
    assert len(done) == len(PAPER_CLAIMS)  # the committed grid has every configuration
    for r in done:
        # the surgery, with the fold (cross-validation) or the model (test set) beside it,
        # labelled as such; Fig. 4's claim at its own unit, the fold
        if r["kind"] == "close":
            assert r["level"] == "fold" and "beside" not in r, r
        else:
            assert r["level"] == "surgery", r
            assert r["beside"]["level"] == ("model" if r["dataset"] == "A.2" else "fold")
            if r["dataset"] != "A.2":  # a stand-in fold holds one surgery: the same pairs
                assert (r["beside"]["p"], r["beside"]["pairs"]) == (r["p"], r["pairs"])
        assert r["pairs"] == len(r["differences"]) == {"A.1": 4, "A.2": 5, "B.1": 5}[r["dataset"]]
        nonzero = sum(1 for x in r["differences"] if x != 0)
        assert r["smallest_p"] == pytest.approx(2 * 0.5**nonzero)  # the exact test's floor


def _synthetic_results(folds: int, per_fold: int, seeds=(0, 1)):
    """A B.1-like cross-validation with ``per_fold`` surgeries in each fold (the paper's B.1:
    10 simulations in 5 folds) for Variant 2 and its baseline; counts from a fixed generator."""
    import types

    from adaptor_score.results import CaseRow, ResultRow, Results

    rng = np.random.default_rng(3)
    names = ("baseline-g2", "v2-g2-s1")
    manifest = types.SimpleNamespace(
        radius=6.0, radii=[6.0], experiments=[types.SimpleNamespace(name=n) for n in names]
    )
    cases, rows, truth = [], [], {}
    for f in range(folds):
        for g in range(per_fold):
            surgery = f"sim{f}{g}"
            for name, base in zip(names, (10, 13)):
                tps = []
                for seed in seeds:
                    tp = int(base + rng.integers(-3, 4))
                    tps.append(tp)
                    cases.append(
                        CaseRow(
                            "B.1",
                            name,
                            seed,
                            f"fold-{f}",
                            surgery,
                            6.0,
                            tp,
                            20 - tp,
                            20 - tp,
                            "folds",
                        )
                    )
                truth[name, surgery] = np.mean([t / 20 for t in tps])
        for name in names:
            for seed in seeds:
                summary = types.SimpleNamespace(radius=6.0)
                rows.append(
                    ResultRow("B.1", types.SimpleNamespace(name=name), f"fold-{f}", summary, seed)
                )
    return Results(manifest, rows=rows, cases=cases), truth


def test_a_fold_of_several_surgeries_is_tested_per_surgery_with_the_fold_beside():
    """Fix the unit, not the example: where folds hold two surgeries each (the paper's B.1),
    the claim's pairs are the 10 surgeries, each averaged over its seeds, and the 5 folds are
    shown beside them; the p-value is the exact test over the surgeries' differences."""
    from adaptor_score.signrank import wilcoxon

    results, truth = _synthetic_results(folds=5, per_fold=2)
    row = next(r for r in paper_claims.claim_rows(results)
               if (r["dataset"], r["experiment"], r["reference"], r["kind"])
               == ("B.1", "v2-g2-s1", "baseline-g2", "f1"))  # fmt: skip
    surgeries = sorted({s for _, s in truth})
    want = [truth["v2-g2-s1", s] - truth["baseline-g2", s] for s in surgeries]
    assert row["level"] == "surgery" and row["pairs"] == 10 and row["seeds"] == 2
    assert row["differences"] == pytest.approx(want, abs=1e-12)
    assert row["p"] == wilcoxon(np.array(want)).p and row["smallest_p"] == pytest.approx(2 / 2**10)
    assert row["beside"]["level"] == "fold" and row["beside"]["pairs"] == 5
    assert "surgeries" in row["verdict"] and "of 10 surgeries" in row["verdict"]


@pytest.mark.parametrize(("alpha", "n"), [(0.05, 6), (0.05 / 30, 11), (0.125, 4), (0.0625, 5)])
def test_units_to_reach_a_level_is_the_exact_tests_floor(alpha, n):
    assert paper_claims.units_to_reach(alpha) == n
    assert 2 * 0.5**n <= alpha < 2 * 0.5 ** (n - 1)


def test_f1_claims_equal_compares_own_rows(kept):
    """An F1 claim is ``compare``'s paired test of the two configurations at that unit."""
    from adaptor_score.compare import compare

    results, rows = kept
    frames = {}
    for r in rows:
        if r["kind"] != "f1":
            continue
        f = frames.setdefault(r["reference"], compare(results, r["reference"]))
        hit = f[(f.dataset == r["dataset"]) & (f.experiment == r["experiment"])
                & (f.level == r["level"]) & (f.metric == "f1")].iloc[0]  # fmt: skip
        assert (hit.pairs, hit.p_two_sided) == (r["pairs"], r["p"]), r["claim"]
        assert hit.mean_difference == pytest.approx(r["difference"], abs=1e-12)


def test_a_wider_radius_never_loses_a_match(kept):
    """Closest pairs first: every match at 6 px is one at 8 and 10 px, so no unit's F1 falls."""
    _, rows = kept
    radius = [r for r in rows if r["kind"] == "radius"]
    assert len(radius) == 6
    for r in radius:
        assert min(r["differences"]) >= 0, r


def test_the_close_points_claim_from_the_runs_own_shares(kept):
    """Fig. 4's claim recomputed by hand from every run's shares: per fold, averaged over seeds,
    (close share drop) - (other share drop) from sigma_1 = 2 to 3."""
    results, rows = kept
    for r in (r for r in rows if r["kind"] == "close"):
        shares: dict = {}
        for row in results.rows:
            if row.dataset == r["dataset"] and row.summary.radius == 6.0:
                s = row.summary
                shares.setdefault((row.experiment.name, row.run), []).append(
                    (s.close_tp_share, s.other_tp_share)
                )
        folds = sorted({run for _, run in shares})
        want = []
        for fold in folds:
            a = np.mean(shares[r["experiment"], fold], axis=0)
            b = np.mean(shares[r["reference"], fold], axis=0)
            want.append((a[0] - b[0]) - (a[1] - b[1]))
        assert r["differences"] == pytest.approx(want, abs=1e-12)


def test_a_second_seed_is_averaged_within_the_unit_and_counted_per_seed(tmp_path):
    """The kept runs with a copy of seed 0 as seed 1: averaging a unit over two equal seeds
    changes no difference and no p-value, and each seed's own mean difference is reported."""
    import json
    import shutil

    import paper_grid

    from adaptor_score.manifest import write_manifest
    from adaptor_score.tables import run_manifest

    def record(seeds) -> Path:  # seed 0's kept runs, once per seed named
        kept = tmp_path / f"kept{len(seeds)}"
        shutil.copytree(paper_grid.INTO / "labels", kept / "labels")
        shutil.copytree(paper_grid.INTO / "folds", kept / "folds")
        for f in (paper_grid.INTO / "runs").rglob("seed-0/fold-*.json"):
            for seed in seeds:
                doc = json.loads(f.read_text())
                doc["seed"] = seed
                target = (
                    kept / f.relative_to(paper_grid.INTO).parent.parent / f"seed-{seed}" / f.name
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(doc))
        return kept

    def rows_of(into):
        with tempfile.TemporaryDirectory() as tmp:
            manifest = paper_grid.materialise(into, Path(tmp))
            write_manifest(manifest)
            return paper_claims.claim_rows(run_manifest(manifest))

    one, two = rows_of(record([0])), rows_of(record([0, 1]))
    for a, b in zip(one, two):
        assert (a["seeds"], b["seeds"]) == (1, 2)
        assert b["p"] == a["p"] and b["difference"] == pytest.approx(a["difference"], abs=1e-12)
        assert b["per_seed"] == pytest.approx({"0": a["difference"], "1": a["difference"]})
    table = paper_claims.claims_markdown(two)
    assert "| 2 of 2 |" in table or "| 0 of 2 |" in table

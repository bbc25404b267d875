"""Tables 1-4 from a manifest: golden layouts on a small, fully determined example."""

import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from adaptor_score.frames import FrameKey
from adaptor_score.render import to_markdown
from adaptor_score.tables import ManifestError, load_manifest, run_manifest, write_tables
from tests.evaluation.helpers import write_label, write_prediction

GOLDEN = Path(__file__).parent / "golden"
LABELS = [(10, 10), (40, 10), (70, 10), (100, 10)]
CV_FRAMES = [FrameKey(s, "v", f"{i:06d}") for s in ("s1", "s2") for i in range(2)]
TEST_FRAMES = [FrameKey("t1", "v", f"{i:06d}") for i in range(2)]


def preds(hits: int, fps: int, offset: float):
    """``hits`` labels found at ``offset`` px, plus ``fps`` far-away false positives."""
    return [(x + offset, y) for x, y in LABELS[:hits]] + [(300 + 20 * i, 200) for i in range(fps)]


# (name, params, per-run quality): run quality = (hits, false positives, offset px)
EXPERIMENTS = [
    ("baseline-g1", dict(model="Baseline", distribution="gauss", sigma1=1), [(2, 1, 1), (3, 0, 2)]),
    (
        "v1-g2-s1",
        dict(model="Variant 1", distribution="gauss", sigma1=2, sigma2=1),
        [(4, 0, 1), (3, 1, 7)],
    ),
    (
        "v1-g2-s2",
        dict(model="Variant 1", distribution="gauss", sigma1=2, sigma2=2),
        [(3, 0, 3), (3, 0, 3)],
    ),
    ("v1-tanh", dict(model="Baseline", distribution="tanh", alpha=7), [(1, 2, 0), (2, 2, 0)]),
]


def build(tmp_path: Path) -> Path:
    gt_cv, gt_test = tmp_path / "gt_cv", tmp_path / "gt_test"
    for k in CV_FRAMES:
        write_label(gt_cv, k, LABELS)
    for k in TEST_FRAMES:
        write_label(gt_test, k, LABELS)
    lines = [
        "radius = 6",
        "radii = [6, 8, 10]",
        "",
        "[[dataset]]",
        'name = "CV"',
        'title = "Cross-validation (synthetic)"',
        'ground_truth = "gt_cv"',
        "",
        "[[dataset]]",
        'name = "Test"',
        'title = "Test set (synthetic)"',
        'ground_truth = "gt_test"',
        "",
    ]
    for name, params, runs in EXPERIMENTS:
        lines += ["[[experiment]]", f'name = "{name}"']
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in params.items()]
        for fold, (hits, fps, off) in zip(("s1", "s2"), runs):
            for k in CV_FRAMES:
                write_prediction(tmp_path / name / "cv" / fold, k, preds(hits, fps, off))
            for k in TEST_FRAMES:
                write_prediction(tmp_path / name / "test" / fold, k, preds(hits, fps, off))
        lines += [
            "[[experiment.results]]",
            'dataset = "CV"',
            f'folds = {{ s1 = "{name}/cv/s1", s2 = "{name}/cv/s2" }}',
            "[[experiment.results]]",
            'dataset = "Test"',
            f'runs = ["{name}/test/s1", "{name}/test/s2"]',
            "",
        ]
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("\n".join(lines))
    return manifest


def test_tables_match_golden(tmp_path):
    manifest = build(tmp_path)
    results = run_manifest(load_manifest(manifest))
    assert results.problems == []
    out = tmp_path / "out"
    write_tables(results, out)
    for name in ("table1", "table2", "table3", "table4"):
        for suffix in (".md", ".tex", ".csv"):
            got = (out / f"{name}{suffix}").read_text()
            golden = GOLDEN / f"{name}{suffix}"
            if os.environ.get("UPDATE_GOLDEN"):
                golden.write_text(got)
            assert got == golden.read_text(), f"{name}{suffix} differs from the golden file"


def test_results_csv_is_long_and_complete(tmp_path):
    results = run_manifest(load_manifest(build(tmp_path)))
    out = tmp_path / "out"
    write_tables(results, out)
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert set(rows[0]) >= {
        "dataset",
        "experiment",
        "run",
        "radius",
        "tp",
        "fp",
        "fn",
        "ppv",
        "tpr",
        "f1",
        "rmse",
        "rmse_images",
        "images",
        "sigma1",
        "sigma2",
    }
    # 4 experiments x (2 fold runs + 2 test runs) x 3 radii
    assert len(rows) == 4 * 4 * 3
    fold_row = next(
        r
        for r in rows
        if r["experiment"] == "v1-g2-s1" and r["run"] == "s2" and r["radius"] == "6.0"
    )
    # fold s2 only: 2 frames x (3 hits at 7 px -> not TP at 6 px, 1 FP)
    assert (fold_row["tp"], fold_row["fp"], fold_row["fn"], fold_row["images"]) == (
        "0",
        "8",
        "8",
        "2",
    )
    fold_row8 = next(
        r
        for r in rows
        if r["experiment"] == "v1-g2-s1" and r["run"] == "s2" and r["radius"] == "8.0"
    )
    assert (fold_row8["tp"], fold_row8["fp"]) == ("6", "2")


def test_cli_tables(tmp_path):
    manifest = build(tmp_path)
    r = CliRunner().invoke(main, ["tables", str(manifest), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "table1" in r.output and (tmp_path / "o" / "tables.md").exists()


def test_missing_run_folder_is_a_problem_not_a_crash(tmp_path):
    manifest = build(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "v1-tanh" / "cv" / "s1")
    results = run_manifest(load_manifest(manifest))
    assert any("run folder missing; not counted" in p.problem for p in results.problems)
    assert len(results.rows) == 4 * 4 * 3 - 3  # that fold's run is missing, not a run of zeros
    out = tmp_path / "t"
    write_tables(results, out)
    table1 = (out / "table1.md").read_text()
    assert table1.count("(1/2 folds)") == 3  # PPV, TPR, F1 of the incomplete experiment say so
    problems = (out / "problems.csv").read_text()
    assert "run folder missing" in problems


@pytest.mark.parametrize(
    "text, needle",
    [
        ("radius = [", "not valid TOML"),
        ("[[dataset]]\nname='a'\n", "experiment: is required"),
        (
            "[[dataset]]\nname='a'\n[[experiment]]\nname='e'\n",
            "dataset\\[0\\].ground_truth: is required",
        ),
        (
            '[[dataset]]\nname="a"\nground_truth="g"\n[[experiment]]\nname="e"\n[[experiment.results]]\ndataset="zz"\nruns=[]\n',
            "unknown dataset",
        ),
    ],
)
def test_bad_manifests(tmp_path, text, needle):
    f = tmp_path / "m.toml"
    f.write_text(text)
    with pytest.raises(ManifestError, match=needle):
        load_manifest(f)


def test_a_fold_left_out_of_the_manifest_is_listed_and_counted(tmp_path):
    manifest = load_manifest(build(tmp_path))
    exp = manifest.experiments[0]
    res = next(r for r in exp.results if r["kind"] == "folds")
    dropped = sorted(res["runs"])[0]
    del res["runs"][dropped]
    results = run_manifest(manifest)
    assert any(f"fold {dropped!r}: no run in the manifest" in p.problem for p in results.problems)
    ds = res["dataset"]
    assert results.coverage(ds, exp) == f"({len(res['runs'])}/{len(res['runs']) + 1} folds)"
    other = manifest.experiments[1]
    assert (
        results.coverage(next(r for r in other.results if r["kind"] == "folds")["dataset"], other)
        == ""
    )


def test_close_points_table_and_figure_and_merged_manifests(tmp_path):
    from adaptor_score.manifest import merge_manifests

    manifest = build(tmp_path)
    results = run_manifest(load_manifest(manifest))
    paths = write_tables(results, tmp_path / "o")
    assert tmp_path / "o" / "close_points.svg" in paths
    md = (tmp_path / "o" / "close_points.md").read_text()
    assert "Close found (%)" in md and "mean ± std" in md
    svg = (tmp_path / "o" / "close_points.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<rect") > 2
    # two manifests with distinct dataset names become one set of tables
    other = tmp_path / "other.toml"
    text = manifest.read_text().replace('"CV"', '"B.1"').replace('"Test"', '"B.2"')
    other.write_text(text.replace('title = "', 'title = "Simulator: '))
    merged = merge_manifests([load_manifest(manifest), load_manifest(other)], tmp_path / "m.toml")
    assert set(merged.datasets) == set(load_manifest(manifest).datasets) | {"B.1", "B.2"}
    with pytest.raises(ManifestError, match="also in"):
        merge_manifests([load_manifest(manifest), load_manifest(manifest)], tmp_path / "m.toml")
    r = CliRunner().invoke(
        main, ["tables", str(manifest), str(other), "--out", str(tmp_path / "both"),
               "--write-manifest", str(tmp_path / "both.toml")]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    table1 = (tmp_path / "both" / "table1.md").read_text()
    assert (
        "Simulator: " in table1
        and load_manifest(tmp_path / "both.toml").datasets.keys() == merged.datasets.keys()
    )


def test_close_points_tell_sigma2_apart_and_show_every_fold(tmp_path):
    """v1-g2-s1 and v1-g2-s2 differ only in σ2: the table and figure must say so, and the figure
    shows each fold's value (the paper's Fig. 4), not only the mean."""
    from adaptor_score.paper_tables import close_points, close_points_figure

    results = run_manifest(load_manifest(build(tmp_path)))
    md = to_markdown(close_points(results))
    assert "| Variant 1 | Gauss, σ1 = 2 | 1 |" in md and "| Variant 1 | Gauss, σ1 = 2 | 2 |" in md
    svg = close_points_figure(results)
    assert "Variant 1, Gauss, σ1 = 2, σ2 = 1" in svg and "Variant 1, Gauss, σ1 = 2, σ2 = 2" in svg
    # one dot per dataset, experiment and run; these labels have no close pair, so the close
    # subset's share is undefined and only the other labels' dots are drawn
    assert svg.count("<circle") == 2 * 2 * len(EXPERIMENTS)
    assert "<title>s1:" in svg


def test_table2_rows_the_paper_lacks_are_labelled_as_ours(tmp_path):
    from adaptor_score.paper_tables import table2

    extra = ("v1-g4-s1", dict(model="Variant 1", distribution="gauss", sigma1=4, sigma2=1),
             [(2, 0, 1), (2, 0, 1)])  # fmt: skip
    EXPERIMENTS.append(extra)
    try:
        md = to_markdown(table2(run_manifest(load_manifest(build(tmp_path)))))
    finally:
        EXPERIMENTS.remove(extra)
    rows = [line for line in md.splitlines() if "Gauss" in line]
    assert all("(ours, not in the paper)" in r for r in rows if "σ1 = 4" in r)
    assert not any("(ours" in r for r in rows if "σ1 = 2" in r)
    first = [r for r in rows if "PPV" in r]
    assert "σ1 = 2" in first[0]  # the paper's rows come first


def test_tables_say_when_no_run_learned_and_carry_a_note(tmp_path):
    """Tables of runs that learned nothing (make paper-tables' tiny settings) say so above
    themselves; a note of the caller's comes first; tables of runs that learned carry neither."""
    import dataclasses

    results = run_manifest(load_manifest(build(tmp_path)))
    write_tables(results, tmp_path / "a")
    assert "learned close to nothing" not in (tmp_path / "a" / "tables.md").read_text()
    write_tables(results, tmp_path / "b", note="Tiny settings: structure only.")
    assert (tmp_path / "b" / "tables.md").read_text().startswith("Tiny settings: structure only.")
    results.rows = [
        dataclasses.replace(r, summary=dataclasses.replace(r.summary, f1=0.049))
        for r in results.rows
    ]
    write_tables(results, tmp_path / "c")
    text = (tmp_path / "c" / "tables.md").read_text()
    assert text.startswith("> Every F1 in these tables is below 0.05")
    r = CliRunner().invoke(
        main, ["tables", str(build(tmp_path / "m")), "--out", str(tmp_path / "d"), "--note", "N"]
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "d" / "tables.md").read_text().startswith("N\n")


def test_a_participants_cross_validation_is_scored_in_one_command(tmp_path):
    """`adaptor-score cv GT --fold NAME=DIR ...`: the per-fold table a hand-written manifest
    gives, from one prediction folder per fold (each fold's model on its own frames)."""
    import csv as _csv

    from click.testing import CliRunner

    from adaptor_baseline.synth import generate_dataset
    from adaptor_baseline.synth.perturb import perturbed_predictions
    from adaptor_score.cli import main

    gt = tmp_path / "gt"
    generate_dataset(gt, "sim", surgeries=2, videos=1, frames=3, seed=3, workers=1)
    folders = sorted(p.name for p in gt.iterdir() if p.is_dir())
    args = ["cv", str(gt), "--out", str(tmp_path / "out"), "--experiment", "my-net"]
    for i, folder in enumerate(folders):
        pred = tmp_path / f"pred{i}"
        perturbed_predictions(gt, pred, 2, 0.2, 1, i)
        for other in folders:  # a fold's model predicts its own held-out frames only
            if other != folder:
                import shutil

                shutil.rmtree(pred / other)
        args += ["--fold", f"{folder}={pred}"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    with open(tmp_path / "out" / "results.csv", newline="") as f:
        rows = [row for row in _csv.DictReader(f) if row["radius"] == "6.0"]
    assert sorted(row["run"] for row in rows) == folders and {row["experiment"] for row in rows} == {"my-net"}
    assert "my-net" in (tmp_path / "out" / "table1.md").read_text()
    assert (tmp_path / "out" / "manifest.toml").exists()
    bad = CliRunner().invoke(main, ["cv", str(gt), "--out", str(tmp_path / "o2"), "--fold",
                                    f"nofold={tmp_path / 'pred0'}"])  # fmt: skip
    assert bad.exit_code == 2 and "nofold" in bad.output, bad.output

"""The paper grid's kept runs (benchmarks/paper_grid.py): the tables rebuilt from the small files,
without training, equal the tables `cv` wrote from its run folders, cell for cell."""

from __future__ import annotations

import csv
import importlib.util
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.synth import generate_dataset

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts' own folder, as when run
    spec = importlib.util.spec_from_file_location(
        "paper_grid", ROOT / "benchmarks" / "paper_grid.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["paper_grid"] = module
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[tuple]:
    keys = ("dataset", "experiment", "seed", "run", "radius", "tp", "fp", "fn", "f1", "rmse")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(k in rows[0] for k in keys), path
    return sorted(tuple(r[k] for k in keys) for r in rows)


@pytest.fixture(scope="module")
def grid_cv(tmp_path_factory):
    """A finished two-seed ``cv`` of two configurations on a tiny A.1 with an A.2 test set."""
    tmp_path = tmp_path_factory.mktemp("grid")
    data, test = tmp_path / "A1", tmp_path / "A2"
    generate_dataset(data, "sim", surgeries=2, videos=1, frames=2, seed=4, workers=1, max_points=8)
    generate_dataset(test, "sim", surgeries=1, videos=1, frames=2, seed=5, workers=1, max_points=8)
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[[experiment]]\nname = "b1"\nconfig = "baseline"\nsigma1 = 1\n\n'
                     '[[experiment]]\nname = "v1"\nconfig = "variant1"\nsigma1 = 2\n')  # fmt: skip
    out = tmp_path / "cv"
    r = CliRunner().invoke(main, ["cv", "--data", str(data), "--test", str(test), "--name", "A.1",
                                  "--test-name", "A.2", "--out", str(out), "--sweep", str(sweep),
                                  "--width", "4", "--depth", "2", "--epochs", "1",
                                  "--steps-per-epoch", "2", "--batch-size", "2", "--input-size",
                                  "128", "72", "--device", "cpu", "--seeds", "0", "1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    return data, test, out


def test_tables_rebuilt_from_the_kept_files_equal_the_tables_of_the_run(grid_cv, tmp_path):
    data, test, out = grid_cv
    tool = _tool()
    kept = tmp_path / "kept"
    n = tool.collect([(out, ["A.1", "A.2"])], kept, {"A.1": data, "A.2": test})
    assert n == 2 * 2 * 2  # experiments x folds x seeds
    assert b"\r" not in (kept / "folds" / "A.1.csv").read_bytes()  # the record keeps LF
    assert sum(f.stat().st_size for f in kept.rglob("*") if f.is_file()) < 2_000_000
    tool.tables(kept, tmp_path / "rebuilt", "b1")
    assert _rows(tmp_path / "rebuilt" / "tables" / "results.csv") == _rows(
        out / "tables" / "results.csv"
    )
    assert (tmp_path / "rebuilt" / "compare" / "compare.csv").exists()


def test_the_pace_benchmark_times_the_grids_own_recipe():
    script = (ROOT / "tools" / "paper-grid.sh").read_text()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from paper_grid_pace import RECIPE

    assert f"RECIPE=({' '.join(RECIPE)})" in script


def test_the_state_says_complete_only_when_every_configuration_has_the_target_seeds(
    grid_cv, tmp_path
):
    """The status line is counted from the kept runs: two whole seeds are complete against a
    target of 2 and in progress against 3; a seed short of one run is not whole."""
    import shutil

    from adaptor_score.manifest import write_manifest
    from adaptor_score.tables import run_manifest

    data, test, out = grid_cv
    tool = _tool()
    from paper_state import SWEEP, TARGET_SEEDS, grid_configurations, state_markdown

    kept = tmp_path / "kept"
    tool.collect([(out, ["A.1", "A.2"])], kept, {"A.1": data, "A.2": test})

    def state(into, target, configurations=("b1", "v1")):
        scratch = Path(tempfile.mkdtemp(dir=tmp_path))
        manifest = tool.materialise(into, scratch)
        write_manifest(manifest)
        return state_markdown(run_manifest(manifest), target, configurations)

    assert state(kept, 2).startswith("**Complete**: 2 whole seeds (0, 1) of every configuration")
    assert state(kept, 3).startswith("**In progress**: 2 of the 3 seeds kept whole")
    assert "seed 0: 4 runs; seed 1: 4 runs (a whole seed: 4 runs" in state(kept, 3)
    # a configuration of the grid that the record lacks altogether is not "complete"
    assert state(kept, 2, ("b1", "v1", "v2")).startswith("**In progress**: 0 of the 2 seeds")
    short = tmp_path / "short"
    shutil.copytree(kept, short)
    next(iter(sorted((short / "runs").rglob("seed-1/fold-*.json")))).unlink()
    assert state(short, 2).startswith("**In progress**: 1 of the 2 seeds kept whole")
    script = (ROOT / "tools" / "paper-grid.sh").read_text()
    default = script.split("SEEDS=${SEEDS:-", 1)[1].split("}", 1)[0].split()
    assert len(default) == TARGET_SEEDS  # the page's target is the script's default
    sweep = script.split("SWEEP=${SWEEP:-", 1)[1].split("}", 1)[0]
    assert (ROOT / sweep).resolve() == SWEEP  # and its configurations the script's sweep
    assert len(grid_configurations()) == 13


def test_the_page_shows_what_the_kept_runs_give(tmp_path):
    """docs/tables.md's tables, rebuilt from the committed runs: the page may show nothing else,
    and the copies kept beside the runs are the same."""
    tool = _tool()
    tool.tables(tool.INTO, tmp_path, "baseline-g1")
    page = tool.DOC.read_text(encoding="utf-8")
    sections = ("state", "beside", "claims", "reading", "tables")
    assert set(sections) == set(tool.DOC_SECTIONS)
    for name in sections:
        rebuilt = (tmp_path / tool.DOC_SECTIONS[name]).read_text(encoding="utf-8")
        assert tool.doc_section(page, name) == rebuilt, f"docs/tables.md's {name} section"
        assert (tool.INTO / Path(tool.DOC_SECTIONS[name]).name).read_text(
            encoding="utf-8"
        ) == rebuilt
    figure = (tmp_path / "tables" / "close_points.svg").read_bytes()
    assert (tool.DOC.parent / tool.DOC_FIGURE).read_bytes() == figure  # the page's figure
    assert tool.DOC_FIGURE in page
    assert (tool.INTO / "runs").is_dir() and any((tool.INTO / "runs").rglob("*.json"))


def test_the_papers_table_1_is_quoted_from_its_text():
    import re

    import pytest

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from paper_beside import PAPER_TABLE1

    paper = ROOT.parent / "shared" / "reference" / "paper-point-detection-sutures.txt"
    if not paper.exists():
        pytest.skip("the paper's text is not beside this checkout")
    text = paper.read_text(encoding="utf-8")
    for (dataset, experiment), values in PAPER_TABLE1.items():
        for mean, sd in values:
            pattern = rf"{re.escape(f'{mean:.4f}')} \\pm {re.escape(f'{sd:.2f}')}\d*"
            assert re.search(pattern, text), (dataset, experiment, mean, sd)


def test_an_unreadable_run_leaves_its_seed_out_and_names_the_file(grid_cv, tmp_path):
    """One broken prediction file of seed 1: seed 0 is kept whole, seed 1 not at all, and the
    problem names the file; the cv folder itself is left as it was."""
    import shutil

    data, test, out = grid_cv
    cv = tmp_path / "cv"
    shutil.copytree(out, cv)
    broken = sorted(cv.glob("*/seed-1/fold-*/val_predictions/**/*.json"))[0]
    broken.write_text('{"points": [')
    problems: list[str] = []
    kept = tmp_path / "kept"
    n = _tool().collect([(cv, ["A.1", "A.2"])], kept, {"A.1": data, "A.2": test},
                        problems=problems)  # fmt: skip
    assert n == 2 * 2  # experiments x folds of seed 0
    assert {p.parent.name for p in (kept / "runs").rglob("fold-*.json")} == {"seed-0"}
    assert len(problems) == 1 and str(broken) in problems[0] and "seed 1" in problems[0]
    assert broken.read_text() == '{"points": ['


def _small_record(tmp_path) -> Path:
    """The committed record's labels and one configuration's runs, copied."""
    import shutil

    tool = _tool()
    kept = tmp_path / "kept"
    shutil.copytree(tool.INTO / "labels", kept / "labels")
    shutil.copytree(tool.INTO / "folds", kept / "folds")
    for d in ("A.1", "B.1"):
        shutil.copytree(tool.INTO / "runs" / d / "baseline-g1", kept / "runs" / d / "baseline-g1")
    return kept


def _first_run(kept: Path) -> Path:
    return sorted((kept / "runs").rglob("fold-*.json"))[0]


def _edit(path: Path, change) -> None:
    import json

    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("escape", "not a plain name"),
        ("truncated", "not JSON"),
        ("moved", "lies elsewhere than its content says"),
        ("nan", "finite numbers"),
        ("label-escape", "not a plain name"),
        ("no-seed", "not a whole number"),
    ],
)
def test_a_hostile_kept_record_stops_the_tables_naming_the_file(tmp_path, case, problem):
    """A kept file that would write outside the scratch folder, cannot be read, lies where
    another run belongs or holds a non-number stops ``tables`` with its name: a run left out
    would change the tables silently. Nothing is written outside the scratch folder."""
    kept = _small_record(tmp_path)
    run = _first_run(kept)
    target = run
    if case == "escape":
        _edit(run, lambda d: d["val"].update({"../../../escaped.json": [[1.0, 2.0]]}))
    elif case == "truncated":
        run.write_text(run.read_text()[:100])
    elif case == "moved":
        _edit(run, lambda d: d.update(fold="20211299_op09"))
    elif case == "nan":
        _edit(run, lambda d: d["val"].update({next(iter(d["val"])): [[float("nan"), 1.0]]}))
    elif case == "label-escape":
        target = kept / "labels" / "A.1.json"
        _edit(target, lambda d: d["frames"].update({"../x/000001": [[1.0, 1.0]]}))
    elif case == "no-seed":
        _edit(run, lambda d: d.update(seed="0; rm"))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(_tool().GridFileError, match=problem) as e:
        _tool().materialise(kept, scratch)
    assert e.value.path == target
    assert not list(tmp_path.rglob("escaped.json")) and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("run", "a kept run is an object"),
        ("folds-empty", "line 2: missing a value"),
        ("folds-escape", "line 2: "),
    ],
)
def test_the_tables_command_says_which_file_and_exits_2(tmp_path, case, problem):
    """A kept run or a kept folds file that cannot be used: ``tables`` names it and exits 2, no
    traceback (the folds file is read by adaptor_score's own fold reader)."""
    import subprocess
    import sys

    kept = _small_record(tmp_path)
    bad = _first_run(kept)
    if case == "run":
        bad.write_text("[]")
    else:
        bad = kept / "folds" / "A.1.csv"
        first = bad.read_text().splitlines()[1].rsplit(",", 1)[0]
        fold = "" if case == "folds-empty" else "../elsewhere"
        bad.write_text(f"folder,video,frame,fold\n{first},{fold}\n")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "paper_grid.py"), "tables",
                        "--into", str(kept), "--out", str(tmp_path / "out")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and f"error: {bad}: {problem}" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr

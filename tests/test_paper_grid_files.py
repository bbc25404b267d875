"""The paper grid's kept runs (benchmarks/paper_grid.py): the tables rebuilt from the small files,
without training, equal the tables `cv` wrote from its run folders, cell for cell."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.synth import generate_dataset

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts' own folder, as when run
    spec = importlib.util.spec_from_file_location("paper_grid", ROOT / "benchmarks" / "paper_grid.py")
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


def test_tables_rebuilt_from_the_kept_files_equal_the_tables_of_the_run(tmp_path):
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
    tool = _tool()
    kept = tmp_path / "kept"
    n = tool.collect([(out, ["A.1", "A.2"])], kept, {"A.1": data, "A.2": test})
    assert n == 2 * 2 * 2  # experiments x folds x seeds
    assert sum(f.stat().st_size for f in kept.rglob("*") if f.is_file()) < 2_000_000
    tool.tables(kept, tmp_path / "rebuilt", "b1")
    assert _rows(tmp_path / "rebuilt" / "tables" / "results.csv") == _rows(out / "tables" / "results.csv")
    assert (tmp_path / "rebuilt" / "compare" / "compare.csv").exists()


def test_the_pace_benchmark_times_the_grids_own_recipe():
    script = (ROOT / "tools" / "paper-grid.sh").read_text()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from paper_grid_pace import RECIPE

    assert f"RECIPE=({' '.join(RECIPE)})" in script


def test_the_page_shows_what_the_kept_runs_give(tmp_path):
    """docs/tables.md's tables, rebuilt from the committed runs: the page may show nothing else,
    and the copies kept beside the runs are the same."""
    tool = _tool()
    tool.tables(tool.INTO, tmp_path, "baseline-g1")
    page = tool.DOC.read_text(encoding="utf-8")
    sections = ("beside", "claims", "reading", "tables")
    assert set(sections) == set(tool.DOC_SECTIONS)
    for name in sections:
        rebuilt = (tmp_path / tool.DOC_SECTIONS[name]).read_text(encoding="utf-8")
        assert tool.doc_section(page, name) == rebuilt, f"docs/tables.md's {name} section"
        assert (tool.INTO / Path(tool.DOC_SECTIONS[name]).name).read_text(encoding="utf-8") == rebuilt
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

"""Every results file names the commit its figures were measured at, and docs/benchmarks.md's
provenance table is the one benchmarks/provenance.py builds from the files."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import provenance  # noqa: E402


def test_every_results_file_names_its_commit_and_date():
    files = provenance.result_files()
    assert len(files) >= 20
    for path in files:
        doc = json.loads(path.read_text())
        assert isinstance(doc, dict), f"{path.name}: a results file is an object (commit inside)"
        assert re.fullmatch(r"[0-9a-f]{7,40}", doc.get("commit", "")), f"{path.name}: no commit"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc.get("measured") or doc.get("when"))), \
            f"{path.name}: no date"  # fmt: skip


def test_the_docs_table_is_rebuilt_from_the_files():
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    shown = page.split("<!-- provenance -->\n", 1)[1].split("<!-- /provenance -->", 1)[0]
    assert shown == provenance.table(), "run: python benchmarks/provenance.py doc"


def test_a_benchmark_stamps_what_it_writes():
    from machine_info import stamped

    doc = stamped({"rows": [1]})
    assert doc["rows"] == [1] and re.fullmatch(r"[0-9a-f]{7,40}|unknown", doc["commit"])
    assert stamped({"commit": "abc1234"})["commit"] == "abc1234"  # a given commit is kept


def test_code_measured_before_its_commit_is_said_so(tmp_path, monkeypatch):
    """A benchmark run on a tree with changed code names the commit and the changed files; the
    results file and the docs changing with it do not count."""
    import subprocess

    import machine_info

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for rel in ("pkg/code.py", "benchmarks/results/x.json", "docs/page.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    monkeypatch.setattr(machine_info, "__file__", str(tmp_path / "benchmarks" / "machine_info.py"))
    assert "uncommitted" not in machine_info.stamped({})
    for rel in ("benchmarks/results/x.json", "docs/page.md"):
        (tmp_path / rel).write_text("2\n")
    assert "uncommitted" not in machine_info.stamped({})
    (tmp_path / "pkg" / "code.py").write_text("2\n")
    assert machine_info.stamped({})["uncommitted"] == ["pkg/code.py"]

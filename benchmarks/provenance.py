"""Where each results file comes from: the commit its figures were measured at, the date and the
machine, for every file under ``benchmarks/results/`` (the paper grid's runs excepted: each of
those carries its own commit).

Every benchmark writes ``commit`` and ``measured`` itself (``machine_info.write_results``). Files
measured before that was so got their commit from git once (``backfill``): the commit that last
wrote the file, marked ``"commit_from": "git"``; its figures come from that commit's tree or its
parent's, since a results file is committed with, or right after, the code it measured.

    python benchmarks/provenance.py backfill   # once: add the commit from git where missing
    python benchmarks/provenance.py table      # the Markdown table docs/benchmarks.md holds
    python benchmarks/provenance.py doc        # write that table into docs/benchmarks.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from adaptor_score import atomic

RESULTS = Path(__file__).resolve().parent / "results"
GIT_NOTE = "git"


def result_files() -> list[Path]:
    return sorted(RESULTS.glob("*.json"))


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                          cwd=RESULTS).stdout.strip()  # fmt: skip


def backfill() -> list[str]:
    """Add ``commit`` (and ``measured``, the commit's date) from git to every results file that
    lacks it; returns the files changed. The figures are not touched."""
    changed = []
    for path in result_files():
        doc = json.loads(path.read_text())
        if doc.get("commit"):
            continue
        commit, day = _git("log", "-1", "--format=%h %as", "--", path.name).split()
        doc = {**doc, "commit": commit, "commit_from": GIT_NOTE,
               "measured": doc.get("measured") or doc.get("when") or day}  # fmt: skip
        atomic.write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        changed.append(path.name)
    return changed


def _machine(doc: dict) -> str:
    m = doc.get("cpu") or doc.get("machine") or "—"
    if isinstance(m, dict):
        m = m.get("cpu") or ", ".join(f"{k} {v}" for k, v in m.items())
    return str(m).replace("|", "/")


def table() -> str:
    rows = ["| results file | measured | commit | machine |", "| --- | --- | --- | --- |"]
    for path in result_files():
        doc = json.loads(path.read_text())
        commit = doc.get("commit", "—") + (" (from git)" if doc.get("commit_from") == GIT_NOTE else "")
        if doc.get("uncommitted"):  # measured on that commit plus changes committed after it
            commit += f" + {len(doc['uncommitted'])} changed file(s)"
        rows.append(f"| `{path.name}` | {doc.get('measured') or doc.get('when', '—')} | {commit} |"
                    f" {_machine(doc)} |")  # fmt: skip
    return "\n".join(rows) + "\n"


DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_doc() -> None:
    """Put :func:`table` between docs/benchmarks.md's provenance markers."""
    page = DOC.read_text(encoding="utf-8")
    head, rest = page.split("<!-- provenance -->\n", 1)
    tail = rest.split("<!-- /provenance -->", 1)[1]
    atomic.write_text(DOC, f"{head}<!-- provenance -->\n{table()}<!-- /provenance -->{tail}")


if __name__ == "__main__":
    if sys.argv[1:] == ["backfill"]:
        print("\n".join(backfill()) or "every file has its commit")
    elif sys.argv[1:] == ["table"]:
        print(table(), end="")
    elif sys.argv[1:] == ["doc"]:
        write_doc()
    else:
        sys.exit(__doc__)

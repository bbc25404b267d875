"""What every benchmark writes beside its numbers: the machine, the commit, the file written whole.

Imported by the benchmark scripts (run as ``python benchmarks/NAME.py``, so this folder is on the
path); no torch here, so that the scoring and leaderboard benchmarks need none.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what the platform says."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return model


def git_commit() -> str:
    """The short commit the measured code is at ("unknown" outside a clone)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def uncommitted() -> list[str]:
    """Tracked files that differ from the commit, results and docs aside: the code measured is
    then the commit plus these changes (they belong in the commit that carries the results)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True, check=True,
                             cwd=Path(__file__).parent).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return []
    paths = [line[3:].split(" -> ")[-1] for line in out.splitlines() if len(line) > 3]
    return sorted(p for p in paths
                  if not p.startswith(("benchmarks/results/", "docs/")) and not p.endswith(".md"))  # fmt: skip


def stamped(doc: dict) -> dict:
    """``doc`` with the commit the measured code is at and the date (kept if already there), and
    the code files changed since that commit when the tree was not clean."""
    if doc.get("commit"):
        return {**doc, "measured": doc.get("measured") or time.strftime("%Y-%m-%d")}
    changed = uncommitted()
    return {**doc, "commit": git_commit(), "measured": time.strftime("%Y-%m-%d"),
            **({"uncommitted": changed} if changed else {})}  # fmt: skip


def write_results(path: Path, doc: dict) -> None:
    """``doc`` :func:`stamped`, as strict JSON, written complete or not at all: the one way every
    benchmark writes its results file."""
    from adaptor_score.outputs import write_json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_json(path, stamped(doc))
    print(f"wrote {path}")


def cores() -> int | None:
    return os.cpu_count()

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


def stamped(doc: dict) -> dict:
    """``doc`` with the commit the measured code is at and the date (kept if already there)."""
    return {**doc, "commit": doc.get("commit") or git_commit(),
            "measured": doc.get("measured") or time.strftime("%Y-%m-%d")}  # fmt: skip


def write_results(path: Path, doc: dict) -> None:
    """``doc`` :func:`stamped`, as strict JSON, written complete or not at all: the one way every
    benchmark writes its results file."""
    from adaptor_score.outputs import write_json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_json(path, stamped(doc))
    print(f"wrote {path}")


def cores() -> int | None:
    return os.cpu_count()

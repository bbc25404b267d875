"""Run the documentation's bash blocks as written, so that a documented command cannot fail for
the next user unnoticed.

Every ```bash block of README.md, docs/*.md, submission_template/README.md and docker/README.md
carries a marker on the line before it:

    <!-- doc-block: fast -->            run by `make test` (tests/test_doc_blocks.py)
    <!-- doc-block: slow -->            run by .ci/run (a container engine, minutes)
    <!-- doc-block: skip REASON -->     not run, and why (placeholders, a cluster, the network)

Runnable blocks of one page run in order, in one scratch folder per page: a copy of the
repository's tracked files (submission_template/README.md's blocks run inside the copy's
submission_template/, as its reader would), with the environment's bin folder first on PATH.
`docker` means the engine in ``$ENGINE`` (``make test-doc-blocks`` sets it from
tools/container-engine.sh), else podman where Docker's command is missing.

    python tools/doc_blocks.py --check            # every block marked, every skip with a reason
    python tools/doc_blocks.py --run fast|slow    # exit 1 naming each failing block
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")),
         "submission_template/README.md", "docker/README.md"]  # fmt: skip
MARKER = re.compile(r"<!--\s*doc-block:\s*(fast|slow|skip)\b\s*(.*?)\s*-->")
WORKDIR = {"submission_template/README.md": "submission_template"}


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    kind: str | None  # fast, slow, skip; None: unmarked
    reason: str
    body: str


def blocks(page: str) -> list[Block]:
    text = (ROOT / page).read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```bash\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, m.start()) + 1
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        out.append(Block(page, line, marker[1] if marker else None,
                         marker[2] if marker else "", m[1]))  # fmt: skip
    return out


def check() -> list[str]:
    problems = []
    for page in PAGES:
        for b in blocks(page):
            if b.kind is None:
                problems.append(f"{page}:{b.line}: a bash block without <!-- doc-block: ... -->")
            elif b.kind == "skip" and not b.reason:
                problems.append(f"{page}:{b.line}: doc-block skip without a reason")
    return problems


def _scratch(tmp: Path) -> Path:
    """A copy of the repository's tracked files (what a fresh clone holds)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    copy = tmp / "repo"
    for name in files.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def _preamble() -> str:
    """Strict bash; ``docker`` is the engine named by ``$ENGINE`` (tools/container-engine.sh
    prints it), else podman where Docker's command is missing."""
    lines = ["set -euo pipefail"]
    engine = os.environ.get("ENGINE") or ("podman" if shutil.which("docker") is None else "")
    if engine and engine != "docker":
        lines.append(f'docker() {{ {engine} "$@"; }}')
    return "\n".join(lines) + "\n"


def run(kind: str) -> list[str]:
    failures = []
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for page in PAGES:
        todo = [b for b in blocks(page) if b.kind == kind]
        if not todo:
            continue
        with tempfile.TemporaryDirectory(prefix="doc-blocks-") as d:
            cwd = _scratch(Path(d)) / WORKDIR.get(page, "")
            for b in todo:
                p = subprocess.run(["bash", "-c", _preamble() + b.body], cwd=cwd, env=env,
                                   capture_output=True, text=True)  # fmt: skip
                status = "ok" if p.returncode == 0 else f"FAILED (exit {p.returncode})"
                print(f"{page}:{b.line}: {status}", flush=True)
                if p.returncode != 0:
                    failures.append(f"{page}:{b.line}: exit {p.returncode}\n"
                                    f"{(p.stdout + p.stderr)[-2000:]}")  # fmt: skip
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--run", choices=["fast", "slow"])
    args = ap.parse_args()
    problems = check() if args.check or args.run else []
    if args.run and not problems:
        problems = run(args.run)
    print("\n".join(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

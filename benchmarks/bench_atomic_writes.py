"""What writing every file complete-or-absent costs: one prediction JSON per frame, as `predict`,
`perturb` and the template write them, plainly (open, write) and through adaptor_score.atomic
(temporary file, fsync, rename, fsync of the folder). Prints a table and writes
benchmarks/results/atomic-writes.json.

    python benchmarks/bench_atomic_writes.py [--files 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from machine_info import write_results

from adaptor_score import atomic
from adaptor_score.submission import prediction_document

RESULTS = Path(__file__).resolve().parent / "results" / "atomic-writes.json"


def _docs(n: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        pts = rng.uniform(0, 512, (12, 2))
        doc = prediction_document("aicm1", f"VID{i // 100:03d}_0", f"{i % 100:06d}.png", pts)
        out.append((f"VID{i // 100:03d}_0/{i % 100:06d}.json", json.dumps(doc)))
    return out


def _plain(root: Path, docs) -> None:
    for rel, text in docs:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _atomic(root: Path, docs) -> None:
    for rel, text in docs:
        atomic.write_text(root / rel, text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    docs = _docs(args.files)
    times: dict[str, list[float]] = {"plain": [], "atomic": []}
    for _ in range(args.repeats):
        for name, fn in (("plain", _plain), ("atomic", _atomic)):  # paired, alternating
            root = Path(tempfile.mkdtemp(dir=RESULTS.parent))
            t0 = time.perf_counter()
            fn(root, docs)
            times[name].append(time.perf_counter() - t0)
            shutil.rmtree(root)
    med = {k: float(np.median(v)) for k, v in times.items()}
    per_file_ms = {k: 1000 * v / args.files for k, v in med.items()}
    print(
        f"{'writer':<8} {'median s':>9} {'ms/file':>8}   ({args.files} files, {args.repeats} runs)"
    )
    for k in ("plain", "atomic"):
        print(f"{k:<8} {med[k]:>9.3f} {per_file_ms[k]:>8.3f}")
    print(f"atomic costs {per_file_ms['atomic'] - per_file_ms['plain']:.3f} ms more per file")
    write_results(
        RESULTS,
        {
            "what": "one prediction JSON per frame: plain write vs adaptor_score.atomic",
            "files": args.files,
            "repeats": args.repeats,
            "seconds": times,
            "median_seconds": med,
            "ms_per_file": per_file_ms,
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
            "file_system": "the folder of benchmarks/results (temporary sub-folders)",
        },
    )


if __name__ == "__main__":
    main()

"""Peak memory of scoring a point flood: a prediction file at the size limit (16 MiB).

Each case runs ``adaptor_score.score`` in a fresh process on one frame with 30 labels and reports
the peak resident memory (``ru_maxrss``) above a process that scores a small file, next to the
file's size. The cases are the three ways such a file can be read: the fast typed decoder (the
file is refused for its point count), the standard-library path for a file the fast decoder
refuses (a broken point at the end), and a file just under the point cap (decoded and matched).

    python benchmarks/bench_point_flood.py        # prints a table, writes results/point-flood.json
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_info import write_results

RESULTS = Path(__file__).parent / "results" / "point-flood.json"
LIMIT = 16 * 1024 * 1024

CHILD = """
import json, resource, sys, time
from adaptor_score.scoring import score
t0 = time.perf_counter()
report = score(sys.argv[1], sys.argv[2], (6.0, 8.0, 10.0))
seconds = time.perf_counter() - t0
s = report.overall()[0]
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "seconds": seconds,
                  "tp": s.tp, "fp": s.fp, "fn": s.fn, "problems": [p.problem[:90] for p in report.problems]}))
"""


def points_file(path: Path, n: int, broken_tail: bool = False, fmt: str = "challenge") -> None:
    if fmt == "challenge":
        item = '{"x": 123.25, "y": 45.5}'
    else:
        item = '{"point": [123.25, 45.5, 0]}'
    body = ",".join([item] * n)
    if broken_tail:
        body += ',{"x": "oops", "y": 1}'
    path.write_text(
        '{"folderName": "s", "subfolderName": "v", "imageFileName": "000000.png", "points": ['
        + body
        + "]}"
    )


def run(gt: Path, pred: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(gt), str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="flood-"))
    gt = work / "gt"
    labels = gt / "s" / "v" / "point_labels"
    labels.mkdir(parents=True)
    (labels / "000000.json").write_text(
        json.dumps({"points": [{"x": 10.0 + 15 * i, "y": 40.0 + (i % 5) * 30} for i in range(30)]})
    )
    per_point = len('{"x": 123.25, "y": 45.5},')
    flood = (LIMIT - 200) // per_point
    cases = {
        "small file (reference)": dict(n=10),
        f"flood: {flood:,} points, refused by count (fast path)": dict(n=flood),
        f"flood: {flood:,} points + a broken one (fallback path)": dict(n=flood, broken_tail=True),
        "flood, Grand-Challenge format (fallback path)": dict(
            n=(LIMIT - 200) // len('{"point": [123.25, 45.5, 0]},'), fmt="grand-challenge"
        ),
        "10,000 points (the cap), decoded and matched": dict(n=10_000),
    }
    rows = []
    base = None
    for name, kw in cases.items():
        pred = work / name.split(":")[0].replace(" ", "_").replace(",", "")
        (pred / "s" / "v").mkdir(parents=True, exist_ok=True)
        f = pred / "s" / "v" / "000000.json"
        points_file(f, **kw)
        size = f.stat().st_size
        best = min((run(gt, pred) for _ in range(2)), key=lambda r: r["peak_kib"])
        peak = best["peak_kib"] * 1024
        base = peak if base is None else base
        rows.append(
            {
                "case": name,
                "file_bytes": size,
                "peak_rss_bytes": peak,
                "above_reference_bytes": peak - base,
                "above_reference_per_file_byte": round((peak - base) / size, 2)
                if size > 1e6
                else None,
                "seconds": round(best["seconds"], 3),
                "tp_fp_fn": [best["tp"], best["fp"], best["fn"]],
                "problem": best["problems"][0] if best["problems"] else "",
            }
        )
    print(f"{'case':58} {'file MiB':>9} {'peak MiB':>9} {'+MiB':>7} {'x file':>7} {'s':>6}")
    for r in rows:
        ratio = (
            ""
            if r["above_reference_per_file_byte"] is None
            else f"{r['above_reference_per_file_byte']:.2f}"
        )
        print(
            f"{r['case'][:58]:58} {r['file_bytes'] / 2**20:9.2f} {r['peak_rss_bytes'] / 2**20:9.1f}"
            f" {r['above_reference_bytes'] / 2**20:7.1f} {ratio:>7} {r['seconds']:6.2f}"
        )
    write_results(RESULTS, {"when": time.strftime("%Y-%m-%d"),
                            "machine": f"{platform.machine()}, {platform.python_version()}",
                            "limit_bytes": LIMIT, "rows": rows})  # fmt: skip


if __name__ == "__main__":
    main()

"""How often a uniform training crop holds no label, on the demo's training data.

``batches.random_crops`` places a uniform ``128 x 128`` window (every top-left corner equally
likely) unless foreground oversampling places it around a label; a label is inside when
``x0 <= x <= x0 + 127`` and ``y0 <= y <= y0 + 127`` (its rule). This counts, exactly, over every
corner of every training frame of ``recipes.DEMO_DATA`` (generated here, sim and intraop), the
share of windows with no label, as the demo's loss meets them.

    python benchmarks/bench_empty_crops.py     # prints a table, writes results/empty-crops.json
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from machine_info import cpu_model, write_results

from adaptor_baseline.recipes import DEMO_DATA, generate_demo_data
from adaptor_score.groundtruth import load_ground_truth

RESULTS = Path(__file__).parent / "results" / "empty-crops.json"
CROP = 128
W, H = 512, 288


def empty_share(points: np.ndarray, crop: int = CROP, w: int = W, h: int = H) -> float:
    """The share of the ``(w - crop + 1) (h - crop + 1)`` window corners whose window holds none
    of ``points`` ``(N, 2)``.

    >>> empty_share(np.zeros((0, 2)))
    1.0
    """
    nx, ny = w - crop + 1, h - crop + 1
    covered = np.zeros((ny, nx), dtype=bool)
    for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2):
        # corners x0 with x0 <= x <= x0 + crop - 1, clipped to the frame
        x_lo, x_hi = int(np.ceil(x - (crop - 1))), int(np.floor(x))
        y_lo, y_hi = int(np.ceil(y - (crop - 1))), int(np.floor(y))
        x_lo, y_lo = max(x_lo, 0), max(y_lo, 0)
        x_hi, y_hi = min(x_hi, nx - 1), min(y_hi, ny - 1)
        if x_lo <= x_hi and y_lo <= y_hi:
            covered[y_lo : y_hi + 1, x_lo : x_hi + 1] = True
    return float(1.0 - covered.mean())


def main() -> None:
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for domain in ("sim", "intraop"):
            root = generate_demo_data(Path(tmp) / domain, domain)
            gt = load_ground_truth(root / "train")
            shares = [empty_share(gt.points[k]) for k in sorted(gt.points)]
            rows[domain] = {"frames": len(shares), "empty_share": float(np.mean(shares))}
            print(f"{domain}: {len(shares)} training frames, uniform {CROP} x {CROP} windows with"
                  f" no label: {100 * rows[domain]['empty_share']:.1f} %")  # fmt: skip
    write_results(RESULTS, {"what": __doc__.split("\n\n")[0], "crop": CROP,
                            "data": DEMO_DATA["train"], "domains": rows,
                            "machine": {"cpu": cpu_model()}})  # fmt: skip


if __name__ == "__main__":
    main()

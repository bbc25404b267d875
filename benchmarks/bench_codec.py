"""The codec's measured figures (``baseline/adaptor_baseline/codec.py``, docs/baseline.md): the
decoding error of a cut-off target peak, with the centre of mass weighted by the raw value (the
authors') and by the value above the threshold (ours), over 200 random sub-pixel positions per
sigma; and the Tanh and Gaussian profiles at a few distances. Pure numpy: the same on any machine
to the printed digits. Writes ``benchmarks/results/codec.json``.

    python benchmarks/bench_codec.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from machine_info import write_results
from scipy import ndimage

from adaptor_baseline.codec import decode_heatmaps, render_heatmap

RESULTS = Path(__file__).resolve().parent / "results"


def raw_weighted(hm: np.ndarray, threshold: float) -> np.ndarray:
    """Centres of mass weighted by the raw value (the authors' decoding)."""
    labels, n = ndimage.label(hm > threshold, structure=np.ones((3, 3)))
    com = ndimage.center_of_mass(hm, labels, range(1, n + 1))
    return np.array([[x, y] for y, x in com]).reshape(-1, 2)


def decoding_error(sigma: float, n: int = 200, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for _ in range(n):
        p = np.array([[20.0, 20.0]]) + rng.uniform(-0.5, 0.5, size=(1, 2))
        hm = render_heatmap(p, (40, 40), "gaussian", sigma=sigma)
        ours.append(np.linalg.norm(decode_heatmaps(hm)[0][0] - p[0]))
        theirs.append(np.linalg.norm(raw_weighted(hm, 0.5)[0] - p[0]))
    return {"sigma1": sigma, "positions": n, "mean_error_px_raw_weight": round(float(np.mean(theirs)), 3),
            "mean_error_px_excess_weight": round(float(np.mean(ours)), 3)}  # fmt: skip


def profiles() -> dict:
    out = {}
    for d in (1.0, 1.96, 3.0):
        out[f"{d:g}"] = {
            "tanh_alpha7": round(1 - math.tanh(math.pi * d / 7), 4),
            "gaussian_sigma2": round(math.exp(-(d**2) / 8), 4),
        }
    out["tanh_alpha7_half_px"] = round(math.atanh(0.5) * 7 / math.pi, 3)
    for sigma in (1.0, 2.0):  # the authors' 3 x 3 Gaussian layer: its corner weight
        g = np.exp(-(np.arange(-1, 2) ** 2) / (2 * sigma**2))
        k = np.outer(g, g) / np.outer(g, g).sum()
        out[f"gaussian_3x3_sigma{sigma:g}_corner"] = round(float(k[0, 0]), 4)
    out["box_3x3"] = round(1 / 9, 4)
    return out


def main() -> None:
    doc = {
        "what": "decoding error of Gaussian targets (threshold 0.5) and target profiles",
        "decoding": [decoding_error(s) for s in (1.0, 2.0, 3.0, 4.0)],
        "profiles": profiles(),
        "machine": "pure numpy/scipy arithmetic: not machine-dependent at these digits",
    }
    print(f"{'sigma1':>6} {'raw weight px':>14} {'excess weight px':>17}")
    for r in doc["decoding"]:
        print(
            f"{r['sigma1']:>6g} {r['mean_error_px_raw_weight']:>14.3f} {r['mean_error_px_excess_weight']:>17.3f}"
        )
    print(doc["profiles"])
    write_results(RESULTS / "codec.json", doc)


if __name__ == "__main__":
    main()

"""What the convolutional soft-argmax value layer does at each temperature, on sigmoid-range maps.

For each temperature: how far its output is from a 3x3 mean filter and from 3x3 max pooling (mean
absolute difference relative to the input's), and whether two Gaussian peaks 6 px apart stay two
(the valley between them, relative to the peaks). Compared with the 'suppress' mode.
Writes benchmarks/results/soft_argmax_temperature.json and prints a table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from machine_info import write_results

from adaptor_baseline.codec import render_heatmap
from adaptor_baseline.model.layers import conv_soft_argmax_map, gaussian_layer


def maps() -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(0)
    pts = rng.uniform(10, [502, 278], (25, 2))
    heat = render_heatmap(pts, (512, 288), sigma=2.0, combine="max")
    blurred = gaussian_layer(torch.from_numpy(heat)[None, None], 1.0)
    noisy = torch.from_numpy(
        np.clip(heat + rng.normal(0, 0.05, heat.shape), 0, 1).astype(np.float32)
    )
    return {
        "heatmap (sigma 2) after Gaussian layer": blurred / blurred.max(),
        "heatmap + noise": noisy[None, None],
    }


def valley_ratio(out: torch.Tensor) -> float:
    row = out[0, 0, 20]
    peaks = float(row[17]), float(row[23])
    return float(row[20]) / max(min(peaks), 1e-9)


def main() -> None:
    pair = torch.from_numpy(
        render_heatmap(np.array([[17.0, 20.0], [23.0, 20.0]]), (40, 40), sigma=1.5, combine="max")
    )[None, None]
    rows = []
    for name, x in maps().items():
        mean = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        maxp = F.max_pool2d(x, 3, 1, 1)
        scale = float((x - mean).abs().mean())
        for mode, temps in (("value", (1.0, 0.5, 0.1, 0.05, 0.01)), ("suppress", (0.1, 0.05))):
            for t in temps:
                y = conv_soft_argmax_map(x, t, mode)
                rows.append(
                    {
                        "map": name,
                        "mode": mode,
                        "temperature": t,
                        "dist_to_mean3x3": float((y - mean).abs().mean()) / scale,
                        "dist_to_maxpool3x3": float((y - maxp).abs().mean()) / scale,
                        "dist_to_input": float((y - x).abs().mean()) / scale,
                        "pair_valley_over_peak": valley_ratio(conv_soft_argmax_map(pair, t, mode)),
                    }
                )
    out = Path(__file__).parent / "results" / "soft_argmax_temperature.json"
    out.parent.mkdir(exist_ok=True)
    write_results(out, {"rows": rows})
    print(
        f"{'map':<40}{'mode':<10}{'T':>6}{'~mean3x3':>10}{'~maxpool':>10}{'~input':>9}{'valley/peak':>13}"
    )
    for r in rows:
        print(
            f"{r['map']:<40}{r['mode']:<10}{r['temperature']:>6}{r['dist_to_mean3x3']:>10.3f}"
            f"{r['dist_to_maxpool3x3']:>10.3f}{r['dist_to_input']:>9.3f}{r['pair_valley_over_peak']:>13.3f}"
        )
    print("distances: mean |output - reference| over mean |input - mean3x3| (0 = identical to it).")
    print(f"input pair valley/peak: {valley_ratio(pair):.3f}; wrote {out}")


if __name__ == "__main__":
    main()

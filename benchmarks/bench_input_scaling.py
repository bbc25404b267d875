"""Whether raw [0, 1] input and the centred ``(x - 0.5) / 0.25`` are interchangeable for the
authors' U-Net: the same weights (a seeded initialisation, and the demo's trained weights when a
run folder is given) applied to the same frames both ways, and the Pearson correlation of the
two outputs. Batch norm follows the first convolution's ReLU, so it cannot undo a change of
input scale (docs/baseline.md, the fidelity table). Writes
``benchmarks/results/input-scaling.json``.

    python benchmarks/bench_input_scaling.py [RUN_FOLDER] [IMAGES]
"""

from __future__ import annotations

import platform
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from machine_info import write_results

from adaptor_baseline.config import preset
from adaptor_baseline.data.layout import index_dataset, load_image
from adaptor_baseline.model.detector import SutureDetector
from adaptor_baseline.predict import load_model
from adaptor_baseline.synth import generate_dataset

RESULTS = Path(__file__).resolve().parent / "results"


def correlation(model: SutureDetector, images: torch.Tensor) -> float:
    model.eval()
    outs = []
    with torch.no_grad():
        for scaling in ("centred", "raw"):
            model.cfg = replace(model.cfg, input_scaling=scaling)
            outs.append(model(images)["stage0"].flatten().numpy())
    return float(np.corrcoef(outs[0], outs[1])[0, 1])


def main() -> None:
    tmp = Path("/tmp/adaptor-input-scaling")
    if not (tmp / "synth.json").exists():
        generate_dataset(tmp, "sim", 1, 1, 4, seed=0)
    images_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else tmp
    recs = index_dataset(images_dir)[:4]
    images = (
        torch.stack(
            [torch.from_numpy(np.array(load_image(r.image))).permute(2, 0, 1) for r in recs]
        ).float()
        / 255
    )
    torch.manual_seed(0)
    rows = [{"weights": "seeded initialisation (variant1, width 16)",
             "correlation": round(correlation(SutureDetector(preset("variant1").model), images), 3)}]  # fmt: skip
    if len(sys.argv) > 1:
        model, _ = load_model(sys.argv[1], torch.device("cpu"))
        rows.append(
            {
                "weights": f"trained: {sys.argv[1]}",
                "correlation": round(correlation(model, images), 3),
            }
        )
    for r in rows:
        print(f"{r['weights']:55} r = {r['correlation']:.3f}")
    write_results(
        RESULTS / "input-scaling.json",
        {
            "what": "Pearson r of the U-Net output (stage 0) with centred and raw input, same weights, 4 synthetic frames",
            "rows": rows,
            "machine": platform.processor() or platform.machine(),
        },
    )


if __name__ == "__main__":
    main()

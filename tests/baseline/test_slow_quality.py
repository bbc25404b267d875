"""Slow (make test-slow): what the synthetic benchmark must show with the demo's recipe and data,
on held-out frames of another seed (docs/synthetic.md, "What the synthetic benchmark shows"): sim
stays learnable; intraop is learned but harder, in precision and recall; labels are not
pixel-exact, so F1 rises from 6 to 10 px; false positives put the RMSE in the several-pixel range.

Every seed of the recipe learns on both domains (benchmarks/results/demo-seeds.json); intraop is
still trained with up to three seeds, so that one unlucky seed on another machine reads as what
it is, and every one that learns must be harder than sim."""

import pytest
from rich.console import Console

from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.predict import predict_dir
from adaptor_baseline.recipes import DEMO_RECIPE, generate_demo_data
from adaptor_baseline.train import train
from adaptor_score.scoring import score

pytestmark = pytest.mark.slow


def _demo(tmp_path, domain, seed=0):
    data = tmp_path / domain
    if not (data / "train").exists():
        generate_demo_data(data, domain)
    cfg = with_overrides(preset("variant1"), **(DEMO_RECIPE | {"seed": seed}))
    train(cfg, data / "train", data / f"run{seed}", console=Console(quiet=True))
    predict_dir(data / f"run{seed}", data / "heldout", data / f"p{seed}")
    rows = score(data / "heldout", data / f"p{seed}", (6.0, 10.0)).overall()
    return {s.radius: s for s in rows}


def _not_exact_and_misplaced(rows):
    assert rows[10.0].f1 > rows[6.0].f1, rows
    assert rows[6.0].rmse is not None and rows[6.0].rmse > 3, rows


def test_demo_recipe_sim_learnable_intraop_harder(tmp_path):
    sim = _demo(tmp_path, "sim")
    assert sim[6.0].f1 >= 0.5, sim[6.0]
    _not_exact_and_misplaced(sim)
    learned = []
    for seed in (0, 1, 2):
        op = _demo(tmp_path, "intraop", seed)
        if op[6.0].tp + op[6.0].fp >= 10:
            learned.append(op)
            assert op[6.0].ppv < min(0.9, sim[6.0].ppv) and op[6.0].tpr < sim[6.0].tpr, (op, sim)
            _not_exact_and_misplaced(op)
    assert learned, "intraop made no predictions with any of three training seeds"

import pytest

from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.synth.perturb import perturbed_predictions


@pytest.fixture(scope="session")
def test_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    gt = root / "gt"
    generate_dataset(gt, "sim", surgeries=2, videos=1, frames=4, seed=13, workers=1)
    teams = {}
    for name, (jitter, miss, fps, seed) in {
        "good": (1, 0.05, 0.2, 1),
        "mid": (2, 0.3, 1, 2),
        "weak": (5, 0.5, 4, 3),
    }.items():
        teams[name] = root / name
        perturbed_predictions(gt, teams[name], jitter, miss, fps, seed)
    return gt, teams


def images_only(gt):
    """The test set as a container gets it: images only, beside the ground truth (made once)."""
    import shutil

    out = gt.parent / "images-only"
    if not out.exists():
        shutil.copytree(gt, out, ignore=shutil.ignore_patterns("point_labels", "*.json"))
    return out

"""The domain-transformation measures on generated pairs: identity keeps the source's consistency,
a translation that moves every pixel 20 px collapses it; Reinhard's transfer reaches the target's
colour statistics; the Fréchet distance against independent arithmetic; paired rendering."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from adaptor_baseline.cli import main
from adaptor_baseline.config import preset, with_overrides
from adaptor_baseline.model.detector import SutureDetector
from adaptor_baseline.synth.generate import read_manifest
from adaptor_baseline.synth.paired import generate_pair
from adaptor_baseline.translation import (
    consistency,
    frechet_distance,
    lab_statistics,
    measure,
    reinhard,
    rgb_to_lab,
    translate_folder,
)
from adaptor_score.groundtruth import load_ground_truth
from adaptor_score.translation import translated_pairs
from tests.evaluation.helpers import write_label

LABELS = [[(40, 30), (90, 60), (150, 100)], [(30, 100), (200, 40)], [(120, 120)]]


@pytest.fixture()
def dots(tmp_path):
    """Frames with a bright dot at each label: a detector of bright dots finds every label."""
    from adaptor_score.frames import FrameKey

    gt = tmp_path / "gt"
    for i, points in enumerate(LABELS):
        key = FrameKey("s1", "v1", f"{i:06d}")
        write_label(gt, key, points, size=(256, 160))
        img = np.full((160, 256, 3), 60, np.uint8)
        for x, y in points:
            img[y - 1 : y + 2, x - 1 : x + 2] = 250
        path = gt / "s1" / "v1" / "images" / f"{key.frame}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(path)
    return gt


def dot_detector(images):
    out = []
    for im in images:
        ys, xs = np.nonzero(im[..., 0] == 250)
        centres = {(x, y) for x, y in zip(xs, ys)
                   if (im[y - 1 : y + 2, x - 1 : x + 2, 0] == 250).all()}  # fmt: skip
        out.append(np.array(sorted(centres), dtype=float).reshape(-1, 2))
    return out


def _translate(gt, out, fn):
    from adaptor_score.translation import translation_path
    from adaptor_score.validate import find_images

    images, _ = find_images(gt)
    for p in images:
        target = translation_path(out, gt, p)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(fn(np.asarray(Image.open(p).convert("RGB")))).save(target)
    return out


def test_identity_keeps_consistency_and_a_20_px_shift_collapses_it(dots, tmp_path):
    gt = load_ground_truth(dots)
    same = _translate(dots, tmp_path / "same", lambda a: a)
    moved = _translate(dots, tmp_path / "moved", lambda a: np.roll(a, 20, axis=1))
    c_same = consistency(dot_detector, gt, translated_pairs(same, dots))
    c_moved = consistency(dot_detector, gt, translated_pairs(moved, dots))
    assert c_same["frames"] == 3 and c_same["source"]["6"]["f1"] == 1.0
    assert c_same["translated"] == c_same["source"]
    for r in ("6", "8", "10"):  # 20 px is beyond every radius: nothing is found where it was
        assert c_moved["translated"][r]["f1"] == 0.0 and c_moved["source"][r]["f1"] == 1.0


def test_frechet_distance_against_its_definition():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(400, 2)), rng.normal(2.0, 3.0, size=(400, 2))
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    from scipy.linalg import sqrtm

    want = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * sqrtm(sa @ sb).real)
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_reinhard_reaches_the_target_colour_statistics():
    rng = np.random.default_rng(2)
    source = rng.integers(60, 200, (40, 60, 3), dtype=np.uint8)
    target = np.clip(rng.normal([170, 70, 60], 15, (40, 60, 3)), 0, 255).astype(np.uint8)
    mean, std = lab_statistics([target])
    got = rgb_to_lab(reinhard(source, mean, std)).reshape(-1, 3)
    assert np.allclose(got.mean(axis=0), mean, atol=1.0)
    assert np.allclose(got.std(axis=0), std, atol=1.0)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("pair")
    generate_pair(root, "sim", surgeries=1, videos=1, frames=3, seed=6)
    return root


def test_paired_rendering_shares_names_and_labels_not_pixels(pair):
    sim, intraop = pair / "sim", pair / "intraop"
    labels = sorted(p.relative_to(sim) for p in sim.rglob("point_labels/*.json"))
    assert labels and labels == sorted(p.relative_to(intraop)
                                       for p in intraop.rglob("point_labels/*.json"))  # fmt: skip
    for rel in labels:
        assert (sim / rel).read_bytes() == (intraop / rel).read_bytes()
        image = rel.parent.parent / "images" / (rel.stem + ".png")
        a = np.asarray(Image.open(sim / image), dtype=float)
        b = np.asarray(Image.open(intraop / image), dtype=float)
        assert np.abs(a - b).mean() > 10  # another domain's look
        assert (a[..., 0] - a[..., 2]).mean() < (b[..., 0] - b[..., 2]).mean()  # redder tissue
    read_manifest(sim)
    with pytest.raises(ValueError, match="rendered as the pair of a 'sim' dataset"):
        read_manifest(intraop)


def _weights(path):
    cfg = with_overrides(preset("variant1"), **{"model.width": 4, "model.depth": 2,
                                                "input_size": (128, 72)})  # fmt: skip
    torch.manual_seed(0)
    torch.save({"model": SutureDetector(cfg.model).state_dict(), "config": cfg.to_dict()}, path)
    return path


def test_measure_end_to_end_identity_equals_source_and_the_truth_is_measured(pair, tmp_path):
    weights = _weights(tmp_path / "model.pt")
    same = tmp_path / "identity"
    assert translate_folder(pair / "sim", same, "identity") == 3
    rh = tmp_path / "reinhard"
    translate_folder(pair / "sim", rh, "reinhard", target_dir=pair / "intraop")
    doc = measure(weights, pair / "sim", {"identity": same, "reinhard": rh,
                                          "truth": pair / "intraop"}, pair / "intraop",
                  replicates=20, seed=1)  # fmt: skip
    e = doc["translations"]
    assert e["identity"]["consistency"]["translated"] == e["identity"]["consistency"]["source"]
    assert e["truth"]["realism"]["frechet"] == pytest.approx(0.0, abs=1e-6)  # the real set itself
    assert e["identity"]["realism"]["frechet"] > e["truth"]["realism"]["frechet"]
    r = e["reinhard"]["realism"]
    assert r["low"] <= r["high"] and r["replicates"] == 20 and r["images"] == 3


def test_the_cli_writes_the_measures_and_refuses_a_bad_weights_file(pair, tmp_path):
    weights = _weights(tmp_path / "model.pt")
    r = CliRunner().invoke(main, ["translate", str(pair / "sim"), str(tmp_path / "id"),
                                  "--method", "identity"])  # fmt: skip
    assert r.exit_code == 0, r.output
    args = ["translation-measures", "--source", str(pair / "sim"), "--real",
            str(pair / "intraop"), "--translated", f"identity={tmp_path / 'id'}", "--out",
            str(tmp_path / "m.json"), "--bootstrap", "10"]  # fmt: skip
    r = CliRunner().invoke(main, [*args, "--weights", str(weights)])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["domain"] == "sim" and doc["target"] == "intraop"
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    r = CliRunner().invoke(main, [*args, "--weights", str(tmp_path / "bad.pt")])
    assert r.exit_code == 2 and "bad.pt" in r.output
    r = CliRunner().invoke(main, ["translate", str(pair / "sim"), str(tmp_path / "x"),
                                  "--method", "reinhard"])  # fmt: skip
    assert r.exit_code == 2 and "--target" in r.output


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def test_a_truncated_frame_is_left_out_and_named_never_a_traceback(pair, tmp_path):
    """One broken input frame: translate writes the others and exits 1 naming it; a team's
    broken translation and a broken real frame are left out of the measures and named, and the
    other teams are still measured; an empty translation folder is measured as no images."""
    import shutil

    weights = _weights(tmp_path / "model.pt")
    src = tmp_path / "sim"
    shutil.copytree(pair / "sim", src)
    frames = sorted(p for p in src.rglob("*.png"))
    _truncate(frames[0])
    r = CliRunner().invoke(main, ["translate", str(src), str(tmp_path / "id"),
                                  "--method", "identity"])  # fmt: skip
    assert r.exit_code == 1 and frames[0].name in r.output and "Traceback" not in r.output
    assert "wrote 2 identity translations" in r.output
    good = tmp_path / "good"
    translate_folder(pair / "sim", good, "identity")
    broken = tmp_path / "broken"
    translate_folder(pair / "sim", broken, "identity")
    _truncate(sorted(broken.rglob("*.png"))[1])
    real = tmp_path / "real"
    shutil.copytree(pair / "intraop", real)
    _truncate(sorted(real.rglob("*.png"))[0])
    (tmp_path / "empty").mkdir()
    out = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["translation-measures", "--weights", str(weights), "--source",
                                  str(pair / "sim"), "--real", str(real), "--translated",
                                  f"good={good}", "--translated", f"broken={broken}",
                                  "--translated", f"empty={tmp_path / 'empty'}", "--out",
                                  str(out), "--bootstrap", "5"])  # fmt: skip
    assert r.exit_code == 0 and "Traceback" not in r.output, r.output
    doc = json.loads(out.read_text())
    t = doc["translations"]
    assert t["good"]["images"] == 3 and not t["good"]["problems"]
    assert t["broken"]["images"] == 2 and len(t["broken"]["problems"]) == 1
    assert t["empty"]["images"] == 0 and t["empty"]["realism"] is None
    assert len(doc["problems"]) == 1 and "real" in doc["problems"][0]


def test_name_equals_folder_splits_where_the_folder_is(tmp_path):
    from adaptor_baseline.cli_translation import split_named

    odd = tmp_path / "run=2"
    odd.mkdir()
    assert split_named(f"team=a={odd}") == ("team=a", str(odd))
    assert split_named(f"team={odd}") == ("team", str(odd))

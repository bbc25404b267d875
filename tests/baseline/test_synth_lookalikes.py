"""Needle marks beside the bites, and the attribution of false positives to the look-alikes the
generator drew (synth/lookalikes.py)."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.data.layout import read_labels
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.synth.generate import plan_job, video_jobs
from adaptor_baseline.synth.lookalikes import attribute_false_positives, lookalikes
from adaptor_baseline.synth.plan import plan_surgery
from adaptor_baseline.synth.presets import grid
from adaptor_baseline.synth.style import STYLES
from adaptor_baseline.synth.world import WorldCache


def test_needle_marks_lie_beside_their_bites_and_are_drawn_dark():
    style = STYLES["intraop"]
    marks = 0
    for seed in range(4):
        s = plan_surgery("intraop", seed)
        cache = WorldCache(s)
        canvas, placed = cache.at(1.0)
        img = np.asarray(canvas, float).mean(axis=2)
        for st in s.stitches[:placed]:
            for x, y, _r, kind in st.marks:
                gap = np.linalg.norm(st.bites - (x, y), axis=1).min()
                assert style.mark_gap[0] <= gap <= style.mark_gap[1] + 1e-9
                centre = img[int(round(y)), int(round(x))]
                ring = img[int(y) - 8 : int(y) + 9, int(x) - 8 : int(x) + 9]
                assert centre < np.median(ring), (seed, x, y, kind)  # a dark dot on the tissue
                marks += 1
    bites = sum(len(st.bites) for seed in range(4) for st in plan_surgery("intraop", seed).stitches)
    # Poisson with style.marks per bite; a few are dropped for landing near another bite
    assert 0.5 * style.marks * bites < marks < 1.5 * style.marks * bites, (marks, bites)


def test_needle_marks_appear_with_their_stitch():
    s = plan_surgery("sim", 2)
    late = next(i for i, st in enumerate(s.stitches) if st.placed > 0 and len(st.marks))
    cache = WorldCache(s)
    x, y = s.stitches[late].marks[0, :2].astype(int)
    before = np.asarray(cache.at(s.stitches[late].placed - 1e-6)[0], float)[y, x].mean()
    after = np.asarray(cache.at(s.stitches[late].placed)[0], float)[y, x].mean()
    assert after < before - 15


def _write(points_by_frame, out):
    for (folder, video, frame), pts in points_by_frame.items():
        path = out / folder / video / f"{frame}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"points": [{"x": float(x), "y": float(y)} for x, y in pts]}
        path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A 'detector' that fires on every label, and on every needle mark and knot far from the
    labels and from the real bites: ``(data, predictions, preset, planted counts per kind)``."""
    tmp = tmp_path_factory.mktemp("planted")
    preset = grid("intraop", 2, 1, 6, seed=3)
    generate_dataset(tmp / "d", preset=preset, seed=3, workers=1)
    preds, planted = {}, {"needle mark": 0, "knot": 0}
    for job in video_jobs(tmp / "d", preset, 3):
        surgery, video = plan_job(job)
        for k in range(job.frames):
            frame = f"{k:06d}"
            labels = read_labels(
                tmp / "d" / job.folder / job.video / "point_labels" / f"{frame}.json"
            )
            near = lookalikes(surgery, video, k)
            taken = np.concatenate([labels, near["unlabelled bite"]])
            pts = list(labels)
            for kind in ("needle mark", "knot"):
                for q in near[kind]:
                    inside = 8 <= q[0] <= 504 and 8 <= q[1] <= 280
                    if inside and (not len(taken) or np.linalg.norm(taken - q, axis=1).min() > 25):
                        pts.append(q)
                        taken = np.concatenate([taken, q[None]])
                        planted[kind] += 1
            preds[(job.folder, job.video, frame)] = pts
    assert planted["needle mark"] > 3 and planted["knot"] > 0, planted
    _write(preds, tmp / "p")
    return tmp / "d", tmp / "p", preset, planted


def test_false_positives_are_named_by_the_lookalike_under_them(planted):
    data, preds, preset, counts = planted
    res = attribute_false_positives(data, preds, preset, 3)
    kinds = {k: v["count"] for k, v in res["kinds"].items()}
    assert res["false_positives"] == counts["needle mark"] + counts["knot"], (res, counts)
    # a planted point can also lie on another look-alike that comes first (a thread, say)
    assert kinds.get("needle mark", 0) >= 0.8 * counts["needle mark"], (kinds, counts)
    assert kinds.get("knot", 0) >= 0.5 * counts["knot"], (kinds, counts)
    assert kinds.get("beside a label", 0) == 0
    assert res["median_px_to_label"] > 25 and res["problems"] == []
    # the plan is made again from the dataset's synth.json just the same
    assert attribute_false_positives(data, preds) == res


def test_false_positives_cli(planted, tmp_path):
    data, preds, _, counts = planted
    runner = CliRunner()
    res = runner.invoke(
        main, ["false-positives", str(data), str(preds), "--json", str(tmp_path / "fp.json")]
    )
    assert res.exit_code == 0, res.output
    assert "needle mark" in res.output and "knot" in res.output
    doc = json.loads((tmp_path / "fp.json").read_text())
    assert doc["false_positives"] == counts["needle mark"] + counts["knot"]

    # a broken prediction file is said, and its frame has no predictions, as in scoring
    broken = tmp_path / "p"
    shutil.copytree(preds, broken)
    victim = sorted(broken.rglob("*.json"))[0]
    victim.write_text("{not json")
    res = runner.invoke(main, ["false-positives", str(data), str(broken)])
    assert res.exit_code == 0 and "problem:" in res.output and victim.name in res.output, res.output


def test_false_positives_need_the_generators_manifest(planted, tmp_path):
    data, preds, _, _ = planted
    copy = tmp_path / "d"
    shutil.copytree(data, copy)
    runner = CliRunner()
    for text in (None, "[1, 2]", '{"generator": "adaptor-toolkit synth 1"}', "{bad"):
        manifest = copy / "synth.json"
        manifest.unlink(missing_ok=True)
        if text is not None:
            manifest.write_text(text)
        res = runner.invoke(main, ["false-positives", str(copy), str(preds)])
        assert res.exit_code == 2, (text, res.output)
        assert "synth.json" in res.output, (text, res.output)


def test_the_manifest_gives_back_the_plan(tmp_path):
    from adaptor_baseline.synth.generate import read_manifest
    from adaptor_baseline.synth.presets import DatasetPreset, FolderSpec, dataset_preset

    full = dataset_preset("b1")  # ten folders whose order seeds their surgeries
    small = DatasetPreset(
        "sim", "", tuple(FolderSpec(f.name, ((f.videos[0][0], 1),)) for f in full.folders)
    )
    generate_dataset(tmp_path, preset=small, seed=5, workers=2, max_points=30)
    preset, seed, max_points = read_manifest(tmp_path)
    assert (preset.domain, preset.folders, seed, max_points) == ("sim", small.folders, 5, 30)
    assert video_jobs(tmp_path, preset, seed, max_points) == video_jobs(tmp_path, small, 5, 30)

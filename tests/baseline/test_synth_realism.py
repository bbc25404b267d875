"""The generator's realism mechanisms: presets, the annotator, occlusion, distractors, growth,
and the realism report (checked against a hand-made dataset with known answers)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_baseline.cli import main
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import index_dataset, read_labels
from adaptor_baseline.synth import generate_dataset
from adaptor_baseline.synth.annotate import annotate
from adaptor_baseline.synth.plan import plan_surgery, plan_video
from adaptor_baseline.synth.presets import DatasetPreset, FolderSpec, dataset_preset
from adaptor_baseline.synth.render import render_frame, to_image
from adaptor_baseline.synth.report import realism_report
from adaptor_baseline.synth.world import WorldCache


def _published_folders(dataset):
    from adaptor_baseline.data.folds import preset_path

    rows = preset_path("published").read_text().splitlines()[1:]
    return [r.split(",")[2] for r in rows if r.startswith(dataset)]


@pytest.mark.parametrize(
    "name, domain, folders, frames",
    [("a1", "intraop", 4, 2376), ("a2", "intraop", 5, 500), ("b1", "sim", 10, 2708)],
)
def test_presets_have_the_papers_shapes(name, domain, folders, frames):
    p = dataset_preset(name)
    assert (p.domain, len(p.folders), p.frames) == (domain, folders, frames)
    assert all(n <= 100 for f in p.folders for _, n in f.videos)
    if name != "a2":
        published = _published_folders("intraop_A1" if name == "a1" else "sim_B1")
        assert [f.name for f in p.folders] == published
    else:
        assert [f.name for f in p.folders] == [f"aicm{i}" for i in range(1, 6)]
        assert all(f.frames == 100 for f in p.folders)


@pytest.mark.parametrize("name, n_folds", [("a1", 4), ("b1", 5)])
def test_published_folds_work_unchanged_on_a_preset(tmp_path, name, n_folds):
    full = dataset_preset(name)  # the preset's folders, two frames per folder
    small = DatasetPreset(
        full.domain, "", tuple(FolderSpec(f.name, ((f.videos[0][0], 2),)) for f in full.folders)
    )
    generate_dataset(tmp_path, seed=1, workers=2, preset=small)
    keys = [r.key for r in index_dataset(tmp_path, require_labels=True)]
    folds = make_folds(keys, "preset:published")
    assert None not in folds and len(set(folds)) == n_folds


def _frames(domain, seed, frames=30, video_index=0, videos=1):
    s = plan_surgery(domain, seed)
    v = plan_video(s, video_index, videos, frames, seed + 100)
    cache = WorldCache(s)
    for k in range(frames):
        rng = np.random.default_rng([seed, k])
        image, pts, ids = render_frame(v, k, cache, rng)
        yield v, k, image, pts, ids, rng


def test_annotator_jitters_rounds_and_misses():
    errors, visible, labelled = [], 0, 0
    for seed in (1, 2, 3):
        for v, k, _, pts, ids, rng in _frames("intraop", seed, 25):
            labels = annotate(v, k, pts, ids, rng)
            assert np.array_equal(labels, np.rint(labels))  # whole pixels, as clicks land
            visible += len(pts)
            labelled += len(labels)
            if len(labels) and len(pts):
                d = np.linalg.norm(labels[:, None] - pts[None], axis=2).min(axis=1)
                errors.extend(d)
    errors = np.array(errors)
    assert 0 < labelled < visible  # some visible bites are never labelled
    assert 0.8 < np.median(errors) < 3.5  # labels are not pixel-exact, and not far off
    assert np.quantile(errors, 0.99) < 14  # the farthest: a click beside the puncture


def test_some_bites_are_labelled_beside_the_puncture_all_video_long():
    """A share of each video's bites is marked 5-10 px from the puncture, the same way in every
    frame: the labels that put true detections between 6 and 10 px (annotate.py)."""
    import dataclasses

    beside, near, total = 0, 0, 0
    for seed in (1, 2, 3):
        steady = {}
        for v, k, _, pts, ids, _rng in _frames("intraop", seed, 25):
            with_offsets = annotate(v, k, pts, ids, np.random.default_rng([seed, k, 1]))
            without = annotate(
                dataclasses.replace(v, offsets={}), k, pts, ids, np.random.default_rng([seed, k, 1])
            )
            for labels, count in ((with_offsets, True), (without, False)):
                if not (len(labels) and len(pts)):
                    continue
                d = np.linalg.norm(labels[:, None] - pts[None], axis=2).min(axis=1)
                if count:
                    beside += int(((d > 4) & (d < 12)).sum())
                    total += len(d)
                else:
                    near += int(((d > 4) & (d < 12)).sum())
            for key in v.offsets:
                steady.setdefault(key, set()).add(v.offsets[key])
        assert all(len(o) == 1 for o in steady.values())  # one spot per bite and video
    share, jitter_only = beside / total, near / total
    # intraop's offset_share is 7 %; without the offsets only blurred frames' jitter goes that far
    assert 0.04 < share - jitter_only < 0.12, (share, jitter_only)
    # 1.2 px per axis goes past 4 px with p = exp(-16 / 2.88) = 0.4 %; blurred frames' larger
    # jitter (annotate.py) brings it to a few per cent, still well below the offsets' share
    assert jitter_only < 0.05


def test_occluded_points_are_not_labelled():
    """A bite visible in a frame disappears from the labels when an instrument's shaft is moved
    over it, and no labelled bite of many frames lies under a shaft drawn in its frame."""
    from adaptor_baseline.synth.plan import _instrument
    from adaptor_baseline.synth.render import _segment_distance, shaft

    s = plan_surgery("intraop", 3)
    v = plan_video(s, 0, 1, 5, 11)
    v.instruments, v.flap = [], None
    cache = WorldCache(s)
    _, pts, ids = render_frame(v, 0, cache, np.random.default_rng(0))
    assert len(ids) > 2
    ins = _instrument(np.random.default_rng(0), 5)
    ins.update(target=pts[0].copy(), entry=np.array([-20.0, pts[0][1] + 30]))
    ins["reach"][:], ins["present"][:], ins["sway"][:] = 1.0, True, 0.0
    v.instruments = [ins]
    _, pts2, ids2 = render_frame(v, 0, cache, np.random.default_rng(0))
    assert ids[0] not in ids2 and len(ids2) < len(ids)

    for seed in range(3):
        s = plan_surgery("intraop", seed)
        v = plan_video(s, 0, 1, 20, seed + 7)
        cache = WorldCache(s)
        for k in range(20):
            _, pts, _ = render_frame(v, k, cache, np.random.default_rng(k))
            for ins in v.instruments:
                a, b, _ = shaft(ins, k)
                if ins["present"][k] and len(pts):
                    assert (_segment_distance(pts, a, b) > ins["width"] / 2).all()


def test_distractors_are_drawn_but_never_labelled():
    from adaptor_baseline.synth.style import STYLES

    style = STYLES["intraop"]
    surgeries = [plan_surgery("intraop", seed) for seed in range(6)]
    for s in surgeries:
        assert style.thread_ends[0] <= len(s.thread_ends) <= style.thread_ends[1]
        assert style.spots[0] <= len(s.spots) <= style.spots[1] and len(s.wet) >= 30
    assert any(st.knots for s in surgeries for st in s.stitches)
    assert any(st.pledget for s in surgeries for st in s.stitches)
    s = surgeries[5]
    bites = np.concatenate([st.bites for st in s.stitches])
    # every label comes from a stitch's bite: none from spots, thread ends or loose pledgets
    v = plan_video(s, 0, 1, 10, 9)
    cache = WorldCache(s)
    for k in range(10):
        _, pts, ids = render_frame(v, k, cache, np.random.default_rng(k))
        for (i, j), p in zip(ids, pts):
            assert np.allclose(to_image(v, k, s.stitches[i].bites[j][None])[0], p)
    assert len(bites) == sum(len(st.bites) for st in s.stitches)


def test_counts_grow_within_surgeries_and_are_not_uniform(tmp_path):
    generate_dataset(tmp_path, "intraop", 3, 2, 30, seed=4, workers=2)
    r = realism_report(tmp_path, image_sample=20)
    assert r["growth_spearman_median"] > 0.2
    # the mechanism: stitches are only ever added, video after video of a surgery
    s = plan_surgery("intraop", 4)
    placed = [
        [sum(st.placed <= plan_video(s, v, 3, 10, 50 + v).time(k) for st in s.stitches)
         for k in range(10)]
        for v in range(3)
    ]  # fmt: skip
    assert all(p == sorted(p) for p in placed)  # within a video: never fewer
    assert placed[2][-1] > placed[0][0] > 0  # over the surgery: more
    assert r["empty_frames"] < 0.1 and 5 < r["labels_per_frame"] < 18


def test_report_on_a_dataset_with_known_answers(tmp_path):
    from PIL import Image

    frames = {  # video v0: growing counts, one empty frame; labels at known places
        "000000": [],
        "000001": [[10, 10]],
        "000002": [[10, 10], [20, 10]],  # 10 px apart: both close
        "000003": [[10, 10], [40, 10], [100.5, 7]],  # none close; one not on a whole pixel
    }
    base = tmp_path / "d" / "s1" / "v0"
    (base / "images").mkdir(parents=True)
    (base / "point_labels").mkdir()
    for name, pts in frames.items():
        img = np.full((288, 512, 3), 100, np.uint8)
        img[0:2, 0:5] = 255  # 10 saturated pixels
        Image.fromarray(img).save(base / "images" / f"{name}.png")
        doc = {"points": [{"x": x, "y": y} for x, y in pts]}
        (base / "point_labels" / f"{name}.json").write_text(json.dumps(doc))
    r = realism_report(tmp_path / "d")
    assert (r["frames"], r["labels"], r["labels_per_frame"]) == (4, 6, 1.5)
    assert r["empty_frames"] == 0.25
    assert r["close_share"] == round(2 / 6, 4)
    assert r["integer_labels"] == round(5 / 6, 4)
    assert r["growth_spearman_median"] == 1.0 and r["videos_growing"] == 1.0
    assert r["frames_with_saturation"] == 1.0
    assert r["grey_std_within_video"] < 0.5  # identical frames


def test_synth_preset_and_report_cli(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["synth", str(tmp_path / "x"), "--preset", "a1", "--domain", "sim"])
    assert res.exit_code == 2 and "intraop" in res.output
    res = runner.invoke(
        main,
        [
            "synth",
            str(tmp_path / "d"),
            "--domain",
            "intraop",
            "--surgeries",
            "1",
            "--videos",
            "2",
            "--frames",
            "3",
            "--workers",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        main, ["synth-report", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--compare", "a1"]
    )
    assert res.exit_code == 0, res.output
    assert "10.07" in res.output and "labels per frame" in res.output
    doc = json.loads((tmp_path / "r" / "report.json").read_text())
    assert doc["frames"] == 6 and len(doc["distributions"]["counts"]) == 6
    assert (tmp_path / "r" / "report.png").stat().st_size > 10_000
    labels = [read_labels(p) for p in sorted((tmp_path / "d").rglob("point_labels/*.json"))]
    assert sum(len(x) for x in labels) == doc["labels"]

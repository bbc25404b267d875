import json

import numpy as np
from click.testing import CliRunner
from PIL import Image

from adaptor_baseline.cli import main
from adaptor_baseline.data.layout import index_dataset, load_image, read_labels
from adaptor_baseline.synth import generate_dataset
from adaptor_score.cli import main as score_main
from adaptor_score.metrics import close_label_mask


def test_layout_round_trip(synth_sim):
    records = index_dataset(synth_sim, require_labels=True)
    assert len(records) == 12
    assert len({r.key.folder for r in records}) == 3
    for r in records:
        assert r.image == synth_sim / r.key.folder / r.key.video / "images" / f"{r.key.frame}.png"
        raw = json.loads(r.labels.read_text())
        assert raw["imageWidth"] == 512 and raw["imageHeight"] == 288
        pts = read_labels(r.labels)
        assert pts.tolist() == [[p["x"], p["y"]] for p in raw["points"]]
        assert load_image(r.image).shape == (288, 512, 3)
        if len(pts):
            assert (pts[:, 0] >= 0).all() and (pts[:, 0] < 512).all()
            assert (pts[:, 1] >= 0).all() and (pts[:, 1] < 288).all()


def test_deterministic_for_a_seed(tmp_path):
    a = generate_dataset(tmp_path / "a", "intraop", 1, 1, 3, seed=11, workers=1)
    b = generate_dataset(tmp_path / "b", "intraop", 1, 1, 3, seed=11, workers=2)
    generate_dataset(tmp_path / "c", "intraop", 1, 1, 3, seed=12, workers=1)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert a["points"] == b["points"]
    la = [(tmp_path / "a" / f).read_text() for f in files if f.suffix == ".json"]
    lc = [p.read_text() for p in sorted((tmp_path / "c").rglob("*.json"))]
    assert la != lc


def test_domains_look_different(tmp_path):
    generate_dataset(tmp_path / "sim", "sim", 2, 1, 2, seed=3, workers=1)
    generate_dataset(tmp_path / "op", "intraop", 2, 1, 2, seed=3, workers=1)

    def stats(root):
        imgs = [np.asarray(Image.open(p), dtype=float) for p in sorted(root.rglob("*.png"))]
        # whole frames: the centre alone is often the dark valve orifice, in both domains
        frames = np.stack(imgs)
        return frames.mean(), (frames[..., 0] - frames[..., 2]).mean()

    (sim_bright, sim_red), (op_bright, op_red) = stats(tmp_path / "sim"), stats(tmp_path / "op")
    assert sim_bright > op_bright + 30  # sim is brighter
    assert op_red / op_bright > sim_red / sim_bright  # intraop is redder for its brightness


def test_close_points_and_empty_frames_occur(tmp_path):
    generate_dataset(tmp_path, "sim", 6, 2, 2, seed=5, workers=2)
    labels = [read_labels(p) for p in sorted(tmp_path.rglob("point_labels/*.json"))]
    close = close_label_mask(labels)
    counts = [len(x) for x in labels]
    assert close.any() and not close.all()  # mattress pairs and isolated stitches
    assert max(counts) <= 30


def test_labels_pass_validate_as_a_submission(synth_sim, tmp_path):
    sub = tmp_path / "sub"
    for r in index_dataset(synth_sim):
        rel = r.image.relative_to(synth_sim).with_suffix(".json")
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        (sub / rel).write_text(
            json.dumps(
                {
                    "folderName": r.key.folder,
                    "subfolderName": r.key.video,
                    "imageFileName": r.image.name,
                    "points": json.loads(r.labels.read_text())["points"],
                }
            )
        )
    res = CliRunner().invoke(score_main, ["validate", str(sub), "--images", str(synth_sim)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(score_main, ["score", str(synth_sim), str(sub), "--strict"])
    assert res.exit_code == 0 and "1.0000" in res.output


def test_cli_synth_and_contact_sheet(tmp_path):
    r = CliRunner().invoke(
        main,
        [
            "synth",
            str(tmp_path / "d"),
            "--domain",
            "intraop",
            "--surgeries",
            "1",
            "--videos",
            "1",
            "--frames",
            "2",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0 and "frames/s" in r.output, r.output
    r = CliRunner().invoke(
        main, ["contact-sheet", str(tmp_path / "d"), "--out", str(tmp_path / "s.png"), "-n", "2"]
    )
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (3 * 384, 216 + 22)  # each tile has a caption band


def test_contact_sheet_spreads_over_videos_and_draws_predictions(tmp_path):
    from PIL import Image

    from adaptor_baseline.data.layout import index_dataset
    from adaptor_baseline.synth.contact_sheet import contact_sheet, spread_over_videos
    from adaptor_baseline.synth.perturb import perturbed_predictions

    generate_dataset(tmp_path / "d", "sim", surgeries=3, videos=1, frames=6, seed=2, workers=1)
    records = [r for r in index_dataset(tmp_path / "d") if r.labels is not None]
    picks = spread_over_videos(records, 3, seed=0)
    assert len({(r.key.folder, r.key.video) for r in picks}) == 3  # one from each video
    perturbed_predictions(tmp_path / "d", tmp_path / "p", 1, 0.2, 3, 0)
    plain = Image.open(contact_sheet(tmp_path / "d", tmp_path / "a.png", 3, 3)).convert("RGB")
    drawn = Image.open(
        contact_sheet(tmp_path / "d", tmp_path / "b.png", 3, 3, predictions=tmp_path / "p")
    ).convert("RGB")
    red = lambda im: ((np.asarray(im)[..., 0] > 200) & (np.asarray(im)[..., 1] < 80)).sum()  # noqa: E731
    assert red(drawn) > red(plain) + 20  # the predictions' red crosses

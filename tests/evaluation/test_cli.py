import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from tests.evaluation.helpers import K1, K2, K3, make_tree
from tests.evaluation.test_validate import make_images


def tree(tmp_path):
    return make_tree(
        tmp_path,
        {
            K1: ([(10, 10), (50, 50)], [(12, 10), (58, 50)]),
            K2: ([(100, 100)], [(100, 100), (300, 200)]),
            K3: ([(5, 5)], [(5, 5)]),
        },
    )


def test_score_json_contract(tmp_path):
    gt, pred = tree(tmp_path)
    out = tmp_path / "s.json"
    r = CliRunner().invoke(
        main,
        [
            "score",
            str(gt),
            str(pred),
            "--radius",
            "6",
            "--radius",
            "8",
            "--radius",
            "10",
            "--json",
            str(out),
            "--csv",
            str(tmp_path / "f.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert set(doc) >= {"overall", "folds", "problems"}
    assert [o["radius"] for o in doc["overall"]] == [6, 8, 10]
    for o in doc["overall"]:
        assert set(o) == {
            "radius",
            "tp",
            "fp",
            "fn",
            "ppv",
            "tpr",
            "f1",
            "rmse",
            "rmse_images",
            "images",
            "tp_distance_mean",
            "tp_distance_rms",
        }
    six, eight = doc["overall"][0], doc["overall"][1]
    assert (six["tp"], six["fp"], six["fn"]) == (3, 2, 1)
    assert (eight["tp"], eight["fp"], eight["fn"]) == (4, 1, 0)
    assert six["ppv"] == 3 / 5 and six["tpr"] == 3 / 4
    assert {f["fold"] for f in doc["folds"]} == {K1.folder, K3.folder}
    assert doc["problems"] == []
    assert "Overall" in r.output and "Mean ± std over 2 folds" in r.output
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0].startswith("folder,video,frame,fold,radius,tp") and len(lines) == 1 + 3 * 3


def test_strict_turns_problems_into_exit_1(tmp_path):
    gt, pred = tree(tmp_path)
    (pred / K1.folder / K1.video / f"{K1.frame}.json").write_text("oops")
    out = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["score", str(gt), str(pred), "--json", str(out)])
    assert r.exit_code == 0 and "1 problem(s)" in r.output
    assert json.loads(out.read_text())["problems"][0]["problem"].startswith("not valid JSON")
    r = CliRunner().invoke(main, ["score", str(gt), str(pred), "--strict"])
    assert r.exit_code == 1


def test_broken_ground_truth_exits_2_with_file_name(tmp_path):
    gt, pred = tree(tmp_path)
    bad = gt / K2.folder / K2.video / "point_labels" / f"{K2.frame}.json"
    bad.write_text("[")
    r = CliRunner().invoke(main, ["score", str(gt), str(pred)])
    assert r.exit_code == 2 and str(bad) in r.output.replace("\n", "")


def test_validate_exit_codes(tmp_path):
    images = tmp_path / "in"
    make_images(images, [K1])
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["validate", str(out), "--images", str(images)])
    assert r.exit_code == 2 and "does not exist" in r.output  # a mistyped folder, as score says
    p = out / K1.folder / K1.video / "images" / f"{K1.frame}.json"
    p.parent.mkdir(parents=True)
    p.write_text(
        json.dumps(
            {
                "folderName": K1.folder,
                "subfolderName": K1.video,
                "imageFileName": f"{K1.frame}.png",
                "points": [],
            }
        )
    )
    r = CliRunner().invoke(main, ["validate", str(out), "--images", str(images)])
    assert r.exit_code == 0 and "OK" in r.output


def test_overlay_writes_pngs(tmp_path):
    gt, pred = tree(tmp_path)
    make_images(gt, [K1])
    out = tmp_path / "ov"
    r = CliRunner().invoke(main, ["overlay", str(gt), str(pred), "--out", str(out), "--worst", "2"])
    assert r.exit_code == 0, r.output
    pngs = sorted(out.rglob("*.png"))
    assert len(pngs) == 2
    from PIL import Image

    with Image.open(out / K1.folder / K1.video / f"{K1.frame}.png") as im:
        assert im.size == (1024, 576 + 44)  # the caption and legend band
        px = im.convert("RGB").load()
        colours = {px[x, y] for x in range(0, 1024, 1) for y in range(0, 200)}
    from adaptor_score.overlay import FP_COLOUR, TP_COLOUR

    assert TP_COLOUR in colours and FP_COLOUR in colours  # TP and FP drawn
    r = CliRunner().invoke(
        main, ["overlay", str(gt), str(pred), "--out", str(out), "--frame", "a/b/c"]
    )
    assert r.exit_code == 2


def test_scoring_runs_without_torch(tmp_path):
    gt, pred = tree(tmp_path)
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from adaptor_score.cli import main\n"
        f"main(['score', {str(gt)!r}, {str(pred)!r}])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Overall" in r.stdout


def test_organiser_commands_are_hidden_aliases_of_adaptor_leaderboard(tmp_path):
    """adaptor-score shows participants only the scoring commands; the old organiser command
    names still work, found through the entry-point group (adaptor_score never imports them)."""
    from adaptor_score.cli import main as score_main

    r = CliRunner().invoke(score_main, ["--help"])
    assert r.exit_code == 0
    for name in ("score", "validate", "tables", "overlay"):
        assert name in r.output
    for name in ("ledger", "run", "leaderboard"):
        assert f"  {name} " not in r.output
    r = CliRunner().invoke(
        score_main, ["ledger", "list", "--ledger", str(tmp_path / "none.sqlite")]
    )
    assert r.exit_code == 2 and "no ledger there" in r.output


def test_dataframes_repr_loader_and_localisation_error(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from adaptor_score import read_points, score
    from tests.evaluation.helpers import write_points

    gt, pred = tmp_path / "gt", tmp_path / "pred"
    write_points(gt / "s1" / "v1" / "point_labels" / "0.json", [(10, 10), (50, 50), (90, 90)])
    write_points(gt / "s2" / "v1" / "point_labels" / "0.json", [(20, 20)])
    write_points(pred / "s1" / "v1" / "0.json", [(13, 14), (50, 50), (200, 200)])  # d = 5, 0
    write_points(pred / "s2" / "v1" / "0.json", [(20, 26)])  # d = 6
    report = score(gt, pred, (6.0, 10.0))
    overall = report.to_frame()
    assert list(overall["radius"]) == [6.0, 10.0] and list(overall["tp"]) == [3, 3]
    row = overall.iloc[0]
    assert row["tp_distance_mean"] == pytest.approx((5 + 0 + 6) / 3)
    assert row["tp_distance_rms"] == pytest.approx(np.sqrt((25 + 0 + 36) / 3))
    assert row["rmse"] > row["tp_distance_rms"]  # the false positive dominates the paper's RMSE
    assert set(report.to_frame("folder")["folder"]) == {"s1", "s2"}
    assert list(report.to_frame("fold").columns[:2]) == ["fold", "radius"]
    frames = report.to_frame("frame")
    assert len(frames) == 4 and {"folder", "video", "frame", "fold", "tp"} <= set(frames.columns)
    with pytest.raises(ValueError, match="level must be one of"):
        report.to_frame("surgeon")
    text = repr(report)
    assert text.startswith("ScoreReport(2 frames") and "F1@6" in text and len(text) < 200
    assert read_points(pred / "s1" / "v1" / "0.json").tolist() == [[13, 14], [50, 50], [200, 200]]
    code = "import sys, adaptor_score.cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # scoring never imports pandas


def test_overlays_carry_a_caption_and_legend(tmp_path):
    import numpy as np
    from PIL import Image

    from adaptor_score.overlay import BAND, FN_COLOUR, FP_COLOUR, TP_COLOUR, draw_overlay

    image = Image.new("RGB", (512, 288), (200, 180, 170))
    out = draw_overlay(image, np.array([[10.0, 10.0], [50.0, 20.0]]), np.array([[11.0, 10.0], [30.0, 5.0]]),
                       radius=6, caption="s/v/000001")  # fmt: skip
    assert out.size == (1024, 576 + BAND)
    band = np.asarray(out)[576:].astype(int)
    assert (band.sum(axis=2) > 600).sum() > 50  # light caption text on the dark band
    for colour in (TP_COLOUR, FN_COLOUR, FP_COLOUR):  # the legend's three colours
        assert (np.abs(band - np.array(colour)).sum(axis=2) < 60).sum() > 10, colour

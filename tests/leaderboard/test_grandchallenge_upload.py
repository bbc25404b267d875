"""An organiser's Grand-Challenge round trip: `test-input --flat` names the images to upload, and
`adaptor-score grand-challenge` reads those names back to the frames they came from."""

import json

from click.testing import CliRunner
from PIL import Image

from adaptor_leaderboard.cli import main
from adaptor_score.frames import FrameKey
from adaptor_score.grandchallenge import evaluate
from tests.evaluation.helpers import write_label

KEYS = [FrameKey("aicm1", "VID000_0", "000000"), FrameKey("aicm2", "VID001_1", "000007")]


def test_flat_test_input_names_round_trip_through_the_evaluation(tmp_path):
    gt = tmp_path / "gt"
    for key in KEYS:
        write_label(gt, key, [(100.0, 50.0)])
        img = gt / key.folder / key.video / "images" / f"{key.frame}.png"
        img.parent.mkdir(parents=True)
        Image.new("RGB", (512, 288)).save(img)
    r = CliRunner().invoke(main, ["test-input", str(gt), str(tmp_path / "upload"), "--flat"])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (tmp_path / "upload").iterdir())
    assert names == ["aicm1__VID000_0__000000.png", "aicm2__VID001_1__000007.png"]
    jobs = [{"pk": f"j{i}", "inputs": [{"interface": {"kind": "Image"}, "image": {"name": n}}],
             "outputs": [{"interface": {"kind": "Multiple points"},
                          "value": {"type": "Multiple points", "points": [{"point": [101, 50, 0]}]}}]}
            for i, n in enumerate(names)]  # fmt: skip
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "predictions.json").write_text(json.dumps(jobs))
    metrics = evaluate(tmp_path / "in", gt)
    assert metrics["problems"] == [] and metrics["aggregates"]["6"]["tp"] == 2


def test_a_folder_name_holding_the_separator_is_refused(tmp_path):
    key = FrameKey("ai__cm1", "VID000_0", "000000")
    write_label(tmp_path / "gt", key, [])
    img = tmp_path / "gt" / key.folder / key.video / "images" / "000000.png"
    img.parent.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(img)
    r = CliRunner().invoke(main, ["test-input", str(tmp_path / "gt"), str(tmp_path / "u"), "--flat"])
    assert r.exit_code == 2 and "cannot be named" in r.output

"""The scoring image as a Grand-Challenge evaluation method: a fixture in GC's layout (inline and
file outputs, a failed job, an image that names no frame, a frame without a job) scores exactly
as ``adaptor-score score`` does on the same outputs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from adaptor_score.cli import main
from adaptor_score.frames import FrameKey
from adaptor_score.grandchallenge import evaluate
from adaptor_score.scoring import score
from tests.evaluation.helpers import write_label, write_prediction

RNG = np.random.default_rng(3)
KEYS = [FrameKey(f"aicm{s}", "VID000_0", f"{f:06d}") for s in (1, 2) for f in range(4)]


def gc_points(points) -> dict:
    return {"type": "Multiple points", "version": {"major": 1, "minor": 0},
            "points": [{"point": [x, y, 0.0]} for x, y in points]}  # fmt: skip


def job(pk, image, output=None, inline=True, status="Succeeded"):
    iface = {"slug": "suture-points", "kind": "Multiple points",
             "relative_path": "suture-points.json"}  # fmt: skip
    out = {"interface": iface, "value": output if inline else None, "file": None}
    return {"pk": pk, "status": status, "outputs": [out],
            "inputs": [{"interface": {"slug": "endoscopic-image", "kind": "Image",
                                      "relative_path": "images/endoscopic-image"},
                        "image": {"name": image, "pk": "img-" + pk}}]}  # fmt: skip


@pytest.fixture
def gc_input(tmp_path):
    """Ground truth for 8 frames; GC jobs for 7 of them (4 inline, 2 as files, 1 failed), one
    more job whose image names no frame; and the same outputs as a plain prediction folder."""
    gt, plain, gc = tmp_path / "gt", tmp_path / "plain", tmp_path / "input"
    jobs = []
    for i, key in enumerate(KEYS):
        labels = RNG.uniform(20, 480, size=(RNG.integers(0, 12), 2)).round(1)
        write_label(gt, key, labels.tolist())
        if i == 7:
            continue  # no job: the frame counts as no predictions
        found = labels[RNG.random(len(labels)) < 0.7]
        found = found + RNG.normal(0, 3, size=found.shape)
        preds = np.vstack([found, RNG.uniform(0, 500, size=(2, 2))]).round(2).tolist()
        name = f"{key.folder}__{key.video}__{key.frame}.png"
        pk = f"job-{i}"
        if i == 6:
            jobs.append(job(pk, name, status="Failed"))
            continue
        write_prediction(plain, key, preds)
        if i in (4, 5):
            f = gc / pk / "output" / "suture-points.json"
            f.parent.mkdir(parents=True)
            f.write_text(json.dumps(gc_points(preds)))
            jobs.append(job(pk, name, inline=False))
        else:
            jobs.append(job(pk, name, gc_points(preds)))
    jobs.append(job("job-x", "holiday-photo.png", gc_points([])))
    jobs.append(job("job-y", "aicm1/aicm1__VID000_0__000000.png", gc_points([])))
    gc.mkdir(exist_ok=True)
    (gc / "predictions.json").write_text(json.dumps(jobs))
    return gt, plain, gc


def test_metrics_equal_adaptor_score_on_the_same_outputs(gc_input, tmp_path):
    gt, plain, gc = gc_input
    metrics = evaluate(gc, gt)
    reference = score(gt, plain, (6.0, 8.0, 10.0))
    for s in reference.overall():
        a = metrics["aggregates"][f"{s.radius:g}"]
        assert (a["tp"], a["fp"], a["fn"]) == (s.tp, s.fp, s.fn)
        assert a["f1"] == s.f1 and a["ppv"] == s.ppv and a["tpr"] == s.tpr and a["rmse"] == s.rmse
    fs = reference.frames
    for name, case in metrics["case"].items():
        key = FrameKey(*name.removesuffix(".png").split("__"))
        i = fs.keys.index(key)
        assert case["6"]["tp"] == int(fs.tp[i, 0]) and case["10"]["fp"] == int(fs.fp[i, 2])
    assert len(metrics["case"]) == 7  # 6 scored jobs + the failed one, scored as no predictions
    problems = {p["image"]: p["problem"] for p in metrics["problems"]}
    assert problems["holiday-photo.png"] == "names no frame"
    assert problems["aicm1/aicm1__VID000_0__000000.png"] == "names no frame"  # a path, not a name
    assert problems["aicm2__VID000_0__000002.png"] == "job Failed"
    assert metrics["frames_without_output"] == 2


def test_the_command_writes_metrics_json_and_takes_a_mapping(gc_input, tmp_path):
    gt, _, gc = gc_input
    out = tmp_path / "output"
    r = CliRunner().invoke(main, ["grand-challenge", "--input", str(gc), "--output", str(out),
                                  "--ground-truth", str(gt)])  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "metrics.json").read_text())
    assert set(doc) >= {"case", "aggregates"} and set(doc["aggregates"]) == {"6", "8", "10"}
    mapping = tmp_path / "map.csv"
    mapping.write_text("image,folder,video,frame\nholiday-photo.png,aicm1,VID000_0,000000.png\n")
    again = evaluate(gc, gt, mapping_csv=mapping)
    assert list(again["case"]) == ["holiday-photo.png"]  # only what the mapping names


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{}", "not Grand-Challenge's predictions list"),
        ('[{"pk": 3}]', "not Grand-Challenge's predictions list"),
        ("[", "not valid JSON"),
        ('[{"pk": "a", "outputs": [{"interface": {}, "value": ' + "[" * 5_000 + "]" * 5_000
         + "}]}]", "nested too deeply"),
        ('[{"pk": "a", "outputs": [{"interface": {}, "value": ' + "[" * 100_000, "not valid JSON"),
    ],
)
def test_a_broken_predictions_json_exits_2_naming_it(tmp_path, content, needle):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "predictions.json").write_text(content)
    (tmp_path / "gt").mkdir()
    r = CliRunner().invoke(main, ["grand-challenge", "--input", str(tmp_path / "in"),
                                  "--output", str(tmp_path / "o"), "--ground-truth", str(tmp_path / "gt")])  # fmt: skip
    assert r.exit_code == 2 and "predictions.json" in r.output and needle in r.output


def test_an_output_path_that_leaves_the_job_folder_is_a_problem(gc_input):
    gt, _, gc = gc_input
    jobs = json.loads((gc / "predictions.json").read_text())
    jobs[4]["outputs"][0]["interface"]["relative_path"] = "../../../gt/aicm1/x.json"
    (gc / "predictions.json").write_text(json.dumps(jobs))
    metrics = evaluate(gc, gt)
    assert any(p["problem"].startswith("output file") for p in metrics["problems"])


@pytest.mark.parametrize("depth", [40, 600, 50_000])
def test_an_inline_output_nested_deep_is_that_jobs_problem_not_a_recursion_error(gc_input, depth):
    gt, _, gc = gc_input
    jobs = json.loads((gc / "predictions.json").read_text())
    deep = {"points": []}
    for _ in range(depth):
        deep = {"points": [deep]}
    text = json.dumps(jobs)[:-1] + ", " + json.dumps(job("job-deep", "aicm2__VID000_0__000003.png",
                                                          None))[:-1]  # fmt: skip
    # the deep value is spliced in as text: json.dumps itself would recurse too deep to write it
    text += ', "x": 0}]'
    text = text.replace('"value": null, "file": null}], "inputs": [{"interface": {"slug": '
                        '"endoscopic-image", "kind": "Image", "relative_path": '
                        '"images/endoscopic-image"}, "image": {"name": "aicm2__VID000_0__000003.png"',
                        '"value": ' + '{"points": [' * depth + "]}" * depth + ', "file": null}],'
                        ' "inputs": [{"interface": {"slug": "endoscopic-image", "kind": "Image",'
                        ' "relative_path": "images/endoscopic-image"}, "image": {"name":'
                        ' "aicm2__VID000_0__000003.png"')  # fmt: skip
    (gc / "predictions.json").write_text(text)
    try:
        metrics = evaluate(gc, gt)
    except Exception as e:  # noqa: BLE001 - a refusal of the whole file is acceptable, named
        assert "predictions.json" in str(e) and "nested too deeply" in str(e)
        return
    problems = [p for p in metrics["problems"] if p["job"] == "job-deep"]
    assert problems and "nested deeper" in problems[0]["problem"]


def test_two_jobs_naming_one_frame_are_listed_not_overwritten(gc_input):
    gt, _, gc = gc_input
    jobs = json.loads((gc / "predictions.json").read_text())
    first = jobs[0]["inputs"][0]["image"]["name"]
    other = first.replace(".png", ".jpg")
    jobs.append(job("job-twin", other, gc_points([[1, 1]] * 30)))
    (gc / "predictions.json").write_text(json.dumps(jobs))
    before = evaluate(gc, gt)
    twin = [p for p in before["problems"] if p["job"] == "job-twin"]
    assert twin and "names the same frame" in twin[0]["problem"] and first in twin[0]["problem"]
    assert first in before["case"] and other not in before["case"]
    assert before["case"][first]["6"]["fp"] < 30  # the first job's output, not the 30 points


@pytest.mark.parametrize("files", [False, True])
def test_a_dry_run_input_made_from_outputs_scores_as_adaptor_score_does(gc_input, tmp_path, files):
    gt, plain, _ = gc_input
    (plain / "aicm1" / "VID000_0" / "broken.json").write_text("{")
    gc = tmp_path / ("gc-files" if files else "gc-inline")
    args = ["grand-challenge-input", str(plain), str(gc)] + (["--files"] if files else [])
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "broken.json" in r.output, r.output
    jobs = json.loads((gc / "predictions.json").read_text())
    assert len(jobs) == 6 and all(j["inputs"][0]["image"]["name"].count("__") == 2 for j in jobs)
    assert all((j["outputs"][0]["value"] is None) == files for j in jobs)
    metrics = evaluate(gc, gt)
    want = score(gt, plain)
    for s in want.overall():
        got = metrics["aggregates"][f"{s.radius:g}"]
        assert (got["tp"], got["fp"], got["fn"]) == (s.tp, s.fp, s.fn)

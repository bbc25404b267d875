"""The template's entrypoint, outside containers: same contract through the environment variables."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adaptor_baseline.synth import generate_dataset
from adaptor_score.validate import validate_submission

TEMPLATE = Path(__file__).resolve().parents[2] / "submission_template"


def run(command, input_dir, output_dir, *extra, env=None):
    import os

    environment = {
        **os.environ,
        "ADAPTOR_INPUT": str(input_dir),
        "ADAPTOR_OUTPUT": str(output_dir),
        "ADAPTOR_WEIGHTS": str(input_dir / "no-weights.pt"),
        **(env or {}),
    }
    args = (
        [sys.executable, str(TEMPLATE / "entrypoint.py")]
        + ([command] if command else [])
        + list(extra)
    )
    return subprocess.run(args, capture_output=True, text=True, env=environment)


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    generate_dataset(root, "sim", surgeries=2, videos=1, frames=2, seed=4, workers=1)
    return root


def test_landmark_detection_writes_one_valid_file_per_image(frames, tmp_path):
    r = run("landmark_detection", frames, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "blob detector" in r.stderr
    problems, n = validate_submission(tmp_path / "out", frames)
    assert problems == [] and n == 4
    doc = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    assert set(doc) == {"folderName", "subfolderName", "imageFileName", "points"}


def test_output_layout_mirrors_any_input_depth(tmp_path):
    (tmp_path / "in" / "a").mkdir(parents=True)
    Image.new("RGB", (64, 32), (200, 150, 140)).save(tmp_path / "in" / "top.png")
    Image.new("RGB", (64, 32), (200, 150, 140)).save(tmp_path / "in" / "a" / "x.jpg")
    r = run("landmark_detection", tmp_path / "in", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json")
    ) == ["a/x.json", "top.json"]
    doc = json.loads((tmp_path / "out" / "a" / "x.json").read_text())
    assert doc["imageFileName"] == "x.jpg" and doc["points"] == []  # empty, never missing


def test_unreadable_image_is_reported_and_the_rest_processed(frames, tmp_path):
    import shutil

    src = tmp_path / "in"
    shutil.copytree(frames, src)
    broken = next(src.rglob("images/*.png"))
    broken.write_bytes(b"not a png")
    r = run("landmark_detection", src, tmp_path / "out")
    assert r.returncode == 0, r.stderr  # the output is complete: a warning, not a failure
    assert f"warning: cannot read {broken}" in r.stderr
    assert len(list((tmp_path / "out").rglob("*.json"))) == 4
    empty = json.loads(
        (tmp_path / "out" / broken.relative_to(src).with_suffix(".json")).read_text()
    )
    assert empty["points"] == []


def test_unknown_and_missing_commands_explain(frames, tmp_path):
    for command in ("detect_things", None):
        r = run(command, frames, tmp_path / "out")
        assert r.returncode == 2
        assert "landmark_detection" in r.stderr and "domain_transformation" in r.stderr
    r = run("landmark_detection", tmp_path / "nowhere", tmp_path / "out")
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_grand_challenge_format(frames, tmp_path):
    r = run("landmark_detection", frames, tmp_path / "out", "--format", "grand-challenge")
    assert r.returncode == 0, r.stderr
    doc = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    assert doc["type"] == "Multiple points" and doc["version"] == {"major": 1, "minor": 0}
    assert all(len(p["point"]) == 3 for p in doc["points"])


def test_domain_transformation_keeps_size(frames, tmp_path):
    r = run("domain_transformation", frames, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    outs = sorted((tmp_path / "out").rglob("*.png"))
    assert len(outs) == 4
    for o in outs:
        src = frames / o.relative_to(tmp_path / "out")
        a, b = np.asarray(Image.open(src)), np.asarray(Image.open(o))
        assert a.shape == b.shape and not np.array_equal(a, b)


@pytest.mark.parametrize(
    "predictor",
    [
        "def load_predictor():\n    return lambda images: [[] for _ in images]\n",
        "import numpy as np\n\nclass P:\n    def __call__(self, images):\n"
        "        return [np.zeros((0, 2)) for _ in images]\n\ndef load_predictor():\n"
        "    return P()\ntranslate = None  # a near miss of the name is not the task\n",
    ],
)
def test_a_predictor_without_translate_domain_does_not_offer_the_task(frames, tmp_path, predictor):
    """A participant's predictor.py as documented, without the optional function: the command
    says "not offered", writes nothing and exits 2 (no ImportError traceback)."""
    import shutil

    copy = tmp_path / "template"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("weights", "wheels"))
    (copy / "predictor.py").write_text(predictor)
    env = {"ADAPTOR_INPUT": str(frames), "ADAPTOR_OUTPUT": str(tmp_path / "out")}
    import os

    r = subprocess.run([sys.executable, str(copy / "entrypoint.py"), "domain_transformation"],
                       capture_output=True, text=True, env={**os.environ, **env})  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "not offered" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.png"))
    landmarks = subprocess.run([sys.executable, str(copy / "entrypoint.py"), "landmark_detection"],
                               capture_output=True, text=True, env={**os.environ, **env})  # fmt: skip
    assert landmarks.returncode == 0, landmarks.stderr


def test_an_unreadable_image_is_named_without_the_readers_buffer(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.png").write_bytes(b"not a picture at all")
    Image.new("RGB", (64, 32)).save(tmp_path / "in" / "fine.png")
    r = run("landmark_detection", tmp_path / "in", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "broken.png: cannot read the image: not in a format this reader knows" in r.stderr
    assert "BytesIO" not in r.stderr and "0x" not in r.stderr


def test_uses_the_baseline_when_its_weights_are_there(frames, tmp_path):
    from adaptor_baseline.config import preset, with_overrides
    from adaptor_baseline.train import train

    cfg = with_overrides(
        preset("variant1"),
        **{"model.width": 4, "model.depth": 2, "epochs": 1, "steps_per_epoch": 1, "crop": (64, 64)},
    )
    train(cfg, frames, tmp_path / "run")
    r = run(
        "landmark_detection",
        frames,
        tmp_path / "out",
        env={"ADAPTOR_WEIGHTS": str(tmp_path / "run" / "model.pt")},
    )
    assert r.returncode == 0, r.stderr
    assert "reference baseline" in r.stderr
    assert validate_submission(tmp_path / "out", frames)[0] == []


def test_fifo_and_device_images_do_not_block_and_output_stays_complete(frames, tmp_path):
    import os
    import shutil

    src = tmp_path / "in"
    shutil.copytree(frames, src)
    video = next(src.rglob("images"))
    os.mkfifo(video / "fifo.png")  # opening it for reading would wait for a writer forever
    os.symlink("/dev/zero", video / "zero.jpg")  # a device that never ends
    r = run("landmark_detection", src, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "fifo.png: not a regular file" in r.stderr and "zero.jpg: not a regular file" in r.stderr
    out = tmp_path / "out" / video.relative_to(src)
    assert json.loads((out / "fifo.json").read_text())["points"] == []
    assert len(list((tmp_path / "out").rglob("*.json"))) == 6


def test_two_images_with_one_stem_never_overwrite(tmp_path):
    src = tmp_path / "in" / "s" / "v" / "images"
    src.mkdir(parents=True)
    Image.new("RGB", (64, 32), (200, 90, 80)).save(src / "000005.png")
    Image.new("RGB", (64, 32), (20, 90, 80)).save(src / "000005.jpg")
    r = run("landmark_detection", tmp_path / "in", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "share the output" in r.stderr and "000005.png is skipped" in r.stderr
    doc = json.loads((tmp_path / "out" / "s" / "v" / "images" / "000005.json").read_text())
    assert doc["imageFileName"] == "000005.jpg"  # the first in name order, written once


def test_an_output_that_cannot_be_written_exits_1(frames, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first = next(frames.rglob("images/*.png")).relative_to(frames)
    # a folder where the entrypoint must write a file: that one output cannot be written
    (out / first.parent / (first.stem + ".json")).mkdir(parents=True)
    r = run("landmark_detection", frames, out)
    assert r.returncode == 1
    assert "cannot write" in r.stderr and "wrote 3 of 4 files" in r.stderr


def test_the_templates_image_types_are_the_contracts():
    import ast

    from adaptor_score.contract import IMAGE_SUFFIXES

    tree = ast.parse((TEMPLATE / "entrypoint.py").read_text())
    found = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "IMAGE_SUFFIXES"
    )
    assert tuple(found) == IMAGE_SUFFIXES
    assert "SimpleITK" in (TEMPLATE / "requirements.txt").read_text()  # .mha/.nii are read


def test_an_unusable_output_folder_is_one_line_with_the_fix(frames, tmp_path):
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file where the output folder should be")
    r = run("landmark_detection", frames, not_a_folder)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot write to the output folder")
    assert "chmod 777" in lines[0] and "Traceback" not in r.stderr


def test_the_log_names_the_predictor_and_reports_progress(frames, tmp_path):
    r = run("landmark_detection", frames, tmp_path / "out", env={"ADAPTOR_PROGRESS_S": "0"})
    assert r.returncode == 0, r.stderr
    assert "predictor: example classical blob detector" in r.stderr
    assert "4/4 images" in r.stderr and "images/s" in r.stderr


def test_the_example_detector_stays_inside_the_field():
    """A dim surround (below the field level) with dark dots in it, as the round endoscope
    field's edge and corners can look: the dots there are never detected, while the same dots
    on the lit field are."""
    import sys

    sys.path.insert(0, str(TEMPLATE))
    try:
        from predictor import BlobDetector
    finally:
        sys.path.remove(str(TEMPLATE))
    yy, xx = np.mgrid[:288, :512]
    lit = np.hypot(xx - 256, yy - 144) < 110
    grey = np.where(lit, 150.0, 36.0)  # the surround just below the field level (40)
    dots = [(256 + dx, 144 + dy) for dx in (-60, 0, 60) for dy in (-40, 40)]  # on the field
    dots += [(x, y) for x in (30, 70, 110, 402, 442, 482) for y in (40, 144, 248)]  # dim surround
    for x, y in dots:
        grey[y - 2 : y + 3, x - 2 : x + 3] = 0.0
    image = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
    found = BlobDetector()([image])[0]
    far = np.hypot(found[:, 0] - 256, found[:, 1] - 144) > 125  # clear of the field's rim
    assert (~far).sum() >= 6 and not far.any(), found[far]


def test_grand_challenge_output_validates_and_scores_and_says_its_format(frames, tmp_path):
    from click.testing import CliRunner

    from adaptor_score.cli import main as score_main

    r = run("landmark_detection", frames, tmp_path / "out", "--format", "grand-challenge")
    assert r.returncode == 0, r.stderr
    v = CliRunner().invoke(score_main, ["validate", str(tmp_path / "out"), "--images", str(frames)])
    assert v.exit_code == 0, v.output
    assert "prediction files read: 4 grand-challenge" in v.output
    s = CliRunner().invoke(score_main, ["score", str(frames), str(tmp_path / "out"), "--strict"])
    assert s.exit_code == 0, s.output
    assert "prediction files read: 4 grand-challenge" in s.output


@pytest.mark.parametrize("fmt", ["challenge", "grand-challenge"])
def test_shallow_inputs_and_empty_results_validate_in_both_formats(tmp_path, fmt):
    """Images directly in the input folder (no folder/video/frame path) and results with no
    points: each file is read once and judged once, in either format."""
    from click.testing import CliRunner

    from adaptor_score.cli import main as score_main

    (tmp_path / "in" / "a").mkdir(parents=True)
    Image.new("RGB", (512, 288)).save(tmp_path / "in" / "a" / "x.png")  # black: nothing found
    Image.new("RGB", (512, 288)).save(tmp_path / "in" / "top.png")
    r = run("landmark_detection", tmp_path / "in", tmp_path / "out", "--format", fmt)
    assert r.returncode == 0, r.stderr
    v = CliRunner().invoke(
        score_main, ["validate", str(tmp_path / "out"), "--images", str(tmp_path / "in")]
    )
    assert v.exit_code == 0, v.output
    assert f"prediction files read: 2 {fmt}" in v.output
    (tmp_path / "out" / "a" / "x.json").write_text('{"points": [')
    v = CliRunner().invoke(
        score_main, ["validate", str(tmp_path / "out"), "--images", str(tmp_path / "in")]
    )
    assert v.exit_code == 1 and v.output.count("x.json") == 1  # one problem, not two


def _with_predictor(tmp_path, body: str) -> Path:
    """A copy of the template whose predictor.py returns what ``body`` builds."""
    import shutil

    app = tmp_path / "app"
    shutil.copytree(TEMPLATE, app, ignore=shutil.ignore_patterns("wheels", "weights"))
    (app / "predictor.py").write_text(
        "import numpy as np\n\n\ndef load_predictor():\n"
        f"    return lambda images: [{body} for _ in images]\n"
    )
    return app


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0]])", "shape (2, 3)"),  # (2, N)
        ("[{'x': 1, 'y': 2}]", "not (N, 2) numbers"),  # dicts
        ("np.array([[1.0, 2.0], [np.nan, 3.0]])", "NaN or infinite"),
        ("np.zeros((4,))", "shape (4,)"),
    ],
)
def test_a_predictor_that_breaks_its_contract_fails_the_run_saying_why(
    frames, tmp_path, body, said
):
    app = _with_predictor(tmp_path, body)
    env = {**__import__("os").environ, "ADAPTOR_INPUT": str(frames),
           "ADAPTOR_OUTPUT": str(tmp_path / "out")}  # fmt: skip
    r = subprocess.run(
        [sys.executable, str(app / "entrypoint.py"), "landmark_detection"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert said in r.stderr and "Traceback" not in r.stderr
    assert ".png" in r.stderr  # names the image


def test_present_weights_that_cannot_be_used_fail_loudly(frames, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    r = run("landmark_detection", frames, tmp_path / "out", env={"ADAPTOR_WEIGHTS": str(bad)})
    assert r.returncode == 1, r.stderr
    assert "the predictor could not be loaded" in r.stderr and "model.pt" in r.stderr
    assert "blob detector" not in r.stderr


def test_present_weights_without_the_baseline_package_fail_loudly(frames, tmp_path):
    """The container's situation: weights copied in, the package not installed."""
    app = tmp_path / "app"
    import shutil

    shutil.copytree(TEMPLATE, app, ignore=shutil.ignore_patterns("wheels", "weights"))
    (tmp_path / "model.pt").write_bytes(b"weights")
    import os

    env = {**os.environ, "ADAPTOR_INPUT": str(frames), "ADAPTOR_OUTPUT": str(tmp_path / "out"),
           "ADAPTOR_WEIGHTS": str(tmp_path / "model.pt")}  # fmt: skip
    # the toolkit is installed here; the import system is told to find none of it
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('adaptor_'): raise ImportError('no ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.path.insert(0, {str(app)!r}); sys.argv = ['entrypoint', 'landmark_detection']\n"
        f"import runpy; runpy.run_path({str(app / 'entrypoint.py')!r}, run_name='__main__')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr
    assert "adaptor_baseline cannot be imported" in r.stderr and "blob detector" not in r.stderr


@pytest.mark.parametrize("content", [b"not a checkpoint", b""])
def test_a_copy_with_weights_beside_its_predictor_uses_them_outside_a_container(
    frames, tmp_path, content
):
    """The quick start runs a copy of the template without $ADAPTOR_WEIGHTS: weights in its own
    weights/ folder are the copy's model (never the toy detector with exit 0)."""
    import os
    import shutil

    app = tmp_path / "my-submission"
    shutil.copytree(TEMPLATE, app, ignore=shutil.ignore_patterns("wheels"))
    (app / "weights" / "model.pt").write_bytes(content)
    env = {k: v for k, v in os.environ.items() if k != "ADAPTOR_WEIGHTS"}
    env.update(ADAPTOR_INPUT=str(frames), ADAPTOR_OUTPUT=str(tmp_path / "out"))
    r = subprocess.run([sys.executable, str(app / "entrypoint.py"), "landmark_detection"],
                       capture_output=True, text=True, env=env)  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "model.pt" in r.stderr and "blob detector" not in r.stderr
    (app / "weights" / "model.pt").unlink()  # no weights: the example detector, said so
    r = subprocess.run([sys.executable, str(app / "entrypoint.py"), "landmark_detection"],
                       capture_output=True, text=True, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_the_example_detector_never_puts_two_points_closer_than_its_spacing():
    """A flat-topped blob gave several equal maxima 1 px apart."""
    import numpy as np

    from submission_template.predictor import BlobDetector

    image = np.full((120, 160, 3), 150, np.uint8)
    image[50:56, 60:66] = 30  # a dark square: a flat top of the difference of Gaussians
    image[80:83, 100:103] = 40
    det = BlobDetector()
    (points,) = det([image])
    assert len(points)
    d = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert d.min() > det.spacing

import json

from PIL import Image

from adaptor_score.validate import validate_submission
from tests.evaluation.helpers import K1, K2


def make_images(root, keys, size=(512, 288)):
    for k in keys:
        p = root / k.folder / k.video / "images" / f"{k.frame}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size).save(p)


def write_out(out, key, points, **over):
    p = out / key.folder / key.video / "images" / f"{key.frame}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    obj = {
        "folderName": key.folder,
        "subfolderName": key.video,
        "imageFileName": f"{key.frame}.png",
        "points": [{"x": x, "y": y} for x, y in points],
    }
    obj.update(over)
    p.write_text(json.dumps(obj))
    return p


def setup(tmp_path):
    images, out = tmp_path / "in", tmp_path / "out"
    make_images(images, [K1, K2])
    write_out(out, K1, [(1, 2), (511.5, 287.9)])
    write_out(out, K2, [])
    return images, out


def test_clean_submission(tmp_path):
    images, out = setup(tmp_path)
    problems, n = validate_submission(out, images)
    assert problems == [] and n == 2


def test_each_kind_of_problem_is_reported(tmp_path):
    images, out = setup(tmp_path)
    write_out(out, K1, [(512, 10), (-1, 3)], folderName="wrong")
    (out / K2.folder / K2.video / "images" / f"{K2.frame}.json").unlink()
    (out / "stray.json").write_text("{}")
    problems, _ = validate_submission(out, images)
    text = "\n".join(p.problem for p in problems)
    assert "folderName is 'wrong'" in text
    assert "2 of 2 points lie outside the 512 x 288 image (first: points[0] = (512, 10))" in text
    assert "missing: no prediction for image" in text
    assert "no 'points' array" in text  # the stray file cannot be placed, and says why
    assert len(problems) == 4


def test_schema_problem_is_reported(tmp_path):
    images, out = setup(tmp_path)
    p = write_out(out, K2, [])
    p.write_text(
        '{"folderName": "a", "subfolderName": "b", "imageFileName": "c.png", "points": [{"x": NaN, "y": 0}]}'
    )
    problems, _ = validate_submission(out, images)
    assert [(pr.file, "NaN" in pr.problem) for pr in problems] == [(str(p), True)]


def test_missing_fields_reported(tmp_path):
    images, out = setup(tmp_path)
    p = out / K2.folder / K2.video / "images" / f"{K2.frame}.json"
    p.write_text('{"points": []}')
    problems, _ = validate_submission(out, images)
    assert [pr.problem for pr in problems] == ["lacks folderName, subfolderName and imageFileName"]


def test_validate_places_files_by_the_rule_score_uses(tmp_path):
    """A prediction tree in the labels' layout (<folder>/<video>/<frame>.json, no images/) or
    flat files with names: score places them, so validate must accept them too."""
    import shutil

    from adaptor_score.scoring import score

    images, out = setup(tmp_path)
    flat = tmp_path / "flat"
    for f in out.rglob("*.json"):
        rel = f.relative_to(out)
        target = flat / rel.parts[0] / rel.parts[1] / rel.name  # drop images/
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    problems, n = validate_submission(flat, images)
    assert problems == [] and n == 2
    anywhere = tmp_path / "anywhere"
    anywhere.mkdir()
    for i, f in enumerate(sorted(out.rglob("*.json"))):
        shutil.copy(f, anywhere / f"result-{i}.json")  # placed by the names inside
    assert validate_submission(anywhere, images)[0] == []
    labels = tmp_path / "gt"
    for f in out.rglob("*.json"):
        rel = f.relative_to(out)
        target = labels / rel.parts[0] / rel.parts[1] / "point_labels" / rel.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('{"points": []}')
    assert score(labels, anywhere).problems == []
    (anywhere / "result-9.json").write_text((anywhere / "result-0.json").read_text())
    problems, _ = validate_submission(anywhere, images)
    assert sum("2 files claim image" in p.problem for p in problems) == 2

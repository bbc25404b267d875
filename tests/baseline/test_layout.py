import json

import numpy as np
import pytest
from PIL import Image

from adaptor_baseline.data.layout import (
    LabelError,
    index_dataset,
    load_image,
    load_sample,
    read_labels,
    scale_points,
    unscale_points,
)


def frame(
    root,
    folder="s1",
    video="v1",
    name="000000",
    size=(512, 288),
    points=((10.5, 20.25),),
    label=True,
):
    img = root / folder / video / "images" / f"{name}.png"
    img.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(img)
    if label:
        lab = root / folder / video / "point_labels" / f"{name}.json"
        lab.parent.mkdir(parents=True, exist_ok=True)
        lab.write_text(json.dumps({"points": [{"x": x, "y": y} for x, y in points]}))
    return img


def test_missing_label_names_the_file(tmp_path):
    frame(tmp_path, label=False)
    assert index_dataset(tmp_path)[0].labels is None
    with pytest.raises(LabelError, match="point_labels/000000.json: missing label file"):
        index_dataset(tmp_path, require_labels=True)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{", "not valid JSON"),
        ('{"points": [{"x": "1", "y": 2}]}', "must be a number"),
        ('{"nothing": 1}', "no 'points' array"),
    ],
)
def test_malformed_labels_name_the_file(tmp_path, text, needle):
    frame(tmp_path)
    lab = tmp_path / "s1/v1/point_labels/000000.json"
    lab.write_text(text)
    with pytest.raises(LabelError) as e:
        read_labels(lab)
    assert e.value.file == str(lab) and needle in e.value.problem


def test_other_size_is_resized_with_points_and_scale_kept(tmp_path):
    frame(tmp_path, size=(1024, 576), points=((511.5, 287.5), (0.0, 0.0)))
    s = load_sample(index_dataset(tmp_path)[0], (512, 288))
    assert (
        s.image.shape == (288, 512, 3) and s.scale == (0.5, 0.5) and s.original_size == (1024, 576)
    )
    np.testing.assert_allclose(s.points, [[255.5, 143.5], [-0.25, -0.25]])
    np.testing.assert_allclose(unscale_points(s.points, *s.scale), [[511.5, 287.5], [0.0, 0.0]])


def test_scale_round_trip():
    pts = np.random.default_rng(0).uniform(0, 500, (20, 2))
    np.testing.assert_allclose(unscale_points(scale_points(pts, 0.37, 1.9), 0.37, 1.9), pts)


def test_metaimage_through_simpleitk(tmp_path):
    import SimpleITK as sitk

    arr = np.random.default_rng(0).integers(0, 255, (288, 512, 3), dtype=np.uint8)
    img = sitk.GetImageFromArray(arr, isVector=True)
    path = tmp_path / "s1" / "v1" / "images" / "000000.mha"
    path.parent.mkdir(parents=True)
    sitk.WriteImage(img, str(path))
    np.testing.assert_array_equal(load_image(path), arr)
    assert index_dataset(tmp_path)[0].key.frame == "000000"


def test_unreadable_image_names_the_file(tmp_path):
    p = frame(tmp_path)
    p.write_bytes(b"not a png")
    with pytest.raises(LabelError, match="000000.png: cannot read the image"):
        load_image(p)


def test_grey_images_become_rgb(tmp_path):
    p = tmp_path / "g.png"
    Image.new("L", (8, 4), 7).save(p)
    assert load_image(p).shape == (4, 8, 3)

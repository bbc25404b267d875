"""Builders for ground-truth and prediction trees used across the scoring tests."""

from __future__ import annotations

import json
from pathlib import Path

from adaptor_score.frames import FrameKey


def write_label(root: Path, key: FrameKey, points, size=(512, 288)) -> Path:
    f = root / key.folder / key.video / "point_labels" / f"{key.frame}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(
        json.dumps(
            {
                "points": [{"x": x, "y": y} for x, y in points],
                "imageWidth": size[0],
                "imageHeight": size[1],
            }
        )
    )
    return f


def write_prediction(
    root: Path, key: FrameKey, points, path: Path | None = None, fields=True
) -> Path:
    f = path or root / key.folder / key.video / f"{key.frame}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    obj = {"points": [{"x": x, "y": y} for x, y in points]}
    if fields:
        obj = {
            "folderName": key.folder,
            "subfolderName": key.video,
            "imageFileName": f"{key.frame}.png",
            **obj,
        }
    f.write_text(json.dumps(obj))
    return f


def make_tree(tmp_path: Path, frames: dict[FrameKey, tuple[list, list]]) -> tuple[Path, Path]:
    """Write labels and predictions for ``{key: (labels, predictions)}``; return (gt, pred) roots."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for key, (labels, preds) in frames.items():
        write_label(gt, key, labels)
        if preds is not None:
            write_prediction(pred, key, preds)
    pred.mkdir(exist_ok=True)
    return gt, pred


K1 = FrameKey("20190319_aa5346", "Ch1_008_V", "000000")
K2 = FrameKey("20190319_aa5346", "Ch1_008_V", "000001")
K3 = FrameKey("20190320_aa6528", "Ch1_002_V", "000000")


def write_points(path: Path, points, fields: tuple[str, str, str] | None = None) -> Path:
    """A points file at ``path`` (label or prediction), with the three name fields if given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    obj: dict = {"points": [{"x": x, "y": y} for x, y in points]}
    if fields is not None:
        obj = dict(zip(("folderName", "subfolderName", "imageFileName"), fields)) | obj
    path.write_text(json.dumps(obj))
    return path

"""Writing the challenge's submission format: one JSON per image, folder structure kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from adaptor_score import atomic


def prediction_document(
    folder: str, video: str, image_name: str, points: np.ndarray, decimals: int = 2
) -> dict:
    """``{"folderName", "subfolderName", "imageFileName", "points": [{"x", "y"}]}``.

    >>> prediction_document("aicm1", "VID000_0", "000000.png", np.array([[1.234, 5.0]]))["points"]
    [{'x': 1.23, 'y': 5.0}]
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all():
        raise ValueError(f"non-finite coordinates for {folder}/{video}/{image_name}")
    return {
        "folderName": folder,
        "subfolderName": video,
        "imageFileName": image_name,
        "points": [
            {"x": round(float(x), decimals), "y": round(float(y), decimals)} for x, y in pts
        ],
    }


def write_prediction(
    path: str | Path, folder: str, video: str, image_name: str, points: np.ndarray
) -> Path:
    """Write one prediction file atomically (a crash never leaves half a file behind)."""
    text = json.dumps(prediction_document(folder, video, image_name, points))
    return atomic.write_text(path, text)

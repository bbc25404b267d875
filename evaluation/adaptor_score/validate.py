"""Check a submission's output folder against the input images, before anyone scores it.

One JSON per image at the image's relative path with ``.json`` (folder structure kept), each with
``folderName``, ``subfolderName``, ``imageFileName`` matching that path, a ``points`` array of
finite ``{"x", "y"}`` numbers, and every point inside the image: ``0 <= x < width`` and
``0 <= y < height``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from adaptor_score.frames import Problem, key_from_relative_path
from adaptor_score.jsonfiles import (
    DEFAULT_MAX_BYTES,
    BadFile,
    _inside,
    decode_points_file,
    read_bytes,
    walk_files,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".mha", ".mhd")


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image, reading only its header."""
    if path.suffix.lower() in (".mha", ".mhd"):
        with open(path, "rb") as f:
            head = f.read(4096).decode("latin-1")
        m = re.search(r"^DimSize\s*=\s*(\d+)\s+(\d+)", head, re.MULTILINE)
        if not m:
            raise ValueError("no DimSize in the MetaImage header")
        return int(m.group(1)), int(m.group(2))
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def find_images(images_dir: Path) -> tuple[list[Path], list[Problem]]:
    images, problems = [], []
    for path, why in walk_files(images_dir, IMAGE_SUFFIXES):
        if why is None:
            images.append(Path(path))
        else:
            problems.append(Problem(path, why))
    return images, problems


def check_prediction_file(
    json_path: Path,
    image_rel: Path,
    size: tuple[int, int] | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str]:
    """Problems of one prediction file for the image at ``image_rel`` (relative path)."""
    try:
        fields, pts, _ = decode_points_file(read_bytes(json_path, max_bytes))
    except BadFile as e:
        return [str(e)]
    found = []
    if fields is None:
        found.append("lacks folderName, subfolderName and imageFileName")
    else:
        key = key_from_relative_path(image_rel)
        want = {"imageFileName": image_rel.name}
        if key is not None:
            want.update(folderName=key.folder, subfolderName=key.video)
        got = dict(zip(("folderName", "subfolderName", "imageFileName"), fields))
        for name, value in want.items():
            if got[name] != value:
                found.append(f"{name} is {got[name]!r} but the image path says {value!r}")
    if size is not None and len(pts):
        w, h = size
        outside = (pts[:, 0] < 0) | (pts[:, 0] >= w) | (pts[:, 1] < 0) | (pts[:, 1] >= h)
        if outside.any():
            i = int(outside.argmax())
            found.append(
                f"{int(outside.sum())} of {len(pts)} points lie outside the {w} x {h} image"
                f" (first: points[{i}] = ({pts[i, 0]:g}, {pts[i, 1]:g}))"
            )
    return found


def validate_submission(
    pred_dir: str | Path, images_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Problem], int]:
    """Check ``pred_dir`` against every image below ``images_dir``.

    Returns:
        ``(problems, images_checked)``; an empty problem list means the submission is clean.
    """
    pred_dir, images_dir = Path(pred_dir), Path(images_dir)
    if not images_dir.is_dir():
        return [Problem(str(images_dir), "image folder does not exist")], 0
    if not pred_dir.is_dir():
        return [Problem(str(pred_dir), "prediction folder does not exist")], 0
    images, problems = find_images(images_dir)
    if not images:
        problems.append(Problem(str(images_dir), f"no images ({', '.join(IMAGE_SUFFIXES)}) found"))
    expected = {}
    for img in images:
        rel = img.relative_to(images_dir)
        json_rel = rel.with_suffix(".json")
        if json_rel in expected:
            problems.append(Problem(str(img), f"two images map to the same output {json_rel}"))
            continue
        expected[json_rel] = rel
        try:
            size = image_size(img)
        except (OSError, ValueError) as e:
            problems.append(Problem(str(img), f"cannot read the image size: {e}"))
            size = None
        json_path = pred_dir / json_rel
        if json_path.is_symlink() and not _inside(os.path.realpath(pred_dir), str(json_path)):
            continue  # reported by the walk below; never read what lies outside
        if not json_path.is_file():
            problems.append(Problem(str(json_path), f"missing: no prediction for image {rel}"))
            continue
        for p in check_prediction_file(json_path, rel, size, max_bytes):
            problems.append(Problem(str(json_path), p))
    for path, why in walk_files(pred_dir, (".json",)):
        rel = Path(path).relative_to(pred_dir)
        if why is not None:
            problems.append(Problem(path, why))
        elif rel not in expected:
            problems.append(Problem(path, "no input image corresponds to this file"))
    return problems, len(images)

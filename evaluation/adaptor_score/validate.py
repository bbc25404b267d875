"""Check a submission's output folder against the input images, before anyone scores it.

One JSON per image at the image's relative path with ``.json`` (folder structure kept), each with
``folderName``, ``subfolderName``, ``imageFileName`` matching that path, a ``points`` array of
finite ``{"x", "y"}`` numbers, and every point inside the image: ``0 <= x < width`` and
``0 <= y < height``.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
from pathlib import Path

import numpy as np

from adaptor_score.contract import IMAGE_SUFFIXES, image_stem
from adaptor_score.frames import InputFileError, Problem, key_from_relative_path
from adaptor_score.jsonfiles import DEFAULT_MAX_BYTES, GRAND_CHALLENGE
from adaptor_score.predictions import check_prediction_folder, claim_tree
from adaptor_score.safefiles import open_regular, walk_files

# A header claiming more pixels than this is refused (Pillow's decompression-bomb limit is 2 x
# 89 M pixels; a frame has 147 k).
MAX_IMAGE_PIXELS = 1 << 28


def _nifti_size(head: bytes) -> tuple[int, int]:
    for order in "<>":
        (sizeof_hdr,) = struct.unpack_from(order + "i", head, 0)
        if sizeof_hdr == 348:  # NIfTI-1: dim[8] int16 at byte 40
            dims = struct.unpack_from(order + "8h", head, 40)
            return int(dims[1]), int(dims[2])
        if sizeof_hdr == 540:  # NIfTI-2: dim[8] int64 at byte 16
            dims = struct.unpack_from(order + "8q", head, 16)
            return int(dims[1]), int(dims[2])
    raise ValueError("not a NIfTI header (sizeof_hdr is neither 348 nor 540)")


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image of any type the contract names, reading only its header.

    Opens regular files only (a FIFO or device named ``*.png`` is refused, never read). Raises
    ``ValueError`` (or :class:`BadFile`) with the reason.
    """
    fd, _ = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        name = path.name.lower()
        if name.endswith((".mha", ".mhd")):
            head = f.read(4096).decode("latin-1")
            m = re.search(r"^DimSize\s*=\s*(\d+)\s+(\d+)", head, re.MULTILINE)
            if not m:
                raise ValueError("no DimSize in the MetaImage header")
            w, h = int(m.group(1)), int(m.group(2))
        elif name.endswith(".nii"):
            w, h = _nifti_size(f.read(540).ljust(540, b"\0"))
        elif name.endswith(".nii.gz"):
            with gzip.GzipFile(fileobj=f) as g:
                w, h = _nifti_size(g.read(540).ljust(540, b"\0"))
        else:
            from PIL import Image

            with Image.open(f) as im:
                w, h = im.size
    if w <= 0 or h <= 0 or w * h > MAX_IMAGE_PIXELS:
        raise ValueError(f"the header claims {w} x {h} pixels")
    return w, h


def find_images(images_dir: Path) -> tuple[list[Path], list[Problem]]:
    images, problems = [], []
    for path, why in walk_files(images_dir, IMAGE_SUFFIXES):
        if why is None:
            images.append(Path(path))
        else:
            problems.append(Problem(path, why))
    return images, problems


def check_contents(
    fields, pts: np.ndarray, fmt: str, image_rel: Path, size: tuple[int, int] | None
) -> list[str]:
    """Problems of one decoded prediction for the image at ``image_rel``: names that disagree
    with the image's path, a challenge-format file without names, points outside the image."""
    found = []
    if fields is None:
        # Grand-Challenge's format carries no names: such a file is placed by its path alone.
        if fmt != GRAND_CHALLENGE:
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


def expected_outputs(
    images: list[Path], images_dir: Path
) -> tuple[dict[Path, Path], list[Problem]]:
    """``{output json relative path: image relative path}`` for the images below ``images_dir``:
    one ``<stem>.json`` next to where the image sits. Two images with one stem in one folder
    (``000005.png`` and ``000005.jpg``) map to one output: the second is a problem."""
    expected: dict[Path, Path] = {}
    problems = []
    for img in images:
        rel = img.relative_to(images_dir)
        json_rel = rel.parent / (image_stem(rel.name) + ".json")
        if json_rel in expected:
            problems.append(
                Problem(
                    str(img), f"two images map to the same output {json_rel} ({expected[json_rel]})"
                )
            )
            continue
        expected[json_rel] = rel
    return expected, problems


def missing_outputs(pred_dir: str | Path, images_dir: str | Path) -> tuple[int, int]:
    """``(missing, expected)``: how many images below ``images_dir`` have no output file (of any
    kind) at their place below ``pred_dir``. What the files hold is not checked here."""
    images, _ = find_images(Path(images_dir))
    expected, _ = expected_outputs(images, Path(images_dir))
    missing = sum(1 for rel in expected if not os.path.lexists(Path(pred_dir) / rel))
    return missing, len(expected)


def _shallow_problems(json_path, rel, size, by_path, unplaced, handled: set) -> list[Problem]:
    """An image whose path names no frame: its file is the one at the image's relative path."""
    json_path = str(json_path)
    c = unplaced.get(json_path) or by_path.get(json_path, (None, None))[1]
    handled.add(json_path)
    if c is None:
        return [Problem(json_path, f"missing: no prediction for image {rel}")]
    if c.points is None:  # it could not be read or decoded
        return [Problem(json_path, c.problem)]
    return [Problem(json_path, p) for p in check_contents(c.fields, c.points, c.format, rel, size)]


def _frame_problems(mirror, rel, size, got: list, by_path, handled: set) -> list[Problem]:
    """An image of a frame, answered by the files ``got`` placed on that frame (as score places
    them); ``mirror`` is the file at the image's own relative path."""
    mirror = str(mirror)
    if not got:
        if mirror not in by_path:
            return [Problem(mirror, f"missing: no prediction for image {rel}")]
        other, c = by_path[mirror]  # the file at the image's place names another frame
        handled.add(mirror)
        found = check_contents(c.fields, c.points, c.format, rel, size)
        consequence = (
            f": it is placed on frame {other} (as score places it), so image {rel} has"
            " no prediction"
        )
        first = Problem(mirror, (found[0] if found else "it names another frame") + consequence)
        return [first, *(Problem(mirror, p) for p in found[1:])]
    if len(got) > 1:
        names = ", ".join(c.path for c in got)
        return [Problem(c.path, f"{len(got)} files claim image {rel} ({names})") for c in got]
    c = got[0]
    if c.problem is not None:
        return [Problem(c.path, c.problem)]
    return [Problem(c.path, p) for p in check_contents(c.fields, c.points, c.format, rel, size)]


def check_folders(pred_dir: Path, images_dir: Path) -> None:
    """Either folder missing, not a folder or unlistable stops the check with
    :class:`~adaptor_score.frames.InputFileError` naming it (exit 2, as ``score`` does): a
    mistyped path is no submission with problems."""
    if not images_dir.is_dir():
        why = "is not a folder" if images_dir.exists() else "does not exist"
        raise InputFileError(images_dir, f"the image folder {why}; nothing was checked")
    check_prediction_folder(pred_dir)


def validate_submission(
    pred_dir: str | Path,
    images_dir: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    formats: dict | None = None,
) -> tuple[list[Problem], int]:
    """Check ``pred_dir`` against every image below ``images_dir``.

    Returns:
        ``(problems, images_checked)``; an empty problem list means the submission is clean.
        ``formats``, when given, receives the count of files read in each format.
    """
    pred_dir, images_dir = Path(pred_dir), Path(images_dir)
    check_folders(pred_dir, images_dir)
    images, problems = find_images(images_dir)
    if not images:
        problems.append(Problem(str(images_dir), f"no images ({', '.join(IMAGE_SUFFIXES)}) found"))
    expected, clashes = expected_outputs(images, images_dir)
    problems.extend(clashes)
    # Files are placed on frames by the rule `score` uses (names first, then the path); an image
    # whose path names no frame (a shallow input) expects the file at its own relative path.
    tree = claim_tree(pred_dir, max_bytes)
    if formats is not None:
        for fmt, n in tree.formats.items():
            formats[fmt] = formats.get(fmt, 0) + n
    handled: set[str] = set()  # files already reported for the image they answer
    by_path = {c.path: (k, c) for k, found in tree.claims.items() for c in found}
    unplaced = {c.path: c for c in tree.unplaced}
    for json_rel, rel in expected.items():
        img = images_dir / rel
        try:
            size = image_size(img)
        except Exception as e:  # any reader error (Pillow's DecompressionBombError too)
            problems.append(Problem(str(img), f"cannot read the image size: {e}"))
            size = None
        key = key_from_relative_path(rel)
        if key is None:  # a shallow input: its file is the one at the image's relative path
            problems += _shallow_problems(
                pred_dir / json_rel, rel, size, by_path, unplaced, handled
            )
        else:
            got = tree.claims.pop(key, [])
            problems += _frame_problems(pred_dir / json_rel, rel, size, got, by_path, handled)
    for key, found in tree.claims.items():
        for c in found:
            if c.path not in handled:
                problems.append(
                    Problem(c.path, c.problem or f"no input image corresponds to this file ({key})")
                )
    problems.extend(Problem(c.path, c.problem) for c in tree.unplaced if c.path not in handled)
    return problems, len(images)

"""AdaptOR 2021 container entrypoint: the challenge's contract, so your model only predicts.

    docker run --gpus all -v "<in>:/input:ro" -v "<out>:/output" IMAGE landmark_detection
    docker run ... IMAGE domain_transformation            # optional task

``landmark_detection`` finds every image below the input folder (any depth; PNG, JPEG, and .mha/
.mhd/.nii through SimpleITK when installed), asks ``predictor.load_predictor()`` for points, and
writes one JSON per image at the same relative path with ``.json``:

    {"folderName": "aicm1", "subfolderName": "VID000_0", "imageFileName": "000000.png",
     "points": [{"x": 1.0, "y": 2.0}]}

An image with no detection gets an empty ``points`` list, never a missing file. An image that
cannot be read is reported on stderr and still gets a file with empty ``points``, and the rest are
processed; the exit status is 0 when every image was read, 3 when some could not be.
``domain_transformation`` writes one same-size PNG per image (``predictor.translate_domain``).

Settings (environment variables, so the same entrypoint runs outside a container):
``ADAPTOR_INPUT`` (default ``/input``), ``ADAPTOR_OUTPUT`` (default ``/output``),
``ADAPTOR_OUTPUT_FORMAT`` = ``challenge`` (default) or ``grand-challenge`` ("Multiple points"
JSON), ``ADAPTOR_BATCH`` (images per predictor call, default 4). ``--format`` overrides the format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".mha", ".mhd", ".nii", ".nii.gz")
COMMANDS = ("landmark_detection", "domain_transformation")
LAYOUT_SUBFOLDERS = {"images", "point_labels"}
EXIT_UNREADABLE = 3


def find_images(root: Path) -> list[Path]:
    """Every image file below ``root``, sorted; symlinked folders are not followed."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(dirpath) / name)
    return found


def read_image(path: Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB."""
    name = path.name.lower()
    if name.endswith((".mha", ".mhd", ".nii", ".nii.gz")):
        import SimpleITK as sitk  # only needed for Grand-Challenge style inputs

        arr = np.squeeze(sitk.GetArrayFromImage(sitk.ReadImage(str(path))))
        if arr.dtype != np.uint8:
            lo, hi = float(arr.min()), float(arr.max())
            arr = ((arr - lo) / (hi - lo if hi > lo else 1) * 255).astype(np.uint8)
    else:
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr[..., :3])


def stem(name: str) -> str:
    low = name.lower()
    for suffix in IMAGE_SUFFIXES:
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


def frame_names(rel: Path, input_root: Path) -> tuple[str, str]:
    """(folderName, subfolderName) from ``<folder>/<video>/[images/]<frame>``; shallower inputs
    use what folders there are, then the input folder's name."""
    parts = [p for p in rel.parent.parts if p]
    if parts and parts[-1] in LAYOUT_SUBFOLDERS:
        parts = parts[:-1]
    names = [input_root.name or "input"] * 2 + parts
    return names[-2], names[-1]


def document(rel: Path, input_root: Path, points: np.ndarray, fmt: str) -> dict:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if fmt == "grand-challenge":
        return {
            "type": "Multiple points",
            "version": {"major": 1, "minor": 0},
            "points": [{"point": [round(float(x), 2), round(float(y), 2), 0]} for x, y in pts],
        }
    folder, video = frame_names(rel, input_root)
    return {
        "folderName": folder,
        "subfolderName": video,
        "imageFileName": rel.name,
        "points": [{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in pts],
    }


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def landmark_detection(input_root: Path, output_root: Path, fmt: str, batch: int) -> int:
    from predictor import load_predictor

    images = find_images(input_root)
    print(f"landmark_detection: {len(images)} images below {input_root}", file=sys.stderr)
    predictor = load_predictor()
    failed = 0
    t0 = time.perf_counter()
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        arrays, readable = [], []
        for path in chunk:
            try:
                arrays.append(read_image(path))
                readable.append(path)
            except Exception as e:  # report, write an empty result, go on with the rest
                failed += 1
                print(f"error: cannot read {path}: {e}", file=sys.stderr)
                rel = path.relative_to(input_root)
                target = output_root / rel.parent / (stem(rel.name) + ".json")
                write_atomic(
                    target, json.dumps(document(rel, input_root, np.zeros((0, 2)), fmt)).encode()
                )
        results = predictor(arrays) if arrays else []
        if len(results) != len(readable):
            raise RuntimeError(
                f"predictor returned {len(results)} results for {len(readable)} images"
            )
        for path, points in zip(readable, results):
            rel = path.relative_to(input_root)
            target = output_root / rel.parent / (stem(rel.name) + ".json")
            write_atomic(target, json.dumps(document(rel, input_root, points, fmt)).encode())
    seconds = time.perf_counter() - t0
    print(
        f"landmark_detection: wrote {len(images)} files in {seconds:.1f} s"
        + (f"; {failed} images could not be read" if failed else ""),
        file=sys.stderr,
    )
    return EXIT_UNREADABLE if failed else 0


def domain_transformation(input_root: Path, output_root: Path) -> int:
    from PIL import Image
    from predictor import translate_domain

    failed = 0
    images = find_images(input_root)
    for path in images:
        rel = path.relative_to(input_root)
        try:
            image = read_image(path)
        except Exception as e:
            failed += 1
            print(f"error: cannot read {path}: {e}", file=sys.stderr)
            continue
        out = translate_domain(image)
        if out.shape != image.shape:
            raise RuntimeError(
                f"translate_domain changed the size of {rel}: {image.shape} -> {out.shape}"
            )
        target = output_root / rel.parent / (stem(rel.name) + ".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(out).save(target)
    print(f"domain_transformation: wrote {len(images) - failed} images", file=sys.stderr)
    return EXIT_UNREADABLE if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="entrypoint",
        description="AdaptOR 2021 submission: " + " | ".join(COMMANDS),
        epilog="Input/output: ADAPTOR_INPUT (/input), ADAPTOR_OUTPUT (/output).",
    )
    parser.add_argument("command", nargs="?", help=f"one of: {', '.join(COMMANDS)}")
    parser.add_argument(
        "--format",
        choices=["challenge", "grand-challenge"],
        default=os.environ.get("ADAPTOR_OUTPUT_FORMAT", "challenge"),
    )
    args = parser.parse_args(argv)
    if args.command not in COMMANDS:
        given = "no command" if args.command is None else f"unknown command {args.command!r}"
        print(
            f"{given}. This container understands:\n"
            "  landmark_detection     detect suture points in every image below the input folder\n"
            "                         and write one JSON per image to the output folder (required)\n"
            "  domain_transformation  write each image translated to the other domain (optional)\n"
            'Example: docker run -v "$PWD/in:/input:ro" -v "$PWD/out:/output" IMAGE landmark_detection',
            file=sys.stderr,
        )
        return 2
    input_root = Path(os.environ.get("ADAPTOR_INPUT", "/input"))
    output_root = Path(os.environ.get("ADAPTOR_OUTPUT", "/output"))
    if not input_root.is_dir():
        print(f"error: input folder {input_root} does not exist", file=sys.stderr)
        return 2
    output_root.mkdir(parents=True, exist_ok=True)
    if args.command == "landmark_detection":
        return landmark_detection(
            input_root, output_root, args.format, int(os.environ.get("ADAPTOR_BATCH", "4"))
        )
    return domain_transformation(input_root, output_root)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

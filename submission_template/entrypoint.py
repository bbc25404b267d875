"""AdaptOR 2021 container entrypoint: the challenge's contract, so your model only predicts.

    docker run --gpus all -v "<in>:/input:ro" -v "<out>:/output" IMAGE landmark_detection
    docker run ... IMAGE domain_transformation            # optional task

``landmark_detection`` finds every image below the input folder (any depth; PNG, JPEG, and .mha/
.mhd/.nii through SimpleITK when installed), asks ``predictor.load_predictor()`` for points, and
writes one JSON per image at the same relative path with ``.json``:

    {"folderName": "aicm1", "subfolderName": "VID000_0", "imageFileName": "000000.png",
     "points": [{"x": 1.0, "y": 2.0}]}

An image with no detection gets an empty ``points`` list, never a missing file. An image that
cannot be read (a broken file, or something that is not a regular file, such as a FIFO named
``*.png``) is reported on stderr as a warning and still gets a file with empty ``points``; the rest
are processed. Two images with one stem in one folder (``000005.png`` and ``000005.jpg``) would
share one output file: the first in name order is used, the other is reported and skipped, never
written over it.

Exit status: **0 when the output is complete** (one file for every output name), warnings or
not, so that a frame the organisers' data could not give us never costs a submission; 1 when some
output could not be written; 2 for an unknown command or a missing input folder.
``domain_transformation`` writes one same-size PNG per image (``predictor.translate_domain``); an
image it cannot read leaves its output missing, so it exits 1. A predictor without
``translate_domain`` does not offer the optional task: the command says so, writes nothing and
exits 2 (the leaderboard records "not offered").

Settings (environment variables, so the same entrypoint runs outside a container):
``ADAPTOR_INPUT`` (default ``/input``), ``ADAPTOR_OUTPUT`` (default ``/output``),
``ADAPTOR_OUTPUT_FORMAT`` = ``challenge`` (default) or ``grand-challenge`` ("Multiple points"
JSON), ``ADAPTOR_BATCH`` (images per predictor call, default 4). ``--format`` overrides the format.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from imagefile import (  # the toolkit's reader, copied byte for byte (a test checks)
    ImageError,
    read_image,
)

# The contract's image types (the toolkit's adaptor_score.contract; a test keeps them equal).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".mha", ".mhd", ".nii", ".nii.gz")
COMMANDS = ("landmark_detection", "domain_transformation")
LAYOUT_SUBFOLDERS = {"images", "point_labels"}
EXIT_INCOMPLETE = 1
EXIT_NOT_OFFERED = 2  # domain_transformation without predictor.translate_domain
MAX_DEPTH = 32


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def find_images(root: Path) -> list[Path]:
    """Every image name below ``root`` (files of any kind: what cannot be read is reported when
    it is read), sorted; iterative, symlinked folders not followed, at most ``MAX_DEPTH`` deep."""
    found = []
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            warn(f"cannot list {folder}: {e.strerror or e}")
            continue
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH:
                    subdirs.append((Path(entry.path), depth + 1))
                else:
                    warn(f"{entry.path} is nested deeper than {MAX_DEPTH} folders; not read")
            elif entry.name.lower().endswith(IMAGE_SUFFIXES):
                found.append(Path(entry.path))
        stack.extend(reversed(subdirs))
    return found


class PredictorContractError(Exception):
    """The predictor returned something other than the documented ``(N, 2)`` points."""


def check_points(points, image: Path) -> np.ndarray:
    """``points`` as ``(N, 2)`` float64 if it is what the predictor promises; else
    :class:`PredictorContractError` saying what was wrong. Seen before this check: a ``(2, N)``
    array was silently reshaped into wrong points, dicts ended in a raw ``TypeError``, and NaN
    points vanished without a word.
    """
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise PredictorContractError(
            f"predictor returned {type(points).__name__} for {image}, not (N, 2) numbers ({e})"
        ) from None
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        hint = " (transposed? one row per point)" if arr.ndim == 2 and arr.shape[0] == 2 else ""
        raise PredictorContractError(
            f"predictor returned an array of shape {arr.shape} for {image}; expected (N, 2){hint}"
        )
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise PredictorContractError(
            f"predictor returned {int(bad.sum())} point(s) with NaN or infinite coordinates for"
            f" {image}; return only the points you found"
        )
    return arr


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
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)  # checked by check_points
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


def output_problem(output_root: Path) -> str | None:
    """Why results cannot be written to ``output_root`` (None when they can), in one line with
    the usual fix: the container runs as an unprivileged user, so a folder created by root on the
    host is not writable for it."""
    try:
        output_root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=output_root, prefix=".probe-", delete=True)
        probe.close()
    except OSError as e:
        return (
            f"cannot write to the output folder {output_root} ({e.strerror or e}); make it"
            f" writable for user {os.getuid()}: `mkdir -p out && chmod 777 out`, or run with"
            " `docker run --user $(id -u):$(id -g) ...`"
        )
    return None


class Progress:
    """Plain progress lines on stderr (container logs have no terminal): done/total, rate and
    time left, at most every ``every`` seconds and at the end."""

    def __init__(self, what: str, total: int, every: float = 10.0):
        self.what, self.total, self.every = what, total, every
        self.t0 = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every and done < self.total:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        left = (self.total - done) / rate if rate > 0 else float("inf")
        print(
            f"{self.what}: {done}/{self.total} images, {rate:.1f} images/s, about {left:.0f} s left",
            file=sys.stderr,
        )


def output_names(images: list[Path], input_root: Path) -> list[tuple[Path, Path]]:
    """``(image, output json)`` pairs; an image whose output name an earlier image (in name
    order) already has is reported and left out, so no output is ever written twice."""
    taken: dict[Path, Path] = {}
    pairs = []
    for path in images:
        rel = path.relative_to(input_root)
        target = rel.parent / (stem(rel.name) + ".json")
        if target in taken:
            warn(
                f"{rel} and {taken[target].relative_to(input_root)} share the output {target}; {rel} is skipped"
            )
            continue
        taken[target] = path
        pairs.append((path, target))
    return pairs


def write_atomic(path: Path, data: bytes) -> None:
    """Complete or absent: a temporary file beside ``path``, flushed, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def landmark_detection(input_root: Path, output_root: Path, fmt: str, batch: int) -> int:
    from predictor import load_predictor

    pairs = output_names(find_images(input_root), input_root)
    print(f"landmark_detection: {len(pairs)} images below {input_root}", file=sys.stderr)
    try:
        predictor = load_predictor()
    except Exception as e:  # configured weights that cannot be used fail the run, loudly
        raise PredictorContractError(f"the predictor could not be loaded: {e}") from None
    # A predictor may describe itself (the example's says what it is); else its class name.
    description = getattr(predictor, "description", type(predictor).__name__)
    print(f"landmark_detection: predictor: {description}", file=sys.stderr)
    progress = Progress(
        "landmark_detection", len(pairs), float(os.environ.get("ADAPTOR_PROGRESS_S", 10))
    )
    unreadable = unwritten = 0
    t0 = time.perf_counter()

    def write(path: Path, target: Path, points) -> None:
        nonlocal unwritten
        rel = path.relative_to(input_root)
        try:
            write_atomic(
                output_root / target, json.dumps(document(rel, input_root, points, fmt)).encode()
            )
        except OSError as e:
            unwritten += 1
            print(f"error: cannot write {output_root / target}: {e}", file=sys.stderr)

    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        arrays, readable = [], []
        for path, target in chunk:
            try:
                arrays.append(read_image(path))
                readable.append((path, target))
            except ImageError as e:  # warn, write an empty result, go on with the rest
                unreadable += 1
                warn(f"cannot read {e}; its result is empty")
                write(path, target, np.zeros((0, 2)))
        results = list(predictor(arrays)) if arrays else []
        if len(results) != len(readable):
            raise PredictorContractError(
                f"predictor returned {len(results)} results for {len(readable)} images"
            )
        for (path, target), points in zip(readable, results):
            write(path, target, check_points(points, path.relative_to(input_root)))
        progress.update(min(start + batch, len(pairs)))
    seconds = time.perf_counter() - t0
    print(
        f"landmark_detection: wrote {len(pairs) - unwritten} of {len(pairs)} files in"
        f" {seconds:.1f} s"
        + (f"; {unreadable} images could not be read (empty results)" if unreadable else ""),
        file=sys.stderr,
    )
    return EXIT_INCOMPLETE if unwritten else 0


def domain_transformation(input_root: Path, output_root: Path) -> int:
    import predictor  # a predictor that cannot be imported fails loudly, as for landmarks
    from PIL import Image

    translate_domain = getattr(predictor, "translate_domain", None)
    if translate_domain is None:  # the task is optional: say so, write nothing
        print(
            "domain_transformation: not offered (predictor.py defines no translate_domain);"
            " nothing was written",
            file=sys.stderr,
        )
        return EXIT_NOT_OFFERED
    failed = 0
    images = [path for path, _ in output_names(find_images(input_root), input_root)]
    for path in images:
        rel = path.relative_to(input_root)
        try:
            image = read_image(path)
        except ImageError as e:
            failed += 1
            print(f"error: cannot read {e}; no output for it", file=sys.stderr)
            continue
        out = translate_domain(image)
        if out.shape != image.shape:
            raise RuntimeError(
                f"translate_domain changed the size of {rel}: {image.shape} -> {out.shape}"
            )
        target = output_root / rel.parent / (stem(rel.name) + ".png")
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "PNG")
        write_atomic(target, buf.getvalue())
    print(f"domain_transformation: wrote {len(images) - failed} images", file=sys.stderr)
    return EXIT_INCOMPLETE if failed else 0


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
    problem = output_problem(output_root)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        if args.command == "landmark_detection":
            return landmark_detection(
                input_root, output_root, args.format, int(os.environ.get("ADAPTOR_BATCH", "4"))
            )
        return domain_transformation(input_root, output_root)
    except PredictorContractError as e:  # the model's side: said plainly, the run fails
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INCOMPLETE


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

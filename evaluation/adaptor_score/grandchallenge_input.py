"""A Grand-Challenge evaluation input made from a folder of outputs, for a local dry run.

Grand-Challenge hands an evaluation container ``/input/predictions.json`` (one job per input
image) and, for file outputs, ``/input/<pk>/output/<relative_path>``. This writes the same from a
prediction folder in the release layout (``folder/video/<frame>.json``, what a container writes
under ``/output``): each file becomes a job whose input image is named as ``adaptor-leaderboard
test-input --flat`` names it (``folder__video__frame.png``) and whose "Multiple points" output
holds the file's points (``[x, y, 0]``), inline or as a file. ``adaptor-score grand-challenge``
then scores it exactly as the uploaded method would be scored. A file that cannot be read is
listed and left out (its frame then scores as no predictions, as on Grand-Challenge).
"""

from __future__ import annotations

from pathlib import Path

from adaptor_score import atomic
from adaptor_score.contract import DEFAULT_MAX_BYTES
from adaptor_score.frames import InputFileError, key_from_relative_path
from adaptor_score.grandchallenge import FLAT_SEPARATOR, POINTS_KIND
from adaptor_score.outputs import dumps
from adaptor_score.safefiles import BadFile, read_bytes, walk_files

INTERFACE = {"slug": "suture-points", "kind": POINTS_KIND, "relative_path": "suture-points.json"}
IMAGE_INTERFACE = {"slug": "endoscopic-image", "kind": "Image",
                   "relative_path": "images/endoscopic-image"}  # fmt: skip


def points_value(points) -> dict:
    """Grand-Challenge's "Multiple points" object of ``(N, 2)`` points."""
    return {"type": POINTS_KIND, "version": {"major": 1, "minor": 0},
            "points": [{"point": [float(x), float(y), 0.0]} for x, y in points]}  # fmt: skip


def make_input(pred_dir: str | Path, out_dir: str | Path, files: bool = False,
               max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[int, list[str]]:  # fmt: skip
    """Write ``out_dir/predictions.json`` (and, with ``files``, each job's output file) from the
    outputs below ``pred_dir``. Returns ``(jobs, problems)``."""
    import json

    from adaptor_score.jsonfiles import parse_points

    pred_dir, out_dir = Path(pred_dir), Path(out_dir)
    if not pred_dir.is_dir():
        raise InputFileError(pred_dir, "the output folder does not exist")
    jobs, problems, seen = [], [], set()
    for path, why in walk_files(pred_dir, (".json",)):
        if why is not None:
            problems.append(f"{path}: {why}")
            continue
        key = key_from_relative_path(Path(path).relative_to(pred_dir))
        if key is None or any(FLAT_SEPARATOR in part for part in key):
            problems.append(f"{path}: names no frame <folder>/<video>/<frame>.json")
            continue
        if key in seen:
            problems.append(f"{path}: a second output for frame {'/'.join(key)}")
            continue
        try:
            points = parse_points(json.loads(read_bytes(Path(path), max_bytes)))
        except (BadFile, ValueError, RecursionError) as e:
            problems.append(f"{path}: {e}")
            continue
        seen.add(key)
        pk = f"job-{len(jobs):06d}"
        value = points_value(points)
        if files:
            atomic.write_text(out_dir / pk / "output" / INTERFACE["relative_path"], dumps(value))
        jobs.append({
            "pk": pk, "status": "Succeeded",
            "inputs": [{"interface": IMAGE_INTERFACE,
                        "image": {"name": FLAT_SEPARATOR.join(key) + ".png", "pk": f"img-{pk}"}}],
            "outputs": [{"interface": INTERFACE, "value": None if files else value,
                         "file": None}],
        })  # fmt: skip
    atomic.write_text(out_dir / "predictions.json", dumps(jobs) + "\n")
    return len(jobs), problems

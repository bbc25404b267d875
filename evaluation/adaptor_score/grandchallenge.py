"""The scoring image as a Grand-Challenge evaluation method, unchanged.

Grand-Challenge gives an evaluation container ``/input/predictions.json``: one entry per
algorithm job, with the job's ``pk``, its ``inputs`` (the image it was given, ``image.name``)
and its ``outputs``, each naming its interface (``kind``, ``relative_path``). A JSON interface's
output (our "Multiple points") comes inline as ``value``; a file interface's lies at
``/input/<pk>/output/<relative_path>``. The ground truth is in the image (or mounted) in the
release layout. The container writes ``/output/metrics.json``:

* ``case``: per input image, TP/FP/FN/F1 at each radius (and the frame it was scored as);
* ``aggregates``: pooled PPV, TPR, F1 and RMSE per radius, the challenge's numbers.

How an image name becomes a frame: a mapping CSV (``image,folder,video,frame``) when given, else
the name itself as ``<folder>__<video>__<frame>.<ext>`` (what ``adaptor-leaderboard test-input
--flat`` would upload). Every output is written into a private tree in the release layout and
scored by :func:`adaptor_score.scoring.score`, the function ``adaptor-score score`` calls, so the
numbers are those of ``adaptor-score score`` on the same outputs, problems included: a job that
failed, a missing or broken output and an image no frame matches are listed, never dropped
silently; a frame without an output scores as no predictions, as in the challenge's rule.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from adaptor_score.contract import DEFAULT_MAX_BYTES, REPORT_RADII
from adaptor_score.frames import FrameKey, InputFileError
from adaptor_score.metrics import ratios
from adaptor_score.outputs import dumps, write_json
from adaptor_score.pathguard import PathError, child
from adaptor_score.safefiles import BadFile, read_bytes, read_text
from adaptor_score.scoring import score

POINTS_KIND = "Multiple points"
FLAT_SEPARATOR = "__"


class _Interface(msgspec.Struct):
    slug: str = ""
    kind: str = ""
    relative_path: str = ""


class _Image(msgspec.Struct):
    name: str


class _Socket(msgspec.Struct):
    interface: _Interface
    image: _Image | None = None
    value: Any = None
    file: str | None = None


class _Job(msgspec.Struct):
    pk: str
    inputs: list[_Socket] = []
    outputs: list[_Socket] = []
    status: str = "Succeeded"


class GrandChallengeError(InputFileError):
    """An evaluation input that cannot be used as a whole; names the file."""


def read_jobs(path: Path, max_bytes: int = 64 << 20) -> list[_Job]:
    """The jobs of ``predictions.json``, checked against their declared shape."""
    try:
        return msgspec.json.decode(read_bytes(path, max_bytes), type=list[_Job])
    except BadFile as e:
        raise GrandChallengeError(path, str(e)) from None
    except msgspec.ValidationError as e:
        raise GrandChallengeError(path, f"not Grand-Challenge's predictions list: {e}") from None
    except msgspec.DecodeError as e:
        raise GrandChallengeError(path, f"not valid JSON: {e}") from None
    except RecursionError:
        raise GrandChallengeError(path, "not valid JSON: nested too deeply") from None


MAX_DEPTH = 32  # an output is {"points": [{"x": .., "y": ..}]}: 3 levels; far deeper is no output


def too_deep(value, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` (decoded JSON) nests deeper than ``limit``; iterative, so a value
    nested 100,000 deep is measured, never a RecursionError.

    >>> too_deep({"points": [{"x": 1}]}), too_deep([[[[1]]]], limit=3)
    (False, True)
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return False


def read_mapping(path: Path) -> dict[str, FrameKey]:
    """``image name -> frame`` from a CSV with the columns ``image,folder,video,frame``."""
    try:
        rows = list(csv.DictReader(io.StringIO(read_text(path, 16 << 20))))
    except (BadFile, csv.Error) as e:
        raise GrandChallengeError(path, str(e)) from None
    out = {}
    for i, r in enumerate(rows, start=2):
        if not all(r.get(k) for k in ("image", "folder", "video", "frame")):
            raise GrandChallengeError(path, f"line {i}: needs image, folder, video and frame")
        if r["image"] in out:
            raise GrandChallengeError(path, f"line {i}: image {r['image']!r} is listed twice")
        out[r["image"]] = FrameKey(r["folder"], r["video"], Path(r["frame"]).stem)
    return out


def frame_of(name: str, mapping: dict[str, FrameKey] | None) -> FrameKey | None:
    """The frame an input image stands for (``None``: no frame)."""
    if mapping is not None:
        return mapping.get(name)
    if "/" in name or "\\" in name:  # a flat name is one file name, never a path
        return None
    parts = Path(name).stem.split(FLAT_SEPARATOR)
    return FrameKey(*parts) if len(parts) == 3 and all(parts) else None


def _input_name(job: _Job) -> str | None:
    names = [s.image.name for s in job.inputs if s.image is not None]
    return names[0] if len(names) == 1 else None


def _output_bytes(job: _Job, input_dir: Path, max_bytes: int) -> tuple[bytes | None, str]:
    """The job's "Multiple points" output as JSON bytes, or ``None`` with the reason."""
    sockets = [s for s in job.outputs if s.interface.kind == POINTS_KIND]
    if len(sockets) != 1:
        return None, f"{len(sockets)} outputs of kind {POINTS_KIND!r} (one expected)"
    s = sockets[0]
    if s.value is not None:
        if too_deep(s.value):
            return None, f"inline output nested deeper than {MAX_DEPTH} levels: not a points list"
        return dumps(s.value, None).encode(), ""
    try:
        path = child(input_dir, job.pk, "output", *Path(s.interface.relative_path).parts,
                     what="output path")  # fmt: skip
        return read_bytes(path, max_bytes), ""
    except (PathError, BadFile) as e:
        return None, f"output file: {e}"


def evaluate(
    input_dir: str | Path,
    ground_truth: str | Path,
    radii=REPORT_RADII,
    mapping_csv: str | Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """``metrics.json``'s content for Grand-Challenge's evaluation input in ``input_dir``."""
    input_dir = Path(input_dir)
    jobs = read_jobs(input_dir / "predictions.json")
    mapping = read_mapping(Path(mapping_csv)) if mapping_csv else None
    problems: list[dict] = []
    cases: dict[str, FrameKey] = {}
    named: dict[FrameKey, str] = {}  # frame -> the image name that claimed it first
    with tempfile.TemporaryDirectory(prefix="adaptor-gc-") as tmp:
        tree = Path(tmp)
        for job in jobs:
            name = _input_name(job)
            key = frame_of(name, mapping) if name is not None else None
            if key is None:
                why = "no single input image" if name is None else "names no frame"
                problems.append({"job": job.pk, "image": name, "problem": why})
                continue
            if name in cases:
                problems.append({"job": job.pk, "image": name, "problem": "a second job for it"})
                continue
            if key in named:  # 000000.png and 000000.jpg: one frame, never overwritten silently
                problems.append({"job": job.pk, "image": name, "problem": f"names the same frame"
                                 f" as image {named[key]!r}, whose job counts; this one is not"
                                 " scored"})  # fmt: skip
                continue
            cases[name], named[key] = key, name
            if job.status != "Succeeded":
                problems.append({"job": job.pk, "image": name, "problem": f"job {job.status}"})
                continue
            body, why = _output_bytes(job, input_dir, max_bytes)
            if body is None:
                problems.append({"job": job.pk, "image": name, "problem": why})
                continue
            try:
                target = child(tree, key.folder, key.video, f"{key.frame}.json", what="frame")
            except PathError as e:
                problems.append({"job": job.pk, "image": name, "problem": str(e)})
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        report = score(ground_truth, tree, radii, max_bytes=max_bytes)
    return _metrics(report, cases, problems, tree)


def _metrics(report, cases: dict[str, FrameKey], problems: list[dict], tree: Path) -> dict:
    fs = report.frames
    index = {k: i for i, k in enumerate(fs.keys)}
    case = {}
    for name, key in sorted(cases.items()):
        i = index.get(key)
        if i is None:
            problems.append({"job": None, "image": name, "problem": "no such frame in the ground truth"})  # fmt: skip
            continue
        case[name] = {"frame": f"{key.folder}/{key.video}/{key.frame}"}
        for j, r in enumerate(fs.radii):
            tp, fp, fn = int(fs.tp[i, j]), int(fs.fp[i, j]), int(fs.fn[i, j])
            f1 = ratios(tp, fp, fn)[2]  # a frame with nothing to find and nothing claimed: 1
            case[name][f"{float(r):g}"] = {"tp": tp, "fp": fp, "fn": fn, "f1": f1}
    aggregates = {
        f"{s.radius:g}": {"ppv": s.ppv, "tpr": s.tpr, "f1": s.f1, "rmse": s.rmse,
                          "tp": s.tp, "fp": s.fp, "fn": s.fn}  # fmt: skip
        for s in report.overall()
    }
    for p in report.problems:  # files of the private tree named by their frame
        where = Path(p.file)
        shown = where.relative_to(tree) if tree in where.parents else where
        problems.append({"job": None, "image": None, "problem": f"{shown}: {p.problem}"})
    return {"case": case, "aggregates": aggregates, "problems": problems,
            "frames": len(fs.keys), "frames_without_output": int(report.missing.sum())}  # fmt: skip


def write_metrics(path: str | Path, metrics: dict) -> None:
    """``metrics.json``: strict JSON (no NaN), complete or absent."""
    write_json(path, metrics)

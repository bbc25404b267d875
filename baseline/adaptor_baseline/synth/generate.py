"""Write synthetic videos in the AdaptOR layout, in parallel over videos, deterministic per seed.

Seeds: the surgery from ``(seed, domain, folder index)``, each video from ``(…, video index)``
and each frame's random draws from ``(video seed, frame)``, so the output is the same whatever
the number of workers or the order in which videos are written.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adaptor_baseline.synth.annotate import annotate
from adaptor_baseline.synth.plan import Surgery, Video, plan_surgery, plan_video
from adaptor_baseline.synth.presets import (
    DatasetPreset,
    FolderSpec,
    dataset_preset,
    folder_name,
    grid,
    video_name,
)
from adaptor_baseline.synth.render import HEIGHT, WIDTH, render_frame
from adaptor_baseline.synth.world import WorldCache
from adaptor_score import atomic
from adaptor_score.contract import IMAGE_FOLDER, LABEL_FOLDER
from adaptor_score.frames import FrameKey
from adaptor_score.jsonfiles import read_json
from adaptor_score.pathguard import PathError, check_name
from adaptor_score.safefiles import BadFile

DOMAIN_IDS = {"sim": 1, "intraop": 2}
MANIFEST = "synth.json"
# Saving is a third of a frame's cost: zlib's fastest level with its run-length strategy writes
# frames 15 % faster than the default strategy, and 9 % smaller (measured on 20 frames: 25 against
# 30 ms, 226 against 249 KB); the pixels are the same, PNG being lossless.
PNG_OPTIONS = {"compress_level": 1, "compress_type": zlib.Z_RLE}
# Changes whenever the same seed would plan other surgeries, so an old manifest is refused.
GENERATOR = "adaptor-toolkit synth 2"

__all__ = [
    "folder_name", "generate_dataset", "plan_job", "read_manifest", "video_jobs", "video_name",
    "write_video",
]  # fmt: skip


@dataclass(frozen=True)
class VideoJob:
    out: str
    domain: str
    folder: str
    video: str
    index: int  # of the video in its folder
    videos: int  # in its folder
    frames: int
    surgery_seed: int
    seed: int
    max_points: int


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def plan_job(job: VideoJob) -> tuple[Surgery, Video]:
    """The surgery and video a job renders (the same plan for the same job, anywhere)."""
    surgery = plan_surgery(job.domain, job.surgery_seed, job.max_points)
    return surgery, plan_video(surgery, job.index, job.videos, job.frames, job.seed)


def video_jobs(
    out: str | Path, preset: DatasetPreset, seed: int, max_points: int = 60
) -> list[VideoJob]:
    """One job per video of ``preset``, seeded from ``(seed, domain, folder[, video])``."""
    did = DOMAIN_IDS[preset.domain]
    return [
        VideoJob(
            str(out),
            preset.domain,
            folder.name,
            name,
            v,
            len(folder.videos),
            n,
            _seed(seed, did, s),
            _seed(seed, did, s, v),
            max_points,
        )
        for s, folder in enumerate(preset.folders)
        for v, (name, n) in enumerate(folder.videos)
    ]


def write_manifest(out: Path, preset: DatasetPreset, seed: int, max_points: int) -> None:
    """``out/synth.json``: how the data was made, so its plan can be made again (lookalikes.py).
    Readers of the release layout pass it by: it is neither an image nor in ``point_labels``."""
    # a list, not an object: the folders' order seeds their surgeries
    folders = [[f.name, [list(v) for v in f.videos]] for f in preset.folders]
    doc = {"generator": GENERATOR, "domain": preset.domain, "seed": seed,
           "max_points": max_points, "folders": folders}  # fmt: skip
    atomic.write_text(out / MANIFEST, json.dumps(doc, indent=1) + "\n")


def read_manifest(root: str | Path) -> tuple[DatasetPreset, int, int]:
    """``(preset, seed, max_points)`` of a dataset written by :func:`generate_dataset`.

    Raises ``ValueError`` naming the file when it is missing, malformed, or from another version
    of the generator (whose plan would differ).
    """
    path = Path(root) / MANIFEST
    if not path.exists():
        raise ValueError(f"{path}: not found; only data written by `adaptor-baseline synth` has it")
    try:
        doc = read_json(path)
        if doc.get("paired_with"):
            raise ValueError(
                f"rendered as the pair of a {doc['paired_with']!r} dataset (synth --paired): its"
                f" plan is that dataset's; use the {doc['paired_with']} folder beside it"
            )
        if doc.get("generator") != GENERATOR:
            raise ValueError(f"made by {doc.get('generator')!r}, not {GENERATOR!r}")
        if doc["domain"] not in DOMAIN_IDS:
            raise ValueError(f"unknown domain {doc['domain']!r}")
        folders = tuple(
            FolderSpec(check_name(name, "folder"), tuple(_video(v, n) for v, n in videos))
            for name, videos in doc["folders"]
        )
        frames = sum(n for f in folders for _, n in f.videos)
        if len(folders) > MAX_MANIFEST_FOLDERS or frames > MAX_MANIFEST_FRAMES:
            raise ValueError(
                f"claims {len(folders)} folders and {frames:,} frames, above the limits of"
                f" {MAX_MANIFEST_FOLDERS} and {MAX_MANIFEST_FRAMES:,}"
            )
        seed, max_points = doc["seed"], doc["max_points"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (seed, max_points)):
            raise ValueError("seed and max_points must be whole numbers")
        if not 0 <= max_points <= 10_000:
            raise ValueError(f"max_points {max_points} is outside 0-10,000")
        preset = DatasetPreset(doc["domain"], "from " + MANIFEST, folders)
        return preset, seed, max_points
    except (BadFile, PathError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{path}: {e}") from None


# What a manifest may claim: far above any preset (A.1 is 4 folders, 2,376 frames), far below
# what would take the attribution gigabytes (seen: a manifest claiming 10^9 frames took 5 GB).
MAX_MANIFEST_FOLDERS = 1_000
MAX_MANIFEST_FRAMES = 1_000_000


def _video(name, frames) -> tuple[str, int]:
    if not isinstance(frames, int) or isinstance(frames, bool) or not 1 <= frames <= 1_000_000:
        raise ValueError(f"video {name!r}: frames must be a whole number from 1 (got {frames!r})")
    return check_name(str(name), "video"), frames


def manifest_keys(preset: DatasetPreset) -> set[FrameKey]:
    """The frames a manifest's plan renders."""
    return {
        FrameKey(f.name, v, f"{k:06d}")
        for f in preset.folders
        for v, n in f.videos
        for k in range(n)
    }


def check_new_dataset_root(out: str | Path) -> None:
    """Refuse to write a dataset into a folder that holds anything: a second dataset in one root
    would leave ``synth.json`` describing only the last one (seen: folders 2 -> 4, manifest 2)."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise PathError(out, "exists and is not a folder")
        try:
            held = next(os.scandir(out), None)
        except OSError as e:
            raise PathError(out, f"cannot list the folder: {e.strerror or e}") from None
        if held is not None:
            raise PathError(
                out, f"is not empty (holds {held.name}); write each dataset into a new folder"
            )


def write_video(job: VideoJob) -> tuple[int, int]:
    """Render one video; returns (frames, labels) written."""
    surgery, video = plan_job(job)
    cache = WorldCache(surgery)
    base = Path(job.out) / job.folder / job.video
    (base / IMAGE_FOLDER).mkdir(parents=True, exist_ok=True)
    (base / LABEL_FOLDER).mkdir(parents=True, exist_ok=True)
    n_points = 0
    for k in range(job.frames):
        rng = np.random.default_rng([job.seed, k])
        image, pts, ids = render_frame(video, k, cache, rng)
        labels = annotate(video, k, pts, ids, rng)
        save_frame(base, f"{k:06d}", image, labels)
        n_points += len(labels)
    return job.frames, n_points


def save_frame(base: Path, name: str, image: np.ndarray, labels) -> None:
    """``base/images/<name>.png`` and its label file ``base/point_labels/<name>.json``."""
    atomic.write_with(
        base / IMAGE_FOLDER / f"{name}.png",
        lambda tmp: Image.fromarray(image).save(tmp, "PNG", **PNG_OPTIONS),
    )
    doc = {
        "points": [{"x": float(x), "y": float(y)} for x, y in labels],
        "imageWidth": WIDTH,
        "imageHeight": HEIGHT,
    }
    atomic.write_text(base / LABEL_FOLDER / f"{name}.json", json.dumps(doc))


def generate_dataset(
    out: str | Path,
    domain: str = "sim",
    surgeries: int = 2,
    videos: int = 2,
    frames: int = 20,
    seed: int = 0,
    workers: int | None = None,
    max_points: int = 60,
    progress=None,
    preset: str | DatasetPreset | None = None,
) -> dict:
    """Generate ``surgeries`` folders x ``videos`` videos x ``frames`` frames under ``out``, or the
    shape of a dataset ``preset`` (``a1``, ``a2``, ``b1``: its domain and folders; see
    ``presets.py``). ``max_points`` caps the labelled bites of a surgery; ``progress(n)`` is
    called with the frames of each video written.

    Returns a summary: domain, frames, points, seconds, frames per second, folders.

    Example:
        >>> import tempfile
        >>> s = generate_dataset(tempfile.mkdtemp(), "sim", 1, 1, 2, seed=3, workers=1)
        >>> s["frames"], s["folders"]
        (2, ['20210401_sim00'])
    """
    if isinstance(preset, str):
        preset = dataset_preset(preset)
    if preset is None:
        if domain not in DOMAIN_IDS:
            raise ValueError(f"domain must be one of {sorted(DOMAIN_IDS)}, got {domain!r}")
        preset = grid(domain, surgeries, videos, frames, seed)
    domain = preset.domain
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = video_jobs(out, preset, seed, max_points)
    # Longest videos first, so one long video does not finish alone at the end.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].frames)
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    t0 = time.perf_counter()
    done = []
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for d in pool.map(write_video, [jobs[i] for i in order]):
                done.append(d)
                if progress is not None:
                    progress(d[0])
    else:
        for i in order:
            done.append(write_video(jobs[i]))
            if progress is not None:
                progress(done[-1][0])
    seconds = time.perf_counter() - t0
    write_manifest(out, preset, seed, max_points)
    n_frames = sum(d[0] for d in done)
    return {
        "domain": domain,
        "frames": n_frames,
        "points": sum(d[1] for d in done),
        "seconds": seconds,
        "frames_per_second": n_frames / seconds if seconds else float("inf"),
        "folders": sorted({j.folder for j in jobs}),
    }

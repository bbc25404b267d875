"""Write synthetic videos in the AdaptOR layout, in parallel over videos, deterministic per seed."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adaptor_baseline.synth.scene import HEIGHT, WIDTH, plan_video, render_frame

DOMAIN_IDS = {"sim": 1, "intraop": 2}


def folder_name(domain: str, index: int, seed: int) -> str:
    """Release-like folder names: date-like prefix plus a short id (``20210101_sim03``)."""
    tag = "sim" if domain == "sim" else "op"
    return f"2021{(seed % 12) + 1:02d}{index + 1:02d}_{tag}{index:02d}"


def video_name(domain: str, index: int) -> str:
    return f"VID{index:03d}_0" if domain == "sim" else f"Ch1_{index:03d}_V"


@dataclass(frozen=True)
class VideoJob:
    out: str
    domain: str
    folder: str
    video: str
    frames: int
    seed: int
    max_points: int


def write_video(job: VideoJob) -> tuple[int, int]:
    """Render one video; returns (frames, points) written."""
    plan = plan_video(job.domain, job.seed, job.frames, job.max_points)
    rng = np.random.default_rng(job.seed + 1)
    base = Path(job.out) / job.folder / job.video
    (base / "images").mkdir(parents=True, exist_ok=True)
    (base / "point_labels").mkdir(parents=True, exist_ok=True)
    n_points = 0
    for t in range(job.frames):
        image, pts = render_frame(plan, t, rng)
        name = f"{t:06d}"
        Image.fromarray(image).save(base / "images" / f"{name}.png", compress_level=1)
        label = {
            "points": [{"x": float(x), "y": float(y)} for x, y in pts],
            "imageWidth": WIDTH,
            "imageHeight": HEIGHT,
        }
        (base / "point_labels" / f"{name}.json").write_text(json.dumps(label))
        n_points += len(pts)
    return job.frames, n_points


def generate_dataset(
    out: str | Path,
    domain: str = "sim",
    surgeries: int = 2,
    videos: int = 2,
    frames: int = 20,
    seed: int = 0,
    workers: int | None = None,
    max_points: int = 30,
    progress=None,
) -> dict:
    """Generate ``surgeries`` folders x ``videos`` videos x ``frames`` frames under ``out``;
    ``progress(n)`` is called with the frames of each video written.

    Returns a summary: frames, points, seconds, frames per second, folders.

    Example:
        >>> import tempfile
        >>> s = generate_dataset(tempfile.mkdtemp(), "sim", 1, 1, 2, seed=3, workers=1)
        >>> s["frames"], s["folders"]
        (2, ['20210401_sim00'])
    """
    if domain not in DOMAIN_IDS:
        raise ValueError(f"domain must be one of {sorted(DOMAIN_IDS)}, got {domain!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for s in range(surgeries):
        for v in range(videos):
            ss = np.random.SeedSequence([seed, DOMAIN_IDS[domain], s, v])
            jobs.append(
                VideoJob(
                    str(out),
                    domain,
                    folder_name(domain, s, seed),
                    video_name(domain, v),
                    frames,
                    int(ss.generate_state(1)[0]),
                    max_points,
                )
            )
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    t0 = time.perf_counter()
    done = []
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for d in pool.map(write_video, jobs):
                done.append(d)
                if progress is not None:
                    progress(d[0])
    else:
        for j in jobs:
            done.append(write_video(j))
            if progress is not None:
                progress(done[-1][0])
    seconds = time.perf_counter() - t0
    n_frames = sum(d[0] for d in done)
    return {
        "frames": n_frames,
        "points": sum(d[1] for d in done),
        "seconds": seconds,
        "frames_per_second": n_frames / seconds if seconds else float("inf"),
        "folders": sorted({j.folder for j in jobs}),
    }

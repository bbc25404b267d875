"""One scene rendered in both domains: true pairs for the domain-transformation task.

``generate_pair(out, ...)`` plans each surgery and video of the *source* domain (geometry: the
valve, the stitches and their bites, the distractors, the camera path, the annotator's misses)
and renders every frame twice: once in the source style, once with the *target* domain's
appearance (its style, tissue colour, light and white balance, exposure, vignette, defocus,
compression and noise, drawn from the target's own plan of the same seed). Both trees get the
same folder, video and frame names and **the same label files** (the source rendering's labels),
so a translation of ``sim/X.png`` can be scored against the labels of ``X`` and compared with
``intraop/X.png``, the truth it should look like.

The target tree's ``synth.json`` says ``paired_with``: its plan is the source's, so readers that
re-plan a dataset from its manifest (look-alike attribution) are pointed to the source folder.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from adaptor_baseline.synth.annotate import annotate
from adaptor_baseline.synth.generate import (
    GENERATOR,
    MANIFEST,
    VideoJob,
    plan_job,
    save_frame,
    video_jobs,
    write_manifest,
)
from adaptor_baseline.synth.plan import Surgery, Video
from adaptor_baseline.synth.presets import grid
from adaptor_baseline.synth.render import render_frame
from adaptor_baseline.synth.world import WorldCache
from adaptor_score import atomic
from adaptor_score.contract import IMAGE_FOLDER, LABEL_FOLDER

DOMAINS = ("sim", "intraop")


def other_domain(domain: str) -> str:
    return DOMAINS[1 - DOMAINS.index(domain)]


def restyled(surgery: Surgery, video: Video, target: Surgery, target_video: Video):
    """``(surgery, video)`` with the geometry of the first pair and the appearance of the
    second (the target domain's plan of the same seeds)."""
    looks = replace(surgery, domain=target.domain, style=target.style, tissue=target.tissue,
                    wb=target.wb)  # fmt: skip
    change = target_video.wb / target.wb  # the video's own white-balance change
    return looks, replace(
        video,
        surgery=looks,
        exposure=target_video.exposure,
        wb=looks.wb * change,
        hotspot=target_video.hotspot,
        vignette=target_video.vignette,
        defocus=target_video.defocus,
        jpeg=target_video.jpeg,
        noise=target_video.noise,
    )


def write_pair(job: VideoJob, target_root: Path) -> tuple[int, int]:
    """Render one video in its own style (under ``job.out``) and in the other domain's (under
    ``target_root``), with the same labels; returns (frames, labels) written per tree."""
    surgery, video = plan_job(job)
    t_surgery, t_video = plan_job(replace(job, domain=other_domain(job.domain)))
    looks, looks_video = restyled(surgery, video, t_surgery, t_video)
    caches = WorldCache(surgery), WorldCache(looks)
    bases = [Path(job.out) / job.folder / job.video, target_root / job.folder / job.video]
    for base in bases:
        (base / IMAGE_FOLDER).mkdir(parents=True, exist_ok=True)
        (base / LABEL_FOLDER).mkdir(parents=True, exist_ok=True)
    n_points = 0
    for k in range(job.frames):
        rng = np.random.default_rng([job.seed, k])
        image, pts, ids = render_frame(video, k, caches[0], rng)
        labels = annotate(video, k, pts, ids, rng)
        name = f"{k:06d}"
        save_frame(bases[0], name, image, labels)
        other, _, _ = render_frame(looks_video, k, caches[1], np.random.default_rng([job.seed, k]))
        save_frame(bases[1], name, other, labels)  # the source's labels: the same file
        n_points += len(labels)
    return job.frames, n_points


def generate_pair(
    out: str | Path,
    source: str = "sim",
    surgeries: int = 2,
    videos: int = 1,
    frames: int = 10,
    seed: int = 0,
    max_points: int = 60,
    progress=None,
) -> dict:
    """``out/<source>`` and ``out/<target>``: the same scenes, labels and names in both styles.

    >>> import tempfile
    >>> s = generate_pair(tempfile.mkdtemp(), "sim", 1, 1, 1, seed=2)
    >>> s["domains"], s["frames"]
    (['sim', 'intraop'], 1)
    """
    if source not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {source!r}")
    target = other_domain(source)
    out = Path(out)
    preset = grid(source, surgeries, videos, frames, seed)
    roots = out / source, out / target
    jobs = video_jobs(roots[0], preset, seed, max_points)
    done = []
    for job in jobs:
        done.append(write_pair(job, roots[1]))
        if progress is not None:
            progress(done[-1][0])
    write_manifest(roots[0], preset, seed, max_points)
    doc = {"generator": GENERATOR, "domain": target, "paired_with": source, "seed": seed,
           "max_points": max_points}  # fmt: skip
    atomic.write_text(roots[1] / MANIFEST, json.dumps(doc, indent=1) + "\n")
    return {
        "domains": [source, target],
        "frames": sum(d[0] for d in done),
        "points": sum(d[1] for d in done),
        "folders": sorted({j.folder for j in jobs}),
    }

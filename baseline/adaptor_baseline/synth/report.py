"""Realism statistics of any dataset in the AdaptOR layout, synthetic or real.

``adaptor-baseline synth-report DIR`` computes the same numbers for our synthetic data and for
the real release (for anyone who has it), so the two can be compared line by line:

- **labels**: labels per frame (mean, quantiles), share of empty frames, labels per folder;
- **growth**: per video, the Spearman correlation of the label count with the frame index
  (stitches are placed during a surgery, so counts should mostly grow), and the mean count in
  the first and last quarter of each video;
- **close points**: share of labels within 15 px of another label of their frame (the paper's
  close-points subset), and nearest-neighbour distances;
- **label precision**: share of labels on whole pixel coordinates;
- **images** (on an even sample of frames, ``image_sample``): frame mean grey level (spread
  within videos and between folders), saturated pixels (all channels >= 250: specular
  reflections), white balance (mean R/G and B/G), and sharpness (variance of the Laplacian).

Known figures of the real data (frames and labels of A.1 and B.1, from the paper) are in
:data:`REFERENCE`; everything else about the real data is unknown to us and is left for the
report to measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adaptor_baseline.data.layout import index_dataset, read_labels
from adaptor_score.contract import CLOSE_DISTANCE
from adaptor_score.imagefile import ImageError, read_image
from adaptor_score.metrics import close_label_mask

REFERENCE = {
    "a1": {"frames": 2376, "labels": 23938, "labels_per_frame": 23938 / 2376, "folders": 4},
    "b1": {"frames": 2708, "labels": 33872, "labels_per_frame": 33872 / 2708, "folders": 10},
    "a2": {"frames": 500, "folders": 5},
}


@dataclass
class FrameRow:
    folder: str
    video: str
    frame: str
    labels: np.ndarray


def _spearman(y: np.ndarray) -> float | None:
    if len(y) < 3 or np.all(y == y[0]):
        return None
    x = np.arange(len(y), dtype=float)
    ry = _ranks(y)
    return float(np.corrcoef(x, ry)[0, 1])


def _ranks(y: np.ndarray) -> np.ndarray:
    order = np.argsort(y, kind="stable")
    ranks = np.empty(len(y))
    ranks[order] = np.arange(len(y), dtype=float)
    for v in np.unique(y):  # average ranks of ties
        m = y == v
        ranks[m] = ranks[m].mean()
    return ranks


def _nearest(pts: np.ndarray) -> np.ndarray:
    if len(pts) < 2:
        return np.zeros(0)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def _quantiles(x, qs=(0.05, 0.25, 0.5, 0.75, 0.95)) -> dict:
    x = np.asarray(x, dtype=float)
    if not len(x):
        return {}
    return {f"p{int(q * 100)}": round(float(np.quantile(x, q)), 3) for q in qs}


def image_stats(path: Path) -> dict:
    """Grey level, saturation, white balance and sharpness of one frame (:class:`ImageError`
    naming the file when it cannot be read)."""
    rgb = read_image(path).astype(np.float32)
    grey = rgb.mean(axis=2)
    lit = grey > 20  # the round endoscope field, not the black corners
    g = rgb[..., 1][lit].mean() if lit.any() else 1.0
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return {
        "grey": float(grey[lit].mean()) if lit.any() else 0.0,
        "saturated": float((rgb.min(axis=2) >= 250).mean()),
        "r_g": float(rgb[..., 0][lit].mean() / max(g, 1e-6)) if lit.any() else 0.0,
        "b_g": float(rgb[..., 2][lit].mean() / max(g, 1e-6)) if lit.any() else 0.0,
        "sharpness": float(lap.var()),
    }


def realism_report(root: str | Path, image_sample: int = 400) -> dict:
    """The statistics above for the dataset under ``root``, as plain data (JSON-ready)."""
    root = Path(root)
    records = index_dataset(root, require_labels=True)
    if not records:
        raise ValueError(f"{root}: no frames found in the AdaptOR layout")
    rows = [
        FrameRow(r.key.folder, r.key.video, r.key.frame, read_labels(r.labels)) for r in records
    ]
    counts = np.array([len(r.labels) for r in rows])
    labels, raw = label_statistics(rows, counts)
    light, grey_by_folder = light_statistics(root, records, rows, image_sample)
    return {
        "root": str(root),
        **labels,
        **light,
        **raw,
        "_grey_by_folder": {k: [round(x, 1) for x in v] for k, v in grey_by_folder.items()},
    }


def _growth(rows: list[FrameRow], counts: np.ndarray) -> tuple[dict, dict]:
    """Growth of the label count within each video: Spearman's rho, first against last quarter."""
    videos: dict[tuple[str, str], list[int]] = {}
    for r, c in zip(rows, counts):
        videos.setdefault((r.folder, r.video), []).append(int(c))
    growth, first, last, trajectories = [], [], [], {}
    for (folder, video), cs in videos.items():
        y = np.array(cs, dtype=float)
        rho = _spearman(y)
        if rho is not None:
            growth.append(rho)
        q = max(1, len(y) // 4)
        first.append(float(y[:q].mean()))
        last.append(float(y[-q:].mean()))
        trajectories[f"{folder}/{video}"] = cs
    stats = {
        "videos": len(videos),
        "growth_spearman_median": round(float(np.median(growth)), 3) if growth else None,
        "videos_growing": round(float(np.mean(np.array(last) > np.array(first))), 3),
        "first_quarter_labels": round(float(np.mean(first)), 3),
        "last_quarter_labels": round(float(np.mean(last)), 3),
    }
    return stats, trajectories


def label_statistics(rows: list[FrameRow], counts: np.ndarray) -> tuple[dict, dict]:
    """Counts, growth, close pairs and precision of the labels; and the raw distributions
    (``_trajectories``, ``_counts``, ``_nearest``) for the figure."""
    all_labels = np.concatenate([r.labels for r in rows]) if counts.sum() else np.zeros((0, 2))
    close = close_label_mask([r.labels for r in rows])
    nn = np.concatenate([_nearest(r.labels) for r in rows] or [np.zeros(0)])
    growth, trajectories = _growth(rows, counts)
    folders = {}
    for f in sorted({r.folder for r in rows}):
        m = np.array([r.folder == f for r in rows])
        folders[f] = {
            "frames": int(m.sum()),
            "labels": int(counts[m].sum()),
            "labels_per_frame": round(float(counts[m].mean()), 3),
        }
    stats = {
        "frames": len(rows),
        "folders": len(folders),
        "videos": growth.pop("videos"),
        "labels": int(counts.sum()),
        "labels_per_frame": round(float(counts.mean()), 3),
        "labels_per_frame_quantiles": _quantiles(counts),
        "empty_frames": round(float((counts == 0).mean()), 4),
        "max_labels_per_frame": int(counts.max()),
        "per_folder": folders,
        **growth,
        "close_share": round(float(close.mean()), 4) if len(close) else None,
        "close_distance": CLOSE_DISTANCE,
        "nearest_neighbour_px": _quantiles(nn),
        "integer_labels": round(
            float(np.mean(np.all(all_labels == np.rint(all_labels), axis=1))), 4
        )
        if len(all_labels)
        else None,
    }
    raw = {
        "_trajectories": trajectories,
        "_counts": counts.tolist(),
        "_nearest": nn.round(2).tolist(),
    }
    return stats, raw


def light_statistics(root, records, rows, image_sample: int) -> tuple[dict, dict]:
    """Grey level, saturation, white balance and sharpness of up to ``image_sample`` frames
    spread evenly (a broken frame is listed under ``problems`` and left out); and the grey
    levels per folder for the figure."""
    step = max(1, len(records) // max(1, image_sample))
    picked = list(range(0, len(records), step))[:image_sample]
    imgs, problems, read = [], [], []
    for i in picked:
        try:
            imgs.append(image_stats(records[i].image))
            read.append(i)
        except ImageError as e:
            problems.append({"file": e.file, "problem": e.problem})
    if not imgs:
        raise ValueError(f"{root}: none of the {len(picked)} sampled frames could be read")
    grey = np.array([s["grey"] for s in imgs])
    by_video: dict[tuple, list[float]] = {}
    by_folder: dict[str, list[float]] = {}
    for i, s in zip(read, imgs):
        by_video.setdefault((rows[i].folder, rows[i].video), []).append(s["grey"])
        by_folder.setdefault(rows[i].folder, []).append(s["grey"])
    within = [np.std(v) for v in by_video.values() if len(v) > 1]
    sat = np.array([s["saturated"] for s in imgs])
    stats = {
        "image_sample": len(imgs),
        "grey_mean": round(float(grey.mean()), 2),
        "grey_p5_p95": [
            round(float(np.quantile(grey, 0.05)), 1),
            round(float(np.quantile(grey, 0.95)), 1),
        ],
        "grey_std_within_video": round(float(np.mean(within)), 2) if within else None,
        "grey_std_between_folders": round(
            float(np.std([np.mean(v) for v in by_folder.values()])), 2
        ),
        "saturated_pixels_mean": round(float(sat.mean()), 5),
        "frames_with_saturation": round(float((sat * 512 * 288 >= 10).mean()), 3),
        "r_g_p5_p95": [
            round(float(np.quantile([s["r_g"] for s in imgs], q)), 3) for q in (0.05, 0.95)
        ],
        "b_g_p5_p95": [
            round(float(np.quantile([s["b_g"] for s in imgs], q)), 3) for q in (0.05, 0.95)
        ],
        "sharpness_median": round(float(np.median([s["sharpness"] for s in imgs])), 1),
        "problems": problems,
    }
    return stats, by_folder

"""Submission-format predictions made from labels with controlled errors: jitter, misses and
false positives. For demos and tests of the scoring and leaderboard, never a detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptor_baseline.data.layout import index_dataset, read_labels
from adaptor_score.contract import FRAME_SIZE
from adaptor_score.submission import write_prediction


def perturbed_predictions(
    data_dir: str | Path,
    out_dir: str | Path,
    jitter: float = 2.0,
    miss: float = 0.2,
    false_positives: float = 2.0,
    seed: int = 0,
    size: tuple[int, int] = FRAME_SIZE,
) -> int:
    """Write one submission JSON per labelled frame of ``data_dir`` under ``out_dir``.

    Each label is dropped with probability ``miss``, else moved by Gaussian noise of ``jitter``
    px; a Poisson(``false_positives``) number of uniform random points is added. Returns the
    number of files written.
    """
    rng = np.random.default_rng(seed)
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    n = 0
    for rec in index_dataset(data_dir, require_labels=True):
        pts = read_labels(rec.labels)
        keep = rng.random(len(pts)) >= miss
        moved = pts[keep] + rng.normal(0, jitter, (int(keep.sum()), 2))
        extra = rng.uniform((0, 0), (size[0] - 1, size[1] - 1), (rng.poisson(false_positives), 2))
        pred = np.clip(np.vstack([moved, extra]), 0, (size[0] - 1, size[1] - 1))
        rel = rec.image.relative_to(data_dir).with_suffix(".json")
        write_prediction(out_dir / rel, rec.key.folder, rec.key.video, rec.image.name, pred)
        n += 1
    return n

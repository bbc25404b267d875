"""The simulated annotator: turns the true positions of visible bites into labels.

The real labels were clicked in *labelme* by people, then revisited and corrected (paper,
section 4.1). We model what that leaves behind, per domain (``DomainStyle``):

- **click jitter**: Gaussian, ``label_jitter`` px per axis (sim 0.5, intraop 0.9), growing with
  the frame's blur (+0.15 px per px of motion blur, +0.3 px per px of defocus sigma), because a
  blurred puncture has no sharp centre to click on;
- **integer pixels**: a click lands on a pixel, so labels are whole pixel coordinates (the
  challenge's scoring rules note that integer coordinates make ties and exact-radius pairs
  common, which is what we reproduce);
- **missed labels**: a bite that one video's annotator never labels (``miss_point`` of the
  bites, chosen per video: e.g. it sits in a dark corner of that view), and single labels
  skipped by chance (``miss_frame``).

Every draw comes from the frame's own generator, so labels are deterministic per seed. The
labels are what the detector is trained on and scored against; the true positions never leave
the generator.
"""

from __future__ import annotations

import numpy as np

from adaptor_baseline.synth.plan import Video
from adaptor_score.contract import FRAME_SIZE


def annotate(
    video: Video, k: int, pts: np.ndarray, ids: list[tuple[int, int]], rng: np.random.Generator
) -> np.ndarray:
    """Labels ``(M, 2)`` (whole pixels, M <= N) for the visible bites ``pts (N, 2)`` of frame ``k``."""
    style = video.surgery.style
    if not len(pts):
        return np.zeros((0, 2))
    keep = np.array([i not in video.missed for i in ids]) & (
        rng.random(len(pts)) >= style.miss_frame
    )
    blur = float(np.linalg.norm(video.jerk[k])) * 0.15 + float(video.defocus[k]) * 0.3
    labels = pts + rng.normal(0, style.label_jitter + blur, pts.shape)
    labels = np.rint(labels[keep])
    hi = np.array(FRAME_SIZE, dtype=float) - 1
    return np.clip(labels, 0, hi)

"""The simulated annotator: turns the true positions of visible bites into labels.

The real labels were clicked in *labelme* by people, then revisited and corrected (paper,
section 4.1). We model what that leaves behind, per domain (``DomainStyle``):

- **click jitter**: Gaussian, ``label_jitter`` px per axis (sim 0.8, intraop 1.2: a click lands
  a mean 1.0 / 1.5 px from the puncture: pixel-level jitter of 1-2 px),
  growing with the frame's blur (+0.15 px per px of motion blur, +0.3 px per px of defocus
  sigma), because a blurred puncture has no sharp centre to click on;
- **a click beside the puncture**: for ``offset_share`` of the bites (sim 3 %, intraop 7 %,
  chosen per video) the video's annotator marks a spot ``label_offset`` px away (5-9 px sim,
  5-10 px intraop, one direction per bite and video), e.g. where the thread leaves a puncture
  hidden under the thread or a pledget, and keeps doing so in every frame of that video. This is
  what puts true detections between 6 and 10 px from their labels: the paper's best models gain
  2-4 % of their true positives from 6 px to 10 px (Table 4: A.1 PPV 67.2 -> 70.1, B.1 83.3 ->
  85.2), which Gaussian click jitter of 1-2 px alone cannot produce (at 2 px per axis a click
  lands beyond 6 px with a probability of exp(-4.5) = 1.1 %);
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
    beside = np.array([video.offsets.get(i, (0.0, 0.0)) for i in ids], dtype=float)
    labels = pts + beside + rng.normal(0, style.label_jitter + blur, pts.shape)
    labels = np.rint(labels[keep])
    hi = np.array(FRAME_SIZE, dtype=float) - 1
    return np.clip(labels, 0, hi)

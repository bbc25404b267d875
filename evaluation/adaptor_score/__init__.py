"""adaptor_score: scoring for the AdaptOR 2021 suture point detection challenge.

The package follows the challenge's rules (greedy closest-pair matching within a radius, counts
summed over all frames) and reports every broken input instead of silently dropping it. It needs
no torch.

Example:
    >>> import numpy as np
    >>> from adaptor_score import DetectionMetric
    >>> metric = DetectionMetric(radii=(6,))
    >>> metric.update(np.array([[10.0, 10.0], [50.0, 50.0]]), np.array([[12.0, 10.0]]))
    >>> round(metric.compute().summary()[0].f1, 3)
    0.667
"""

from adaptor_score.frames import FrameKey, Problem
from adaptor_score.jsonfiles import read_points
from adaptor_score.matching import Matches, match_frames, match_points
from adaptor_score.metrics import DetectionMetric, FrameScores, Summary, ratios
from adaptor_score.scoring import ScoreReport, score

__all__ = [
    "DetectionMetric",
    "FrameKey",
    "FrameScores",
    "Matches",
    "Problem",
    "ScoreReport",
    "Summary",
    "match_frames",
    "match_points",
    "ratios",
    "read_points",
    "score",
]

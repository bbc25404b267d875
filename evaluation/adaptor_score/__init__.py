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

from importlib import import_module

# Names are imported when first used (PEP 562): a command, or the helper process that reads label
# files, loads only the modules it needs (importing every module costs 0.1 s of a 1 s scoring).
_WHERE = {
    "FrameKey": "frames",
    "Problem": "frames",
    "read_points": "jsonfiles",
    "Matches": "matching",
    "match_frames": "matching",
    "match_points": "matching",
    "DetectionMetric": "metrics",
    "FrameScores": "metrics",
    "Summary": "metrics",
    "ratios": "metrics",
    "ScoreReport": "scoring",
    "score": "scoring",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f"adaptor_score.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'adaptor_score' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))

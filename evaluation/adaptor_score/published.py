"""The published scoring script's matching loop, literally: the reference that our vectorised
matching is tested against (``tests/evaluation/test_matching.py``) and timed against
(``benchmarks/bench_scoring.py``). Not used for scoring.

The loop scans predictions, then labels, in file order; keeps the closest pair with ``<=`` (so
among equal distances the last one met wins); removes both points; repeats while a pair within
``r`` remains: ``O(K · N · M)`` distance computations per frame for ``K`` matches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def published_scan(
    pred: Sequence[Sequence[float]], label: Sequence[Sequence[float]], r: float
) -> list[tuple[int, int, float]]:
    """``(prediction, label, distance)`` of each match, in the order the loop takes them.

    >>> published_scan([(0, 0), (10, 0)], [(1, 0), (9, 0)], 6)
    [(1, 1, 1.0), (0, 0, 1.0)]
    """
    pred = [tuple(p) for p in pred]
    label = [tuple(g) for g in label]
    free_p, free_l = set(range(len(pred))), set(range(len(label)))
    out = []
    while True:
        best = None
        for i in range(len(pred)):
            if i not in free_p:
                continue
            for j in range(len(label)):
                if j not in free_l:
                    continue
                d = math.sqrt((pred[i][0] - label[j][0]) ** 2 + (pred[i][1] - label[j][1]) ** 2)
                if d <= r and (best is None or d <= best[0]):
                    best = (d, i, j)
        if best is None:
            return out
        out.append((best[1], best[2], best[0]))
        free_p.discard(best[1])
        free_l.discard(best[2])

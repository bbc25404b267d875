"""The unit of analysis: which cases are independent, and what one case's value is.

Frames of one video show the same sutures a few frames apart, and the videos of one surgery share
the patient, the valve and the scene: neither frames nor videos are independent samples of the
data a method will meet. The **surgery** is, so every verdict (a test, an interval, a rank's
stability) is made with surgeries as cases, unless the data cannot give that unit
(:func:`declared_unit`: one surgery only, then its videos, said in words). Frames stay for
challengeR's per-frame analysis, labelled as such, never as a headline.

**A case's value** is the mean of its frames' values (F1, PPV or TPR of each frame's own counts,
:func:`adaptor_score.metrics.ratios`'s rule), a frame without a usable prediction file counting as
the worst value, 0. So one missing frame of a 100-frame surgery costs at most 1/100 of its value
(the penalty is proportional to what is missing), and leaving a file out never helps: no file
scores below 0, so a team without some files never has a case value above the same team with them.
Summing a case's counts instead (pooled F1) cannot give both: a file with many false positives
pulls the pooled value of its case towards 0, and leaving it out would lift it, whatever finite
penalty the missing file got; zeroing the whole case (the earlier rule) made one missing frame
cost as much as its whole video. The table keeps the challenge's own pooled rule (a missing file
is a frame without predictions).

Shapes: per-frame values ``(teams, frames)``, NaN where a frame is missing; frame names
``surgery/video/frame``; case values ``(teams, cases)``, cases in sorted order.

>>> frames = ["s1/v1/0", "s1/v1/1", "s2/v1/0", "s2/v1/1"]
>>> declared_unit(frames)
'surgery'
>>> names, v = case_values(np.array([[1.0, np.nan, 0.5, 0.5]]), frames, "surgery")
>>> names, v.tolist()
(['s1', 's2'], [[0.5, 0.5]])
"""

from __future__ import annotations

import numpy as np

UNITS = ("frame", "video", "surgery")
WORDS = {
    "frame": ("frame", "frames"), "video": ("video", "videos"),
    "surgery": ("surgery", "surgeries"), "fold": ("fold", "folds"), "model": ("model", "models"),
}  # fmt: skip
# Below this many cases a percentile bootstrap interval is too narrow (with 4-6 cases it excludes
# 0 where the exact test gives 0.125-0.25): it is then shown as descriptive only, with its n.
BOOTSTRAP_FROM = 20


def count(unit: str, n: int) -> str:
    """``"8 surgeries"``, ``"1 video"``.

    >>> count("surgery", 8), count("video", 1)
    ('8 surgeries', '1 video')
    """
    one, many = WORDS[unit]
    return f"{n} {one if n == 1 else many}"


def unit_labels(frames: list[str], unit: str) -> list[str]:
    """The case each frame (``surgery/video/frame``) belongs to.

    >>> unit_labels(["s1/v2/000001"], "video"), unit_labels(["s1/v2/000001"], "surgery")
    (['s1/v2'], ['s1'])
    """
    if unit == "frame":
        return list(frames)
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    depth = {"video": 2, "surgery": 1}[unit]
    return ["/".join(f.split("/")[:depth]) for f in frames]


def group_index(frames: list[str], unit: str) -> tuple[list[str], np.ndarray]:
    """``(names, index)``: the cases in sorted order and each frame's case index."""
    labels = unit_labels(frames, unit)
    names = sorted(set(labels))
    where = {g: i for i, g in enumerate(names)}
    return names, np.array([where[g] for g in labels], dtype=np.int64)


def group_sums(data: np.ndarray, frames: list[str], unit: str) -> tuple[list[str], np.ndarray]:
    """``(names, summed)``: ``data`` ``(rows, frames, ...)`` summed over the frames of each case
    (summing booleans counts them)."""
    names, index = group_index(frames, unit)
    return names, np.stack([data[:, index == g].sum(axis=1) for g in range(len(names))], axis=1)


def declared_unit(frames: list[str]) -> str:
    """The most independent unit the frames give: ``surgery`` when there are at least two
    surgeries (where each surgery has one video this is the video too), else ``video`` when
    the one surgery has several videos, else ``frame``."""
    if len(set(unit_labels(frames, "surgery"))) >= 2:
        return "surgery"
    if len(set(unit_labels(frames, "video"))) >= 2:
        return "video"
    return "frame"


def unit_statement(frames: list[str], unit: str) -> str:
    """One sentence that states the unit, its n, and its limit where it is not the surgery."""
    n = len(set(unit_labels(frames, unit)))
    text = f"Unit of analysis: the {WORDS[unit][0]} ({count(unit, n)})"
    if unit == "surgery":
        videos = len(set(unit_labels(frames, "video")))
        extra = (f"; its {count('video', videos)} and {count('frame', len(frames))} are"
                 " measurements within them, not further cases") if videos > n else ""  # fmt: skip
        return text + extra + "."
    surgeries = len(set(unit_labels(frames, "surgery")))
    if unit == "video":
        return (text + f". The data hold {count('surgery', surgeries)}: videos of one surgery"
                " share the patient, the valve and the scene, so what they show is about that"
                " surgery, not about surgeries in general.")
    return (text + ": frames of one video are not independent, so these tests overstate what the"
            " data show.")


def case_values(per_frame: np.ndarray, frames: list[str], unit: str):
    """``(names, values)``: each case's value, the mean of its frames' values with a missing
    frame (NaN) as 0. At ``unit="frame"`` the values come back as they are (NaN kept, so that
    challengeR's parity analysis can count its missing cases)."""
    per_frame = np.asarray(per_frame, dtype=np.float64)
    if unit == "frame":
        return list(frames), per_frame
    names, index = group_index(frames, unit)
    filled = np.where(np.isnan(per_frame), 0.0, per_frame)
    sizes = np.bincount(index, minlength=len(names)).astype(np.float64)
    out = np.stack([np.bincount(index, weights=row, minlength=len(names)) for row in filled])
    return names, out / sizes


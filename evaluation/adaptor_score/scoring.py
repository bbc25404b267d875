"""Score a prediction tree against a ground-truth tree: the library behind ``adaptor-score score``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adaptor_score.contract import CLOSE_DISTANCE, DEFAULT_MAX_BYTES, RANKING_RADIUS
from adaptor_score.filereader import Inputs, paused_gc, read_inputs
from adaptor_score.folds import assign_folds
from adaptor_score.frames import FrameKey, Problem
from adaptor_score.groundtruth import GroundTruth
from adaptor_score.matching import flatten
from adaptor_score.metrics import FrameScores, Summary, score_flat
from adaptor_score.outputs import write_csv, write_json
from adaptor_score.predictions import (
    Predictions,
    check_prediction_folder,
    claim_tree,
    settle_predictions,
)

DEFAULT_RADII = (RANKING_RADIUS,)
FRAME_COLUMNS = (
    "folder",
    "video",
    "frame",
    "fold",
    "radius",
    "tp",
    "fp",
    "fn",
    "predictions",
    "labels",
    "rmse",
    "close_labels",
    "close_tp",
)
METRIC_KEYS = (
    "radius",
    "tp",
    "fp",
    "fn",
    "ppv",
    "tpr",
    "f1",
    "rmse",
    "rmse_images",
    "images",
    "tp_distance_mean",
    "tp_distance_rms",
)
FRAME_LEVELS = ("overall", "fold", "folder", "video", "frame")
# Spread over folds is the sample standard deviation (n - 1 in the denominator), as is usual for
# cross-validation tables; with a single fold it is undefined and reported as None.
STD_DDOF = 1


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (ddof=1) of the values that are not None.

    >>> [round(x, 4) for x in mean_std([0.5, 0.7])]
    [0.6, 0.1414]
    >>> mean_std([0.5])
    (0.5, None)
    """
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if v.size == 0:
        return None, None
    std = float(v.std(ddof=STD_DDOF)) if v.size > STD_DDOF else None
    return float(v.mean()), std


@dataclass
class FoldSummary:
    """Mean and spread over folds of one metric at one radius."""

    radius: float
    metric: str
    mean: float | None
    std: float | None
    folds: int


@dataclass
class ScoreReport:
    """Everything one scoring run found.

    Attributes:
        frames: per-frame results (keys are :class:`FrameKey`).
        folds: fold of each frame (None: in no fold).
        problems: every input problem, each naming its file.
        missing: ``(F,)`` True where a frame had no usable prediction file (absent, broken or
            claimed twice): scored as no predictions by the challenge's rule, and a missing
            case (the worst value) in challengeR's per-case analyses.
    """

    frames: FrameScores
    folds: list[str | None]
    problems: list[Problem] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    missing: np.ndarray | None = None

    @property
    def radii(self) -> list[float]:
        return [float(r) for r in self.frames.radii]

    def overall(self) -> list[Summary]:
        return self.frames.summary()

    def by_fold(self) -> dict[str, list[Summary]]:
        return self.frames.group_summaries(self.folds)

    def by_folder(self) -> dict[str, list[Summary]]:
        return self.frames.group_summaries([k.folder for k in self.frames.keys])

    def by_video(self) -> dict[str, list[Summary]]:
        return self.frames.group_summaries([f"{k.folder}/{k.video}" for k in self.frames.keys])

    def fold_summary(self) -> list[FoldSummary]:
        folds = self.by_fold()
        out = []
        for j, r in enumerate(self.radii):
            for metric in ("ppv", "tpr", "f1", "rmse"):
                m, s = mean_std([getattr(v[j], metric) for v in folds.values()])
                out.append(FoldSummary(r, metric, m, s, len(folds)))
        return out

    def __repr__(self) -> str:
        f1 = ", ".join(f"F1@{s.radius:g} {s.f1:.4f}" for s in self.overall())
        return (
            f"ScoreReport({len(self.frames)} frames, radii {self.radii}, {f1},"
            f" {len(self.problems)} problems)"
        )

    def to_frame(self, level: str = "overall"):
        """A pandas DataFrame: one row per unit and radius, columns ``radius, tp, fp, fn, ppv,
        tpr, f1, rmse, rmse_images, images, tp_distance_mean, tp_distance_rms, close_labels,
        close_tp, other_labels, other_tp``, after the unit's own columns.

        Args:
            level: ``overall`` (one row per radius), ``fold``, ``folder``, ``video`` or
                ``frame`` (``folder, video, frame, fold`` and the per-frame counts).

        pandas is imported here only, so scoring never pays for it.
        """
        import pandas as pd

        if level not in FRAME_LEVELS:
            raise ValueError(f"level must be one of {', '.join(FRAME_LEVELS)}, got {level!r}")
        if level == "frame":
            return pd.DataFrame(list(self._frame_rows()), columns=list(FRAME_COLUMNS))
        keys = ("close_labels", "close_tp", "other_labels", "other_tp")
        groups = {
            "overall": {None: self.overall()},
            "fold": self.by_fold(),
            "folder": self.by_folder(),
            "video": self.by_video(),
        }[level]
        rows = [
            {
                **({} if level == "overall" else {level: g}),
                **{k: getattr(s, k) for k in METRIC_KEYS + keys},
            }
            for g, summaries in groups.items()
            for s in summaries
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        def rows(summaries: list[Summary], **extra) -> list[dict]:
            return [{**extra, **{k: getattr(s, k) for k in METRIC_KEYS}} for s in summaries]

        folds = self.by_fold()
        return {
            "overall": rows(self.overall()),
            "folds": [r for f, v in folds.items() for r in rows(v, fold=f)],
            "fold_summary": [vars(s) for s in self.fold_summary()],
            "folders": [r for f, v in self.by_folder().items() for r in rows(v, folder=f)],
            "videos": [r for f, v in self.by_video().items() for r in rows(v, video=f)],
            "close_points": [
                {
                    "radius": s.radius,
                    "close_labels": s.close_labels,
                    "close_tp": s.close_tp,
                    "close_tp_share": s.close_tp_share,
                    "other_labels": s.other_labels,
                    "other_tp": s.other_tp,
                    "other_tp_share": s.other_tp_share,
                }
                for s in self.overall()
            ],
            "problems": [p.to_dict() for p in self.problems],
            "settings": self.settings,
        }

    def write_json(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    def _frame_rows(self):
        fs = self.frames
        fp, fn = fs.fp, fs.fn
        for i, key in enumerate(fs.keys):
            rm = None if np.isnan(fs.rmse[i]) else float(fs.rmse[i])
            for j, r in enumerate(fs.radii):
                yield [
                    key.folder,
                    key.video,
                    key.frame,
                    self.folds[i] or "",
                    float(r),
                    int(fs.tp[i, j]),
                    int(fp[i, j]),
                    int(fn[i, j]),
                    int(fs.n_pred[i]),
                    int(fs.n_label[i]),
                    rm,
                    int(fs.close_labels[i]),
                    int(fs.close_tp[i, j]),
                ]

    def write_frames_csv(self, path: str | Path) -> None:
        """Per-frame breakdown, one row per frame and radius (the ``frame`` level of
        :meth:`to_frame`)."""
        rows = (
            [("" if v is None else (repr(v) if k == 10 else v)) for k, v in enumerate(r)]
            for r in self._frame_rows()
        )
        write_csv(path, FRAME_COLUMNS, rows)


def score_predictions(
    gt: GroundTruth,
    predictions: Predictions,
    radii: Sequence[float] = DEFAULT_RADII,
    folds: Sequence[str | None] | None = None,
    close_distance: float = CLOSE_DISTANCE,
) -> ScoreReport:
    keys = gt.keys
    empty = np.zeros((0, 2))
    frames = score_flat(
        *flatten([predictions.points.get(k, empty) for k in keys]),
        *flatten([gt.points[k] for k in keys]),
        radii,
        keys=keys,
        close_distance=close_distance,
    )
    return ScoreReport(
        frames=frames,
        folds=list(folds) if folds is not None else [k.folder for k in keys],
        problems=list(predictions.problems),
        missing=np.array([k not in predictions.points for k in keys], dtype=bool),
    )


def score(
    gt_dir: str | Path | GroundTruth,
    pred_dir: str | Path,
    radii: Sequence[float] = DEFAULT_RADII,
    fold_file: str | Path | None = None,
    keys: Sequence[FrameKey] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    close_distance: float = CLOSE_DISTANCE,
    inputs: Inputs | None = None,
) -> ScoreReport:
    """Score a prediction folder against a ground-truth folder.

    Args:
        gt_dir: AdaptOR tree with ``<folder>/<video>/point_labels/<frame>.json`` (or a loaded
            :class:`GroundTruth`). A broken label file raises ``GroundTruthError``.
        pred_dir: participant JSON files anywhere below it.
        radii: match radii in pixels (distance ``<= r``).
        fold_file: CSV of folds; default leave-one-folder-out.
        keys: score only the ground-truth frames with these keys (e.g. one fold's);
            predictions for other ground-truth frames are skipped silently.
        max_bytes: prediction files above this size are refused (listed as problems).
        inputs: both trees already read from ``gt_dir`` and ``pred_dir`` by
            :func:`~adaptor_score.filereader.read_inputs` (the command line starts reading
            before it imports the rest).

    Returns:
        :class:`ScoreReport`; its ``problems`` list every broken or missing input.
    """
    with paused_gc():
        if isinstance(gt_dir, GroundTruth):
            check_prediction_folder(pred_dir)
            inputs, tree, all_keys = None, claim_tree(pred_dir, max_bytes), gt_dir.keys
        else:
            # the label files are read by a helper process when it pays
            # (adaptor_score.filereader), the same results either way
            inputs = inputs or read_inputs(gt_dir, pred_dir, max_bytes)
            tree, all_keys = inputs.tree, inputs.keys
        try:
            scored = all_keys
            if keys is not None:
                wanted = set(keys)
                scored = [k for k in all_keys if k in wanted]
            ignore = set(all_keys) - set(scored)
            # needs only the frames' names: done while the helper may still read the labels
            preds = settle_predictions(tree, pred_dir, scored, ignore=ignore)
            gt = gt_dir if inputs is None else inputs.ground_truth()
        finally:
            if inputs is not None:
                inputs.close()
        if keys is not None:
            gt = gt.subset(scored)
        fold_of = assign_folds(gt.keys, fold_file)
        report = score_predictions(gt, preds, radii, fold_of, close_distance)
        uncovered = [k for k, f in zip(gt.keys, fold_of) if f is None]
        if uncovered:
            report.problems.append(
                Problem(
                    str(fold_file),
                    f"{len(uncovered)} frames are in no fold (first: {uncovered[0]}); they count"
                    " overall but in no fold",
                )
            )
    report.settings = {
        "ground_truth": str(gt.root),
        "predictions": str(pred_dir),
        "radii": report.radii,
        "folds": str(fold_file) if fold_file else "leave-one-folder-out",
        "std": "sample standard deviation over folds (ddof=1)",
        "close_distance": close_distance,
        "frames": len(gt),
        "formats": preds.formats,
    }
    return report

"""Reading a scoring run's files on two cores: the label files in a helper process while this
one reads the prediction files.

Scoring is bound by reading files: 20,000 frames are 40,000 small JSON files, and opening,
checking and decoding each costs 10-20 µs in Python, more than all the matching. Label and
prediction files are independent (which frame a prediction file claims is in the file itself), so
on a machine with two or more cores a helper process reads the label files while this one walks
and reads the prediction tree, then prepares what needs only the frames' names; whatever label
files are left then are shared (:mod:`adaptor_score.readhelper`). The helper starts as soon as
the labels are listed, so that its start-up (about 0.08 s) overlaps this process's walk and
imports. Measured in ``benchmarks/results/scoring.json``.

Every rule holds unchanged, because both processes run the same readers: the same checks, the
same messages, the first broken label file stops the run. Results never depend on the helper,
only the time: if it cannot start or fails, its files are read here.

Small runs (below ``MIN_FILES`` label files) and single-core machines read in-process: starting
an interpreter costs more than it saves. ``ADAPTOR_SCORE_WORKERS=1`` turns the helper (and the
matching threads, :mod:`adaptor_score.workers`) off.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adaptor_score.contract import DEFAULT_MAX_BYTES, MAX_TOTAL_BYTES
from adaptor_score.frames import FrameKey, InputFileError
from adaptor_score.groundtruth import (
    GroundTruth,
    LabelData,
    assemble,
    list_ground_truth,
    read_label_files,
)
from adaptor_score.predictions import ClaimedTree, check_prediction_folder, claim_tree
from adaptor_score.readhelper import ReadHelper
from adaptor_score.workers import workers

# Below this many label files the helper's start-up costs more than it saves.
MIN_FILES = 4000


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a run builds its many small objects.

    Reading 20,000 frames makes about 200,000 containers (keys, claims, lists, views); each
    700 new ones trigger a collection, and the older generations are traversed again and again,
    which cost 0.1 s of a 1 s run. Nothing built here forms a reference cycle, so nothing is
    left for the collector; its previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Inputs:
    """The two trees of one run: the claimed prediction tree (:attr:`tree`), the label files
    (:attr:`keys` and :attr:`label_files`, listed) and their points, which the helper process
    may still be reading: :meth:`ground_truth` waits for them, so that the caller can prepare
    everything that needs only the frames' names meanwhile."""

    def __init__(self, gt_root, label_files, tree, helper, labels) -> None:
        self.gt_root = Path(gt_root)
        self.label_files: list[tuple[FrameKey, str]] = label_files
        self.tree: ClaimedTree = tree
        self._helper = helper
        self._labels: LabelData | None = labels
        self._gt: GroundTruth | None = None
        self.helper_files = 0  # label files the helper process read (0: all read here)
        self.helper_predictions = 0  # prediction files whose reading by the helper was used

    @property
    def keys(self) -> list[FrameKey]:
        return [k for k, _ in self.label_files]

    def ground_truth(self) -> GroundTruth:
        """The labels; raises :class:`GroundTruthError` for the first broken label file."""
        if self._gt is None:
            with paused_gc():
                if self._helper is not None:
                    helper, self._helper = self._helper, None
                    self._labels = helper.labels()
                    self.helper_files = len(self.label_files) - helper.labels_here
                    self.helper_predictions = helper.predictions_there
                if self._labels is None:
                    self._labels = read_label_files([f for _, f in self.label_files])
                self._gt = assemble(self.gt_root, self.label_files, self._labels)
        return self._gt

    def close(self) -> None:
        """Stop the helper if its labels are no longer wanted."""
        if self._helper is not None:
            self._helper.stop()
            self._helper = None


def read_inputs(
    gt_root: str | Path,
    pred_root: str | Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    min_files: int = MIN_FILES,
) -> Inputs:
    """List the ground truth and read the prediction tree, the label files meanwhile in a helper
    process when that pays (see the module's docstring).

    Raises :class:`GroundTruthError` for the ground truth as
    :func:`~adaptor_score.groundtruth.load_ground_truth` does (a broken label file when
    :meth:`Inputs.ground_truth` is called), and :class:`~adaptor_score.frames.InputFileError`
    for a prediction folder that is not one.
    """
    with paused_gc():
        label_files = list_ground_truth(gt_root)  # listing errors stop the run here, at once
        label_paths = [f for _, f in label_files]
        helper = labels = None
        if len(label_files) >= min_files and workers() > 1 and os.name == "posix":
            try:
                helper = ReadHelper(label_paths, max_bytes, max_total_bytes)
            except Exception:  # no process to be had, or a request it cannot carry: read here,
                helper = None  # with the same results (the helper only ever saves time)
        if helper is None:
            labels = read_label_files(label_paths)  # first, as a broken label file stops the run
        try:
            check_prediction_folder(pred_root)
            shared = helper.predictions if helper is not None else None
            tree = claim_tree(pred_root, max_bytes, max_total_bytes, shared)
        except InputFileError:
            if helper is not None:
                helper.labels()  # a broken label file is still the error reported
            raise
        except BaseException:
            if helper is not None:
                helper.stop()
            raise
        return Inputs(gt_root, label_files, tree, helper, labels)

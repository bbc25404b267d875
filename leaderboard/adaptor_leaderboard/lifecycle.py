"""A submission's life, once: check, claim within the limit, score the output, record it.

``ledger add-output`` (an output made elsewhere) and ``run`` (a container run here) both go
through these functions, so both keep the same guarantees:

* **Checked before it is claimed**, so a refusal never costs the team a submission: the ground
  truth must load, and a container's input must be images only, the ground truth's frames and no
  more, and disjoint from the ground truth (:func:`check_test_input`). Seen before this check:
  ``run --input sample --ground-truth sample`` showed the container ``point_labels/``.
* **Claimed in one transaction** with the limit check (:func:`claim`).
* **Every path after the claim ends in a status** (:func:`settled`): a failure on our side (the
  disk, the scorer, an exception anywhere, Ctrl-C) is recorded as ours, ``charged = 0``. Seen
  before: in ``add-output`` any error but two named ones left the submission queued and counting
  against the team until ``ledger recover``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger, LedgerError, LimitReached
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_score.contract import IMAGE_SUFFIXES, LABEL_FOLDER, REPORT_RADII, image_stem
from adaptor_score.frames import FrameKey, InputFileError, key_from_relative_path
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.pathguard import relation
from adaptor_score.safefiles import walk_files
from adaptor_score.scoring import score

# A dataset written by `adaptor-baseline synth` names its look-alikes: as good as labels.
SYNTH_MANIFEST = "synth.json"


class SubmissionInputError(InputFileError):
    """An input tree that must not be shown to a container; nothing was claimed."""


def check_test_input(input_dir: str | Path, gt: GroundTruth) -> int:
    """Refuse an input tree that holds labels, overlaps the ground truth, holds no image, or whose
    frames are not exactly the ground truth's; returns the number of images."""
    where = relation(input_dir, gt.root)
    if where:
        raise SubmissionInputError(
            input_dir, f"{where} the ground truth {gt.root}; the container would see the labels"
        )
    keys: set[FrameKey] = set()
    for path, why in walk_files(input_dir, ("",)):  # every entry, not only images
        if why is not None:  # a tree we cannot fully see cannot be vouched for
            raise SubmissionInputError(path, f"{why}; the test input must be plain image files")
        rel = Path(path).relative_to(input_dir)
        if LABEL_FOLDER in rel.parts[:-1] or rel.name == SYNTH_MANIFEST:
            raise SubmissionInputError(
                path, "a label file in the input; the container must not see it"
            )
        if rel.name.lower().endswith(".json"):
            raise SubmissionInputError(path, "a JSON file in the input (labels?); images only")
        if rel.name.lower().endswith(IMAGE_SUFFIXES):
            key = key_from_relative_path(rel.with_name(image_stem(rel.name) + ".png"))
            if key is not None:
                keys.add(key)
    if not keys:
        raise SubmissionInputError(input_dir, "holds no image in the <folder>/<video>/ layout")
    expected = set(gt.keys)
    if keys != expected:
        extra, missing = sorted(keys - expected), sorted(expected - keys)
        said = []
        if missing:
            said.append(f"{len(missing)} ground-truth frame(s) have no image (first {missing[0]})")
        if extra:
            said.append(f"{len(extra)} image(s) are not ground-truth frames (first {extra[0]})")
        raise SubmissionInputError(input_dir, "; ".join(said) + ": not the ground truth's frames")
    return len(keys)


def claim(
    ledger: Ledger, team: str, rules: PhaseRules, institute: str = "", image: str = "",
    digest: str = "", archive: str = "", now: float | None = None,
) -> str:  # fmt: skip
    """A queued submission, the limit checked in the same transaction; ``PermissionError`` when
    the team has none left or the phase is not open at ``now``. The clock is read once (here,
    unless given) and recorded as the submission's time."""
    now = time.time() if now is None else now
    closed = rules.window_problem(now)
    if closed:
        raise PermissionError(closed)
    try:
        return ledger.add_submission(
            team, rules.phase, institute, image, digest, limit=rules.max_submissions,
            archive=archive, at=now,
        )  # fmt: skip
    except LimitReached as e:
        raise PermissionError(str(e)) from None


@contextmanager
def settled(ledger: Ledger, submission_id: str) -> Iterator[None]:
    """Whatever escapes the block, a submission still queued or running is marked failed on our
    side (not charged) before the exception goes on."""
    try:
        yield
    except BaseException as e:
        fail_ours(ledger, submission_id, f"infrastructure: {type(e).__name__}: {e}")
        raise


def fail_ours(ledger: Ledger, submission_id: str, reason: str) -> None:
    try:
        if ledger.get(submission_id).status in ("queued", "running"):
            ledger.fail(submission_id, reason, ours=True)
    except LedgerError as again:
        print(
            f"warning: could not record the failure of {submission_id} ({again}); it stays"
            " 'running' until `adaptor-leaderboard ledger recover` marks it failed on our side",
            file=sys.stderr,
        )


def score_into_ledger(
    ledger: Ledger,
    submission_id: str,
    output_dir: str | Path,
    gt: str | Path | GroundTruth,
    run_seconds: float | None = None,
    radii=REPORT_RADII,
    note: str = "",
):
    """Score an output folder (at 6/8/10 px by default) and store it (overall, per surgery, per
    frame)."""
    report = score(gt, output_dir, sorted(set(radii)))
    root = gt.root if isinstance(gt, GroundTruth) else gt
    ledger.record_scoring(submission_id, report, str(root), run_seconds, note)
    return report


def add_output(
    ledger: Ledger,
    output_dir: str | Path,
    gt_dir: str | Path,
    team: str,
    rules: PhaseRules,
    institute: str = "",
    image: str = "",
):
    """Record and score an output made elsewhere: ``(submission_id, report)``. The ground truth
    and the output folder are checked before the claim; after it, every failure is ours."""
    gt = load_ground_truth(gt_dir)  # before the claim: a broken one costs no submission
    where = relation(output_dir, gt.root)
    if where:
        raise SubmissionInputError(
            output_dir, f"overlaps the ground truth {gt.root}: the output folder {where} it"
        )
    if not Path(output_dir).is_dir():
        raise SubmissionInputError(output_dir, "the output folder does not exist")
    sid = claim(ledger, team, rules, institute, image)
    with settled(ledger, sid):
        report = score_into_ledger(ledger, sid, output_dir, gt, radii=(*REPORT_RADII, rules.radius))
    return sid, report

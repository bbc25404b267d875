"""Running a submitted image on the hidden test set and scoring it into the ledger: the
lifecycle of :mod:`adaptor_leaderboard.lifecycle` (check, claim, settle, score) around one
container run of :mod:`adaptor_leaderboard.container` (limits, watchdog, output measurement).
Whatever the container does — hang, crash, run out of memory, flood its output with bytes, files
or folders nested a thousand deep, write FIFOs, symlinks or files outside the layout — fails or
degrades its own submission only, and scoring treats the output as untrusted input (see
``adaptor_score.predictions``).

Accounting: the limit check and the claim of a submission are one ledger transaction. Every
path after the claim ends in a ledger status; a failure on our side (engine, disk, scorer,
ground truth, an exception anywhere in here) is recorded with ``charged = 0`` and never uses up
one of the team's submissions. A run killed outright (the organiser's machine rebooted) stays
``running`` until ``ledger recover`` marks it failed on our side.

Exit status: a complete output counts. When the container exits non-zero but wrote a file for
every input image, the output is scored (the exit code is kept in the reason); a non-zero exit
with files missing fails the submission. Statuses and reasons: ``failed`` with
``time limit (N s)``, ``out of memory (exit 137)``, ``exit N; M of K outputs missing``,
``output over ...`` (charged), ``infrastructure: ...`` (not charged); else ``scored``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.archive import (
    ArchiveInfo,
    check_tags,
    inspect_archive,
    is_archive,
    load_archive,
)
from adaptor_leaderboard.container import RunLimits, run_container
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.lifecycle import (
    check_test_input,
    claim,
    score_into_ledger,
    settled,
)
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_score.contract import REPORT_RADII
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.pathguard import check_outputs, child

__all__ = ["Claimed", "RunLimits", "RunResult", "run_submission", "score_into_ledger"]


@dataclass
class RunResult:
    submission_id: str
    status: str
    reason: str
    run_seconds: float
    exit_code: int | None
    f1: float | None = None


@dataclass(frozen=True)
class Claimed:
    """A claimed submission and everything its run needs."""

    submission_id: str
    image: str
    input_dir: Path
    gt: GroundTruth
    work_dir: Path
    rules: PhaseRules
    limits: RunLimits
    command: str


def run_submission(
    client,
    ledger: Ledger,
    image: str,
    team: str,
    input_dir: str | Path,
    gt_dir: str | Path,
    work_dir: str | Path,
    rules: PhaseRules,
    institute: str = "",
    limits: RunLimits = RunLimits(),
    command: str = "landmark_detection",
    report=None,
) -> RunResult:
    """Run ``image`` on ``input_dir``, score its output against ``gt_dir``, record everything;
    ``report(line)`` receives a progress line every ``limits.report_seconds`` while it runs.

    Raises, with nothing recorded: ``GroundTruthError`` for a ground truth that cannot be used,
    :class:`~adaptor_leaderboard.lifecycle.SubmissionInputError` for an input the container must
    not see (labels, the ground truth itself, other frames), ``PathError`` for a work folder
    inside an input, ``ValueError`` when the image is unknown to the engine or an archive is not
    one image of this team's (``archive.ArchiveError``), ``PermissionError`` when the team has no
    submission left. ``image`` may be an archive (``.tar``, ``.tar.gz``), by its path or already
    inspected (:class:`~adaptor_leaderboard.archive.ArchiveInfo`): see ``archive``.
    """
    import docker

    now = time.time()  # the submission's time: its phase window is judged by it, once
    closed = rules.window_problem(now)
    if closed:  # before the archive is read or loaded
        raise PermissionError(closed)
    gt = load_ground_truth(gt_dir)  # everything that can be refused is, before the claim
    check_test_input(input_dir, gt)
    check_outputs({"--input": input_dir, "--ground-truth": gt_dir}, {"--work": work_dir})
    archive = ""
    if isinstance(image, str) and is_archive(image):
        image = inspect_archive(image, say=report)
    if isinstance(image, ArchiveInfo):  # checked, then loaded; run by its id, which no tag moves
        info = image
        check_tags(info, team, client, ledger)
        digest = load_archive(info, client, say=report)
        archive = info.record
        image = info.tags[0] if info.tags else digest
        run_as = digest
    else:
        try:
            digest = client.images.get(image).id
        except docker.errors.ImageNotFound:
            raise ValueError(f"image {image!r} not found on the engine") from None
        run_as = image
    same = sorted({s.team for s in ledger.submissions() if s.digest == digest and s.team != team
                   and (ledger.canonical_team(team) or team) != s.team})  # fmt: skip
    if same and report is not None:  # not a refusal (teams may share a public model), a word
        report(f"note: the same image ({digest[:19]}…) was submitted by {', '.join(same)}")
    sid = claim(ledger, team, rules, institute, image, digest, archive, now)
    image = run_as
    job = Claimed(sid, image, Path(input_dir), gt, Path(work_dir), rules, limits, command)
    try:
        with settled(ledger, sid):  # our side broke (or Ctrl-C): never the team's loss
            return _run_claimed(client, ledger, job, report)
    except Exception as e:
        return RunResult(sid, "failed", f"infrastructure: {type(e).__name__}: {e}", 0.0, None)


def _run_claimed(client, ledger, job: Claimed, report=None) -> RunResult:
    sid = job.submission_id
    run_dir = child(job.work_dir, sid, what="submission id")
    ledger.set_status(sid, "running")
    run = run_container(client, job.image, job.command, job.input_dir, run_dir, job.limits, report)
    exit_code, seconds, reason = run.exit_code, run.seconds, run.reason
    if reason:
        ledger.fail(sid, reason, ours=run.ours, run_seconds=None if run.ours else seconds)
        return RunResult(sid, "failed", reason, seconds, exit_code)
    note = f"exit {exit_code}; output complete, scored" if exit_code else ""
    try:
        report = score_into_ledger(
            ledger, sid, run_dir / "output", job.gt, seconds,
            (*REPORT_RADII, job.rules.radius), note,
        )  # fmt: skip
    except Exception as e:  # our side (the ground truth, the disk): not the team's fault
        reason = f"infrastructure: scoring failed: {e}"
        ledger.fail(sid, reason, ours=True, run_seconds=seconds)
        return RunResult(sid, "failed", reason, seconds, exit_code)
    f1 = next(s.f1 for s in report.overall() if s.radius == job.rules.radius)
    return RunResult(sid, "scored", note, seconds, exit_code, f1)

"""The challenge's second task: running a submission's ``domain_transformation`` and keeping what
it wrote. Reported, never ranked and never charged.

``run_translations`` runs the container's ``domain_transformation`` command on an images-only
input of each domain, under the same limits and safety as the landmark run
(:func:`adaptor_leaderboard.container.run_container`), its outputs kept per submission
(``<work>/<submission>/translate-<domain>/output``), and records one row per domain in the
ledger's ``translations`` table:

* ``translated``: an output for every input image (its problems, as
  :func:`adaptor_score.translation.validate_translation` lists them, counted);
* ``incomplete``: some images have no output;
* ``not offered``: the container wrote no translation at all (a container without the optional
  task exits with an error, or does something else); recorded as such, with its exit status,
  never a failure of the submission;
* ``failed``: the run broke a limit (time, memory, output size) or our side failed to start it.

The landmark submission's status, and what it is charged, never depend on any of this.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from adaptor_leaderboard.container import RunLimits, run_container
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.lifecycle import SubmissionInputError
from adaptor_score.contract import IMAGE_SUFFIXES, LABEL_FOLDER
from adaptor_score.pathguard import child
from adaptor_score.safefiles import walk_files
from adaptor_score.translation import translated_pairs, validate_translation
from adaptor_score.validate import find_images

DOMAINS = ("sim", "intraop")


@dataclass(frozen=True)
class Translation:
    submission_id: str
    domain: str
    input_dir: str
    output_dir: str
    status: str
    reason: str
    images: int
    written: int
    problems: int
    run_seconds: float | None


def check_translation_input(input_dir: str | Path) -> int:
    """An input the container may see: images in the release layout and nothing else (no
    labels, no JSON). Returns the number of images; :class:`SubmissionInputError` otherwise."""
    root = Path(input_dir)
    if not root.is_dir():
        raise SubmissionInputError(root, "the translation input folder does not exist")
    for path, _ in walk_files(root, (".json",)):
        raise SubmissionInputError(path, "a JSON file in a translation input; images only")
    for folder, subfolders, _ in os.walk(root):  # links to folders are not followed
        if LABEL_FOLDER in subfolders:
            raise SubmissionInputError(Path(folder) / LABEL_FOLDER, "labels in a translation"
                                       " input; images only")  # fmt: skip
    images, _ = find_images(root)
    if not images:
        raise SubmissionInputError(root, f"holds no image ({', '.join(IMAGE_SUFFIXES)})")
    return len(images)


def judge(exit_code, reason: str, out: Path, input_dir: Path, images: int) -> tuple[str, str, int, int]:
    """``(status, reason, written, problems)`` of one finished translation run."""
    if reason:
        return "failed", reason, 0, 0
    written = len(translated_pairs(out, input_dir)) if out.is_dir() else 0
    if written == 0:
        return "not offered", f"exit {exit_code}, no translation written", 0, 0
    problems = len(validate_translation(out, input_dir)[0]) if written else 0
    note = f"exit {exit_code}" if exit_code else ""
    if written < images:
        return "incomplete", "; ".join(filter(None, [note, f"{images - written} of {images}"
                                                             " images without output"])), written, problems  # fmt: skip
    return "translated", note, written, problems


def record(ledger: Ledger, t: Translation) -> None:
    with ledger.transaction() as c:
        c.execute(
            "INSERT INTO translations (submission_id, domain, input_dir, output_dir, status,"
            " reason, images, written, problems, run_seconds, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (t.submission_id, t.domain, t.input_dir, t.output_dir, t.status, t.reason, t.images,
             t.written, t.problems, t.run_seconds, time.time()),
        )  # fmt: skip


def latest(ledger: Ledger, phase: str | None = None) -> list[dict]:
    """The latest translation of each submission and domain, with its team, in ledger order."""
    rows = ledger.query(
        "SELECT t.*, s.team, s.phase, s.seq FROM translations t"
        " JOIN submissions s ON s.submission_id = t.submission_id"
        " WHERE t.id IN (SELECT MAX(id) FROM translations GROUP BY submission_id, domain)"
        + (" AND s.phase = ?" if phase else "") + " ORDER BY s.seq, t.domain",
        (phase,) if phase else (),
    )
    return [dict(r) for r in rows]


def run_translations(
    client, ledger: Ledger, submission_id: str, image: str, inputs: dict[str, Path],
    work_dir: Path, limits: RunLimits = RunLimits(), report=None,
) -> list[Translation]:  # fmt: skip
    """Run ``image``'s ``domain_transformation`` on each domain's input and record each run."""
    out = []
    for domain, input_dir in inputs.items():
        images = check_translation_input(input_dir)
        run_dir = child(child(work_dir, submission_id, what="submission id"),
                        f"translate-{domain}", what="domain")  # fmt: skip
        run = run_container(client, image, "domain_transformation", input_dir, run_dir, limits,
                            report)  # fmt: skip
        status, reason, written, problems = judge(run.exit_code, run.reason, run_dir / "output",
                                                  Path(input_dir), images)  # fmt: skip
        t = Translation(submission_id, domain, str(input_dir), str(run_dir / "output"), status,
                        reason, images, written, problems, run.seconds)  # fmt: skip
        record(ledger, t)
        out.append(t)
    return out


def add_translation(ledger: Ledger, submission_id: str, domain: str, input_dir, output_dir) -> Translation:
    """Record a translation made elsewhere (a container run by hand, the demo) for a
    submission already in the ledger; judged as a run's would be."""
    images = check_translation_input(input_dir)
    status, reason, written, problems = judge(0, "", Path(output_dir), Path(input_dir), images)
    t = Translation(submission_id, domain, str(input_dir), str(output_dir), status, reason,
                    images, written, problems, None)  # fmt: skip
    record(ledger, t)
    return t

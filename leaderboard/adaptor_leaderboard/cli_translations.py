"""The domain-transformation task on the command line: running it beside a submission
(``run --translate``), recording one made elsewhere (``ledger add-translation``) and listing
what is recorded (``translations``)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import msgspec
from rich.table import Table
from rich.text import Text

from adaptor_leaderboard.cli_options import LEDGER_OPTION
from adaptor_leaderboard.cli_options import open_ledger as _open
from adaptor_leaderboard.ledger import LedgerError
from adaptor_leaderboard.lifecycle import SubmissionInputError
from adaptor_score.cli_common import console, emit_rows, err_console, fatal

DOMAINS = ("sim", "intraop")


def translation_inputs(values) -> dict[str, Path]:
    """``--translate DOMAIN=FOLDER`` values as ``{domain: folder}``, each folder checked as an
    images-only input before anything is claimed."""
    from adaptor_leaderboard.translations import check_translation_input

    out: dict[str, Path] = {}
    for v in values:
        domain, sep, folder = v.partition("=")
        if not sep or domain not in DOMAINS or not folder:
            raise click.BadParameter(f"{v!r}: give DOMAIN=FOLDER, DOMAIN one of"
                                     f" {', '.join(DOMAINS)}", param_hint="--translate")  # fmt: skip
        if domain in out:
            raise click.BadParameter(f"{domain} given twice", param_hint="--translate")
        try:
            check_translation_input(folder)
        except SubmissionInputError as e:
            raise click.BadParameter(str(e), param_hint="--translate") from None
        out[domain] = Path(folder)
    return out


def run_translation_tasks(client, ledger, submission_id, inputs, work_dir, limits) -> None:
    """The domain_transformation task of a submission just run, by the image id the ledger
    recorded for it: the same image the landmarks came from, whether it was named or loaded
    from an archive (whose path is no image name), and whatever a tag points at meanwhile."""
    from adaptor_leaderboard.translations import run_translations

    try:
        image = ledger.get(submission_id).digest
        done = run_translations(client, ledger, submission_id, image, inputs, Path(work_dir),
                                limits)  # fmt: skip
    except (LedgerError, SubmissionInputError) as e:
        fatal(e)
    for t in done:
        extra = f" ({t.reason})" if t.reason else ""
        console.print(Text(f"domain_transformation on {t.domain}: {t.status}, {t.written} of"
                           f" {t.images} images, {t.problems} problem(s){extra}"))  # fmt: skip


@click.command("add-translation")
@click.argument("output_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--input", "input_dir", required=True,
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The images-only input that was translated.")  # fmt: skip
@click.option("--domain", type=click.Choice(DOMAINS), required=True, help="The input's domain.")
@click.option("--submission", "submission_id", help="The submission it belongs to.")
@click.option("--team", help="Or: the team's latest submission in --phase.")
@click.option("--phase", default="test", show_default=True)
@LEDGER_OPTION
def add_translation_cmd(output_dir, input_dir, domain, submission_id, team, phase, ledger_path):
    """Record a domain_transformation output made elsewhere for a submission in the ledger."""
    from adaptor_leaderboard.translations import add_translation

    with _open(ledger_path) as ledger:
        try:
            if submission_id is None:
                if team is None:
                    fatal("give --submission or --team")
                mine = [s for s in ledger.submissions(phase) if s.team.casefold() == team.casefold()]
                if not mine:
                    fatal(f"no submission of {team!r} in phase {phase}")
                submission_id = mine[-1].submission_id
            t = add_translation(ledger, submission_id, domain, input_dir, output_dir)
        except (LedgerError, SubmissionInputError) as e:
            fatal(e)
    console.print(Text(f"recorded {t.domain} translation of {submission_id}: {t.status},"
                       f" {t.written} of {t.images} images, {t.problems} problem(s)"))  # fmt: skip


@click.command("translations")
@click.option("--phase", default="test", show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rows as JSON (the folders translation-measures reads; '-':"
              " on standard output, instead of the table).")
@LEDGER_OPTION
def translations_cmd(phase, json_out, ledger_path):
    """List the latest domain_transformation of each submission and domain."""
    from adaptor_leaderboard.translations import latest

    with _open(ledger_path, readonly=True) as ledger:
        try:
            rows = latest(ledger, phase)
        except LedgerError as e:
            fatal(e)
    t = Table(title=Text(f"domain_transformation runs, phase {phase}"), title_justify="left")
    for col in ("team", "submission", "domain", "status", "images", "problems", "output"):
        t.add_column(col)
    for r in rows:
        t.add_row(Text(r["team"]), r["submission_id"][:12], r["domain"], r["status"],
                  f"{r['written']}/{r['images']}", str(r["problems"]), Text(r["output_dir"]))  # fmt: skip
    emit_rows(json_out, rows, t)


class _AtRadius(msgspec.Struct):
    f1: float | None
    ppv: float | None
    tpr: float | None


class _Radii(msgspec.Struct, rename={"r6": "6", "r8": "8", "r10": "10"}):
    """The three radii the page prints: each must be there (a file without 10 px used to pass
    this check and then stop ``publish`` with a KeyError)."""

    r6: _AtRadius
    r8: _AtRadius
    r10: _AtRadius


class _Consistency(msgspec.Struct):
    frames: int
    source: _Radii
    translated: _Radii


class _Realism(msgspec.Struct):
    frechet: float
    low: float | None
    high: float | None
    images: int
    real_images: int
    replicates: int


class _Entry(msgspec.Struct):
    folder: str
    images: int
    consistency: _Consistency
    realism: _Realism | None
    problems: list[str] = []


class _Measures(msgspec.Struct):
    """What `adaptor-baseline translation-measures` writes, as far as the page reads it."""

    source: str
    translations: dict[str, _Entry]
    domain: str = "?"
    target: str = "?"
    problems: list[str] = []


def translation_measures_file(path: Path) -> dict:
    """A measures file of ``adaptor-baseline translation-measures``, its shape checked (it names
    folders the gallery reads, and numbers the page prints); exit 2 naming the file otherwise."""
    from adaptor_score.safefiles import BadFile, read_bytes

    try:
        doc = msgspec.json.decode(read_bytes(path, 16 << 20), type=_Measures)
    except (BadFile, msgspec.DecodeError, msgspec.ValidationError) as e:
        fatal(f"{path}: not a file of `adaptor-baseline translation-measures` ({e})")
    return msgspec.to_builtins(doc)


@click.command("test-input")
@click.argument("labelled", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--flat", is_flag=True, help="One folder of <folder>__<video>__<frame> images, for"
              " a Grand-Challenge upload (`adaptor-score grand-challenge` reads the names back).")
def test_input_cmd(labelled, out_dir, flat):
    """Write the images of a labelled tree (release layout) to OUT_DIR, and nothing else: no
    labels, no JSON. That is the input `run --input` and `run --translate` accept."""
    from adaptor_score import atomic
    from adaptor_score.contract import LABEL_FOLDER
    from adaptor_score.pathguard import check_outputs
    from adaptor_score.safefiles import BadFile, read_bytes
    from adaptor_score.validate import find_images, image_size

    check_outputs({"LABELLED": labelled}, {"OUT_DIR": out_dir})
    if out_dir.exists() and any(out_dir.iterdir()):
        fatal(f"{out_dir}: is not empty; write the test input into a new folder")
    images, problems = find_images(labelled)
    images = [p for p in images if LABEL_FOLDER not in p.relative_to(labelled).parts]
    if problems:  # a test input without some frame would refuse every run later: stop here
        for p in problems:
            err_console.print(Text(f"  {p.file}: {p.problem}"), soft_wrap=True)
        fatal(f"{labelled}: {len(problems)} image(s) cannot be copied (listed above); nothing"
              " was written")  # fmt: skip
    if not images:
        fatal(f"{labelled}: holds no image")
    targets = [_flat_name(p.relative_to(labelled)) if flat else p.relative_to(labelled)
               for p in images]  # fmt: skip
    if len(set(targets)) != len(targets):
        fatal(f"{labelled}: two images would share one name in {out_dir}")
    for p in images:  # every image checked before the first is written
        if p.is_symlink():  # a link can name any file (a label, a host file): never copied
            fatal(f"{p}: a symbolic link ({os.readlink(p)}); the test input is copied from"
                  " regular image files only; nothing was written")  # fmt: skip
        try:
            image_size(p)  # its header says an image of its kind: a label renamed .png is not
        except (BadFile, ValueError, OSError) as e:
            fatal(f"{p}: not an image ({e}); nothing was written")
    for p, target in zip(images, targets):
        try:
            atomic.write_bytes(out_dir / target, read_bytes(p, 256 << 20))
        except BadFile as e:
            fatal(f"{p}: {e}")
    console.print(Text(f"wrote {len(images)} images (no labels, no JSON) to {out_dir}"))


def _flat_name(relative: Path) -> str:
    """``aicm1/VID000_0/images/000001.png`` -> ``aicm1__VID000_0__000001.png``; a path that names
    no frame, or a part holding the separator (it could not be read back), stops the command."""
    from adaptor_score.frames import key_from_relative_path
    from adaptor_score.grandchallenge import FLAT_SEPARATOR

    key = key_from_relative_path(relative)
    if key is None or any(FLAT_SEPARATOR in part for part in key):
        fatal(f"{relative}: cannot be named <folder>{FLAT_SEPARATOR}<video>{FLAT_SEPARATOR}<frame>")
    return FLAT_SEPARATOR.join(key) + relative.suffix


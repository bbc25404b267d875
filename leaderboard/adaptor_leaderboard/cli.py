"""``adaptor-leaderboard``: the organisers' commands (ledger, container runs, publishing).

Exit codes: 0 done; 1 refused (no submission left, a run that failed); 2 bad usage or a ledger,
rules file or ground truth that cannot be used (the message names it). Read commands (``ledger
list``, ``ledger export``, ``publish``) open the ledger read-only.
"""

from __future__ import annotations

import copy
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from adaptor_leaderboard.cli_options import LEDGER_OPTION, RULES_OPTION
from adaptor_leaderboard.cli_options import open_ledger as _open
from adaptor_leaderboard.cli_options import rules_for as _rules
from adaptor_leaderboard.cli_translations import (
    translation_measures_file,
)
from adaptor_leaderboard.ledger import LedgerError
from adaptor_score.cli_common import (
    RADIUS,
    FiniteFloat,
    Group,
    console,
    emit_rows,
    fatal,
    refuse,
    safe_streams,
)
from adaptor_score.contract import RANKING_RADIUS
from adaptor_score.frames import InputFileError
from adaptor_score.outputs import iso_time
from adaptor_score.pathguard import check_outputs


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adaptor-toolkit")
def main() -> None:
    """Run, record, rank and publish AdaptOR 2021 submissions (for organisers)."""
    safe_streams()


@main.group("ledger")
def ledger_group() -> None:
    """The submission ledger: record, list, fail, recover, export."""


@ledger_group.command("add-output")
@click.argument("output_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--ground-truth",
    "gt_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option("--team", required=True)
@click.option("--institute", default="")
@click.option("--phase", default="test", show_default=True)
@click.option("--image", default="", help="Image reference, for the record.")
@LEDGER_OPTION
@RULES_OPTION
def ledger_add_output(output_dir, gt_dir, team, institute, phase, image, ledger_path, rules_path):
    """Record and score a submission's output folder (run elsewhere) in the ledger."""
    from adaptor_leaderboard.lifecycle import add_output

    check_outputs({"OUTPUT_DIR": output_dir, "--ground-truth": gt_dir}, {"--ledger": ledger_path})
    rules = _rules(rules_path, phase)
    with _open(ledger_path) as ledger:
        try:
            sid, report = add_output(ledger, output_dir, gt_dir, team, rules, institute, image)
        except PermissionError as e:
            refuse(e)
        except (LedgerError, InputFileError) as e:
            fatal(e)
        except Exception as e:  # noqa: BLE001 - recorded as ours by add_output; said, not a traceback
            fatal(f"scoring failed on our side ({type(e).__name__}: {e}); the submission is"
                  " recorded as failed and not counted against the team")  # fmt: skip
    s = next(x for x in report.overall() if x.radius == rules.radius)
    console.print(
        f"submission {sid} of {team}: {rules.metric.upper()}@{rules.radius:g}"
        f" {getattr(s, rules.metric):.4f} ({len(report.problems)} problems)",
        soft_wrap=True,
    )


@ledger_group.command("list")
@click.option("--phase")
@click.option("--team", help="One team's submissions (any spelling the ledger knows).")
@click.option("--radius", type=RADIUS, default=RANKING_RADIUS, show_default=True)
@click.option("--json", "json_out", help="Write the rows as JSON to this file ('-': standard output,"
              " instead of the table).")  # fmt: skip
@LEDGER_OPTION
def ledger_list(phase, team, radius, json_out, ledger_path):
    """Every submission in ledger order, with its status, time and latest score."""
    rows = []
    with _open(ledger_path, readonly=True) as ledger:
        try:
            t = Table(title=f"Submissions in {ledger_path}", title_justify="left")
            for col in (
                "seq",
                "id",
                "team",
                "phase",
                "status",
                "since (UTC)",
                "counts",
                "F1",
                "reason",
                "run s",
            ):
                t.add_column(col)
            for s in ledger.submissions(phase, team=team):
                scoring = ledger.latest_scoring(s.submission_id)
                sc = ledger.scores(scoring).get(radius) if scoring is not None else None
                rows.append({"seq": s.seq, "submission_id": s.submission_id, "team": s.team,
                             "phase": s.phase, "status": s.status, "status_at": iso_time(s.status_at),
                             "charged": bool(s.charged), "radius": radius,
                             "f1": sc["f1"] if sc else None, "reason": s.reason,
                             "run_seconds": s.run_seconds})  # fmt: skip
                t.add_row(
                    str(s.seq),
                    s.submission_id,
                    Text(s.team),  # names and reasons are data, never markup
                    Text(s.phase),
                    s.status,
                    iso_time(s.status_at),
                    "yes" if s.charged else "no",
                    f"{sc['f1']:.4f}" if sc else "",
                    Text(s.reason[:60]),
                    "" if s.run_seconds is None else f"{s.run_seconds:.1f}",
                )
        except LedgerError as e:
            fatal(e)
    emit_rows(json_out, rows, t)


@ledger_group.command("fail")
@click.argument("submission_id")
@click.option("--reason", required=True)
@click.option(
    "--ours", is_flag=True, help="Our side failed (crash, engine): it does not use up a submission."
)
@LEDGER_OPTION
def ledger_fail(submission_id, reason, ours, ledger_path):
    """Record a submission as failed (e.g. one left 'running' by an interrupted run)."""
    with _open(ledger_path) as ledger:
        try:
            ledger.fail(submission_id, f"infrastructure: {reason}" if ours else reason, ours=ours)
        except LedgerError as e:
            fatal(e)
    who = "ours, not counted against the team" if ours else "counted against the team"
    console.print(f"submission {submission_id}: failed ({who}): {reason}", soft_wrap=True)


@ledger_group.command("recover")
@click.option(
    "--older-than",
    type=FiniteFloat(min=0),
    default=2 * 3600,
    show_default=True,
    help="Seconds since the run's last status.",
)
@LEDGER_OPTION
def ledger_recover(older_than, ledger_path):
    """Mark runs left 'queued' or 'running' (an interrupted organiser process) as failed on our
    side, so they no longer use up the team's submissions."""
    with _open(ledger_path) as ledger:
        try:
            ids = ledger.recover_stale(older_than)
        except LedgerError as e:
            fatal(e)
    console.print(
        f"recovered {len(ids)} stale submission(s)" + (f": {', '.join(ids)}" if ids else "")
    )


@ledger_group.command("export")
@LEDGER_OPTION
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
def ledger_export(ledger_path, csv_out, json_out):
    """Export every submission and its latest scores as CSV and/or JSON (ISO 8601 times)."""
    from adaptor_leaderboard.export import export_csv, export_json

    check_outputs({"--ledger": ledger_path}, {"--csv": csv_out, "--json": json_out})
    with _open(ledger_path, readonly=True) as ledger:
        try:
            if csv_out:
                export_csv(ledger, csv_out)
            if json_out:
                export_json(ledger, json_out)
        except LedgerError as e:
            fatal(e)
    console.print(
        "exported" + (f" {csv_out}" if csv_out else "") + (f" {json_out}" if json_out else "")
    )


@main.command("publish")
@LEDGER_OPTION
@RULES_OPTION
@click.option("--phase", help="The phase to publish (stored; first time: test).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The site folder (stored: needed the first time only).")  # fmt: skip
@click.option(
    "--bootstrap",
    "replicates",
    type=click.IntRange(0, 20_000),
    help="Bootstrap replicates (the table's rule, and challengeR's per scheme and unit; stored;"
    " first time: 1000).",
)
@click.option(
    "--unit",
    type=click.Choice(["surgery", "video", "frame"]),
    default=None,
    help="The unit of analysis: the cases every headline test, interval and rank uses. Default:"
    " the surgery (the most independent unit the ground truth gives; its videos where there is"
    " one surgery). challengeR's per-frame analysis is shown beside it for parity.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="Stored; first time: 0.")
@click.option("--translation-measures", "measures", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A file of `adaptor-baseline translation-measures` (one per direction): the"
              " domain-transformation section, its measures and gallery; repeatable; stored.")  # fmt: skip
@click.option("--organisers-out", type=click.Path(file_okay=False, path_type=Path),
              help="Where a private phase's full board goes (default: <out>-organisers beside"
              " the site); stored.")  # fmt: skip
def publish_cmd(ledger_path, rules_path, phase, out_dir, replicates, unit, seed, measures,
                organisers_out):  # fmt: skip
    """Publish a phase's leaderboard: Markdown, CSV, JSON and a static HTML page with plots.

    The settings given are stored beside the ledger (leaderboard.publish.json) and used by every
    later publish, by hand or from `run QUEUE --publish`, so the page never loses a section.
    While a phase's results are private (rules: public = false, until reveal), the site shows who
    submitted and when, and the full board goes to --organisers-out."""
    from adaptor_leaderboard.pubconfig import SettingsError, publish_phase, settle

    given = {"out": out_dir, "phase": phase, "rules": rules_path, "replicates": replicates,
             "seed": seed, "unit": unit, "measures": list(measures),
             "organisers_out": organisers_out}  # fmt: skip
    check_outputs({"--ledger": ledger_path, "--rules": rules_path,
                   **{f"--translation-measures {m}": m for m in measures}},
                  {"--out": out_dir, "--organisers-out": organisers_out})  # fmt: skip
    try:
        settings = settle(ledger_path, given)
    except SettingsError as e:
        fatal(e)
    rules = _rules(settings.rules, settings.phase)
    docs = [translation_measures_file(Path(m)) for m in settings.measures]
    with _open(ledger_path, readonly=True) as ledger:
        try:
            paths = publish_phase(ledger, settings, rules, docs)
        except LedgerError as e:
            fatal(e)
    md = Path(settings.out) / "leaderboard.md"
    console.print(Text(md.read_text(encoding="utf-8")))
    console.print(Text(f"wrote {', '.join(str(p) for p in paths)}"), soft_wrap=True)


from adaptor_leaderboard.cli_report import report_cmd  # noqa: E402 - registered after main
from adaptor_leaderboard.cli_run import run_cmd  # noqa: E402
from adaptor_leaderboard.cli_teams import team_group  # noqa: E402
from adaptor_leaderboard.cli_translations import (  # noqa: E402
    add_translation_cmd,
    test_input_cmd,
    translations_cmd,
)

ledger_group.add_command(add_translation_cmd)
main.add_command(translations_cmd)
main.add_command(test_input_cmd)

main.add_command(team_group)
main.add_command(run_cmd)
main.add_command(report_cmd)

# The old name of `publish`, as `adaptor-score leaderboard` had it (hidden from --help).
_alias = copy.copy(publish_cmd)
_alias.hidden = True
main.add_command(_alias, "leaderboard")


if __name__ == "__main__":  # pragma: no cover
    main()

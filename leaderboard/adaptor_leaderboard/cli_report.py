"""``adaptor-leaderboard report``: every submission and refusal of each team, explained."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from adaptor_leaderboard.cli_options import LEDGER_OPTION, RULES_OPTION
from adaptor_leaderboard.cli_options import open_ledger as _open
from adaptor_leaderboard.cli_options import rules_for as _rules
from adaptor_leaderboard.ledger import LedgerError
from adaptor_score.cli_common import console, emit_rows, fatal


@click.command("report")
@click.option("--phase", default="test", show_default=True)
@click.option("--team", help="One team (any spelling the ledger knows); default: every team.")
@click.option("--work", "work_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("runs"), show_default=True,
              help="The work folder of `run` (each submission's container.log is there).")  # fmt: skip
@click.option("--lines", type=click.IntRange(0, 1000), default=20, show_default=True,
              help="The last lines of each container log to include.")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown file per team here, to send to each team.")  # fmt: skip
@click.option("--json", "json_out", help="The reports as JSON to this file ('-': standard output,"
              " instead of the table).")  # fmt: skip
@LEDGER_OPTION
@RULES_OPTION
def report_cmd(phase, team, work_dir, lines, out_dir, json_out, ledger_path, rules_path):
    """Each team's submissions of a phase, refused ones included: state, reason, time, whether it
    counted, its history and the end of its container's log (with the log's path)."""
    from adaptor_leaderboard.teamreport import team_reports

    rules = _rules(rules_path, phase)
    with _open(ledger_path, readonly=True) as ledger:
        try:
            reports = team_reports(ledger, rules, work_dir, team, lines)
        except LedgerError as e:
            fatal(e)
    if out_dir is not None:
        _write(reports, out_dir)
    t = Table(title=Text(f"Teams in phase {phase}"), title_justify="left")
    for col in ("team", "submissions", "scored", "failed", "in progress", "refused", "used"):
        t.add_column(col)
    for r in reports:
        states = [e["state"] for e in r["submissions"]]
        limit = "" if r["limit"] is None else f" of {r['limit']}"
        t.add_row(Text(r["team"]), str(len(states)), str(states.count("scored")),
                  str(states.count("failed")), str(states.count("queued") + states.count("running")),
                  str(len(r["refusals"])), f"{r['used']}{limit}")  # fmt: skip
    emit_rows(json_out, reports, t)


def _write(reports: list[dict], out_dir: Path) -> None:
    from adaptor_leaderboard.teamreport import file_name, to_markdown
    from adaptor_score import atomic

    taken: set[str] = set()
    for r in reports:
        name = file_name(r["team"])
        stem, n = name[:-3], 2
        while name.casefold() in taken:  # two names that make one file name: never overwritten
            name, n = f"{stem}-{n}.md", n + 1
        taken.add(name.casefold())
        atomic.write_text(out_dir / name, to_markdown(r))
    console.print(Text(f"wrote {len(reports)} team report(s) to {out_dir}"))

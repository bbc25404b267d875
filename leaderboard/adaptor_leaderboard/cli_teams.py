"""``adaptor-leaderboard team``: registered teams (institute, contact, method link, description).

Names are identities (:func:`adaptor_leaderboard.identity.team_name`): ``team edit "team a"``
edits ``Team A``.
"""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from adaptor_leaderboard.cli_options import LEDGER_OPTION
from adaptor_leaderboard.cli_options import open_ledger as _open
from adaptor_leaderboard.ledger import LedgerError
from adaptor_score.cli_common import Group, console, emit_rows, fatal
from adaptor_score.outputs import iso_time


@click.group("team", cls=Group)
def team_group() -> None:
    """Registered teams: add, edit, list (institute, contact, method link, description)."""


def _team_options(f):
    for name, help_ in reversed(
        [
            ("--institute", "Institute shown on the board."),
            ("--contact", "Contact e-mail (kept in the ledger, never published)."),
            (
                "--method-url",
                "Link to the method's description (http or https), shown on the page.",
            ),
            ("--description", "One line on the method."),
        ]
    ):
        f = click.option(name, help=help_)(f)
    return f


@team_group.command("add")
@click.argument("team")
@_team_options
@LEDGER_OPTION
def team_add(team, institute, contact, method_url, description, ledger_path):
    """Register TEAM (or update the details given)."""
    _register(team, ledger_path, institute=institute, contact=contact, method_url=method_url,
              description=description)  # fmt: skip


@team_group.command("edit")
@click.argument("team")
@_team_options
@LEDGER_OPTION
def team_edit(team, institute, contact, method_url, description, ledger_path):
    """Change the details given of a registered TEAM."""
    with _open(ledger_path, readonly=True) as ledger:
        try:
            known = ledger.canonical_team(team)
        except LedgerError as e:
            fatal(e)
        if known is None or known not in ledger.teams():
            fatal(
                f"team {team!r} is not registered in {ledger_path} (adaptor-leaderboard team add)"
            )
    _register(team, ledger_path, institute=institute, contact=contact, method_url=method_url,
              description=description)  # fmt: skip


def _register(team, ledger_path, **details):
    if details.get("method_url") and not details["method_url"].startswith(("https://", "http://")):
        fatal(f"--method-url must start with https:// or http://, got {details['method_url']!r}")
    with _open(ledger_path) as ledger:
        try:
            ledger.register_team(team, **{k: v for k, v in details.items() if v is not None})
            team = ledger.canonical_team(team)
        except LedgerError as e:
            fatal(e)
        t = ledger.teams()[team]
    console.print(
        f"team {team}: {t['institute'] or '-'}, {t['method_url'] or 'no method link'}",
        soft_wrap=True,
    )


@team_group.command("list")
@click.option("--json", "json_out", help="Write the teams as JSON to this file ('-': standard"
              " output, instead of the table).")  # fmt: skip
@LEDGER_OPTION
def team_list(json_out, ledger_path):
    """Every registered team with its details and when they last changed (UTC)."""
    with _open(ledger_path, readonly=True) as ledger:
        try:
            teams = ledger.teams()
        except LedgerError as e:
            fatal(e)
    t = Table(title=f"Teams in {ledger_path}", title_justify="left")
    for col in ("team", "institute", "contact", "method", "updated (UTC)"):
        t.add_column(col)
    for name, d in teams.items():
        t.add_row(*(Text(v) for v in (name, d["institute"], d["contact"], d["method_url"])),
                  iso_time(d["updated_at"]))  # fmt: skip
    rows = [{"team": name, "institute": d["institute"], "contact": d["contact"],
             "method_url": d["method_url"], "updated_at": iso_time(d["updated_at"])}
            for name, d in teams.items()]  # fmt: skip
    emit_rows(json_out, rows, t)

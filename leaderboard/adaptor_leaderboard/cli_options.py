"""Options and openers shared by the ``adaptor-leaderboard`` commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from adaptor_leaderboard.ledger import Ledger, LedgerError
from adaptor_leaderboard.ranking import PhaseRules, load_rules
from adaptor_score.cli_common import fatal

LEDGER_OPTION = click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("ADAPTOR_LEDGER", "leaderboard.sqlite"),
    show_default="leaderboard.sqlite",
    help="SQLite ledger (also ADAPTOR_LEDGER).",
)
RULES_OPTION = click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TOML with [phase.NAME] rules (limits, metric, radius, rounding).",
)


def open_ledger(path: Path, readonly: bool = False) -> Ledger:
    """The ledger at ``path``, or exit 2 naming why it cannot be opened."""
    try:
        return Ledger(path, readonly=readonly)
    except LedgerError as e:
        fatal(e)


def rules_for(path, phase) -> PhaseRules:
    """The rules of ``phase`` from ``path`` (defaults without a file), or exit 2."""
    try:
        return load_rules(path, phase)
    except ValueError as e:
        fatal(e)

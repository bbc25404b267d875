"""What every command line of the toolkit shares: safe consoles, errors, option types.

Text from users and data (file and folder names, team names, reasons, captions) is never read as
rich markup or emoji codes: the consoles are created with ``markup=False`` and ``emoji=False``, and
styles are applied to our own words only, with :func:`styled`. Output streams write characters the
terminal cannot encode (or lone surrogates from file names in another encoding) as backslash
escapes instead of crashing.
"""

from __future__ import annotations

import math
import sys
import time
from typing import NoReturn

import click
from rich.console import Console
from rich.text import Text

from adaptor_score.contract import MAX_RADIUS
from adaptor_score.frames import InputFileError

# Terminal control characters in text from users and data (a file named with an escape
# sequence, a team name with a bell) are shown as their visible symbols (ESC as ␛, U+241B),
# one character for one, so that a name can neither recolour nor rewrite the terminal; C1
# controls and bidirectional overrides become U+FFFD. Tab and newline stay.
_VISIBLE = {c: 0x2400 + c for c in range(32) if c not in (9, 10)}
_VISIBLE.update({0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)},
                 **{c: 0xFFFD for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}})  # fmt: skip


def visible(text: str) -> str:
    """``text`` with terminal control characters replaced by visible symbols (same length).

    >>> visible("a\x1b[31mred\x07")
    'a␛[31mred␇'
    """
    return text.translate(_VISIBLE)


class SafeConsole(Console):
    """rich's console, with every piece of text it renders passed through :func:`visible`
    before rich adds its own styles (tables, panels and plain strings alike)."""

    def _render_buffer(self, buffer):
        from rich.segment import Segment

        return super()._render_buffer(
            s if s.control else Segment(visible(s.text), s.style) for s in buffer)


# Piped output (logs, CI) gets a fixed, wide layout instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 120
console = SafeConsole(highlight=False, markup=False, emoji=False, width=_WIDTH)
err_console = SafeConsole(stderr=True, highlight=False, markup=False, emoji=False, width=_WIDTH)
console.on_broken_pipe = lambda: _quiet_stdout()  # rich's own handler exits 1


def _quiet_stdout() -> NoReturn:
    """The reader of stdout went away (``| head``): the work is done and the files asked for
    are written (commands write them before printing); say nothing more, exit 0."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)


def safe_streams() -> None:
    """Make stdout and stderr escape what they cannot encode (call once at start-up)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot be reconfigured: leave it
                pass


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line from plain strings (printed verbatim) and ``(text, style)`` pairs.

    >>> styled(("error:", "bold red"), " [not markup]").plain
    'error: [not markup]'
    """
    return Text.assemble(*parts)


def fatal(e: Exception | str, code: int = 2) -> NoReturn:
    """Print ``error: ...`` on stderr and exit (2: bad usage or an input that stops the run)."""
    err_console.print(styled(("error: ", "bold red"), str(e)), soft_wrap=True)
    sys.exit(code)


def refuse(e: Exception | str) -> NoReturn:
    """Print ``refused: ...`` on stderr and exit 2. The one rule of every command: exit 2 when an
    input is refused (nothing was run or charged), 1 when something ran and failed."""
    err_console.print(styled(("refused: ", "red"), str(e)), soft_wrap=True)
    sys.exit(2)


def emit_rows(json_out: str | None, rows: list[dict], table) -> None:
    """A listing's output: the ``table``; with ``--json -`` the rows as JSON on standard output
    instead (for scripts: nothing else is printed there); with ``--json FILE`` the table and the
    rows written to FILE (complete or absent)."""
    from adaptor_score.outputs import dumps, write_json

    if str(json_out) == "-":  # a click.Path option gives a Path
        click.echo(dumps(rows, 2))
        return
    console.print(table)
    if json_out:
        write_json(json_out, rows)


def first_sentence(text: str) -> str:
    """The first sentence of a help text, its reST double backticks as plain quotes.

    >>> first_sentence("Score ``x`` files.  More here.")
    "Score 'x' files."
    """
    import re

    para = " ".join(text.strip().split("\n\n")[0].split())
    para = para.replace("``", "'")
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z(])", para)
    return para if end is None else para[: end.start() + 1]


class Group(click.Group):
    """A command group in which an :class:`~adaptor_score.frames.InputFileError` that a command
    did not handle itself (a bad input, an output over an input, a file that could not be
    written) ends the run with ``error: <file>: <problem>`` and exit 2, never a traceback. Every
    command line of the toolkit uses it, so a new command gets the rule without a ``try``."""

    group_class = type  # subgroups (``ledger``, ``team``) are of this class too

    def format_commands(self, ctx, formatter):
        """The command list with each command's whole first sentence, wrapped, never cut with
        "..." at click's 45 characters (seen: "Publish a phase's leaderboard: Markdown, CSV,
        JSON and a...")."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.append((name, first_sentence(cmd.short_help or cmd.help or "")))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputFileError as e:
            fatal(e)
        except BrokenPipeError:  # the reader of stdout went away (`| head`): not an error of ours
            _quiet_stdout()


class FiniteFloat(click.ParamType):
    """A finite float with optional bounds: ``nan`` and ``inf`` are refused with a message.

    >>> FiniteFloat(min=0).convert("6", None, None)
    6.0
    """

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None, min_open: bool = False):
        self.min, self.max, self.min_open = min, max, min_open

    def convert(self, value, param, ctx):
        if isinstance(value, float) and math.isfinite(value):
            v = value
        else:
            try:
                v = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
            if not math.isfinite(v):
                self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.min is not None and (v < self.min or (self.min_open and v == self.min)):
            self.fail(
                f"{v:g} is {'not above' if self.min_open else 'below'} {self.min:g}", param, ctx
            )
        if self.max is not None and v > self.max:
            self.fail(f"{v:g} is above {self.max:g}", param, ctx)
        return v


# Every --radius: a finite number of pixels from 0 to the frame's diagonal (contract.MAX_RADIUS).
RADIUS = FiniteFloat(min=0, max=MAX_RADIUS)


class Progress:
    """Progress of a long step: a rich bar on a terminal; elsewhere (logs, CI, containers) a plain
    line with done/total, rate and time left at most every ``every`` seconds, and one at the end.
    Call it with ``(n_done, total)`` after each piece of work (the total may come with the first
    call).

    >>> import io
    >>> from rich.console import Console
    >>> out = io.StringIO()
    >>> with Progress("predict", console_=Console(file=out, width=80), every=0) as p:
    ...     p(3, 3)
    >>> "predict: 3/3" in out.getvalue()
    True
    """

    def __init__(
        self,
        what: str,
        total: int | None = None,
        console_: Console | None = None,
        every: float = 10.0,
    ):
        self.what, self.total, self.every = what, total, every
        self.console = console_ or err_console
        self.done = 0
        self._bar = None

    def __enter__(self) -> Progress:
        self.t0 = self.last = time.perf_counter()
        return self

    def __call__(self, n: int = 1, total: int | None = None) -> None:
        self.total = self.total or total
        self.done += n
        if self.console.is_terminal:
            if self._bar is None:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    TextColumn,
                    TimeRemainingColumn,
                )
                from rich.progress import Progress as Bar

                self._bar = Bar(
                    TextColumn(self.what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=self.console, transient=True,
                )  # fmt: skip
                self._bar.__enter__()
                self._task = self._bar.add_task(self.what, total=self.total)
            self._bar.update(self._task, completed=self.done)
            return
        now = time.perf_counter()
        total = self.total or self.done
        if now - self.last >= self.every or self.done >= total:
            self.last = now
            rate = self.done / max(now - self.t0, 1e-9)
            left = (total - self.done) / rate if rate > 0 else float("inf")
            self.console.print(
                f"{self.what}: {self.done}/{total}, {rate:.1f}/s, about {left:.0f} s left",
                soft_wrap=True,
            )

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

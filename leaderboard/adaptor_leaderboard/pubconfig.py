"""One publication configuration per challenge, used by every ``publish``.

The page's settings (where it goes, the phase and its rules, the bootstrap's replicates and seed,
the unit of analysis, the translation measures, where a private phase's full board goes) are
stored once beside the ledger (``leaderboard.sqlite`` -> ``leaderboard.publish.json``, paths
made absolute): the first ``publish`` that names them writes them, every
later one (by hand, or the queue's ``--publish`` after each scored submission) reads them, and
options given on the command line replace the stored ones and are stored. So a re-publish can
never drop a section the organiser once asked for (seen: the queue re-published with 1,000
replicates, seed 0 and no translation measures, and the gallery was gone).

While a phase's results are private (``public = false`` in its rules, until ``reveal``), the
page at ``out`` shows who submitted and when, never a score; the full board goes to
``organisers_out`` (default: the folder beside ``out`` named ``<out>-organisers``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import msgspec

from adaptor_score import atomic
from adaptor_score.outputs import dumps


def settings_path(ledger_path: str | Path) -> Path:
    """Where the configuration of the ledger at ``ledger_path`` is kept.

    >>> settings_path("work/leaderboard.sqlite").as_posix()
    'work/leaderboard.publish.json'
    """
    p = Path(ledger_path)
    return p.with_name(p.stem + ".publish.json")


@dataclass(frozen=True)
class PublishSettings:
    out: str
    phase: str = "test"
    rules: str | None = None
    replicates: int = 1000
    seed: int = 0
    unit: str | None = None
    measures: list[str] = field(default_factory=list)
    organisers_out: str | None = None

    def organisers_folder(self) -> Path:
        out = Path(self.out)
        return Path(self.organisers_out) if self.organisers_out else out.with_name(
            out.name + "-organisers")


class SettingsError(ValueError):
    """A stored configuration that cannot be read; names the file."""


def load(ledger_path: str | Path) -> PublishSettings | None:
    """The stored settings, or None when there are none yet."""
    from adaptor_score.safefiles import BadFile, read_bytes

    path = settings_path(ledger_path)
    if not path.exists():
        return None
    try:
        return msgspec.json.decode(read_bytes(path, 1 << 20), type=PublishSettings)
    except (BadFile, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise SettingsError(f"{path}: not a publication configuration ({e}); fix or remove it") from None


def settle(ledger_path: str | Path, given: dict) -> PublishSettings:
    """The stored settings with every option in ``given`` that is not None put in their place,
    stored again; :class:`SettingsError` when there is no ``out`` either way."""
    saved = load(ledger_path)
    given = {k: v for k, v in given.items() if v is not None and v != () and v != []}
    if "measures" in given:
        given["measures"] = [str(Path(m).resolve()) for m in given["measures"]]
    for key in ("out", "rules", "organisers_out"):
        if key in given:
            given[key] = str(Path(given[key]).resolve())
    if saved is None:
        if "out" not in given:
            raise SettingsError(f"{settings_path(ledger_path)}: no publication configuration"
                                " yet; name the site folder once with --out")  # fmt: skip
        settings = PublishSettings(**given)
    else:
        settings = replace(saved, **given)
    atomic.write_text(settings_path(ledger_path), dumps(asdict(settings)) + "\n")
    return settings


def publish_phase(ledger, settings: PublishSettings, rules, measures: list[dict],
                  now: float | None = None) -> list[Path]:  # fmt: skip
    """Build the board of ``settings`` and write it: the full page at ``out`` when the phase's
    results are public at ``now``; else the submissions-only page there and the full board in
    the organisers' folder. Returns the paths written."""
    from adaptor_leaderboard.private import publish_private
    from adaptor_leaderboard.publish import build_board, publish

    now = time.time() if now is None else now
    board = build_board(ledger, rules, settings.replicates, settings.seed, settings.unit,
                        measures)  # fmt: skip
    if rules.revealed(now):
        return publish(board, settings.out)
    written = publish(board, settings.organisers_folder())
    return written + publish_private(ledger, rules, settings.out, now)

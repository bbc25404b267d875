"""Team names are identities: two names that read alike are one team, or one of them is refused.

Seen before this rule: with ``max_submissions = 1``, ``Team A`` was refused a second time but
``Team A `` and ``Team A`` followed by a zero-width space were accepted as new teams; three rows
read "Team A", one linking to an impostor. :class:`~adaptor_leaderboard.ledger.Ledger` passes
every name through :func:`team_name` and compares the result without regard to case.
"""

from __future__ import annotations

import unicodedata

from adaptor_leaderboard.ledger_schema import LedgerError

_INVISIBLE = ("Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp")


def team_name(name: str, check: bool = True) -> str:
    """A team's identity: Unicode NFKC, whitespace collapsed to single spaces and trimmed.
    Invisible and bidirectional control characters (zero-width spaces, RTL overrides, ...)
    are refused with :class:`LedgerError`, so that two rows can never read alike and be two
    teams (seen: ``Team A`` followed by a zero-width space took a second quota).

    >>> team_name("  Team\u00a0 A ")
    'Team A'
    >>> team_name("Team A\u200b")
    Traceback (most recent call last):
    ...
    adaptor_leaderboard.ledger_schema.LedgerError: team name 'Team A\u200b' holds an invisible or control character (U+200B); refused
    """
    if not isinstance(name, str):
        raise LedgerError(f"a team name must be text, not {type(name).__name__}")
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    if check:
        for ch in text:
            if unicodedata.category(ch) in _INVISIBLE:
                raise LedgerError(
                    f"team name {name!r} holds an invisible or control character"
                    f" (U+{ord(ch):04X}); refused"
                )
        if not text:
            raise LedgerError("a team needs a name")
    return text

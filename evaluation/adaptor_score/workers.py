"""How many processors scoring may use: the helper process that reads files
(:mod:`adaptor_score.filereader`) and the matching threads (:mod:`adaptor_score.matching`) both
ask here, so that ``ADAPTOR_SCORE_WORKERS=1`` keeps a run on one processor entirely."""

from __future__ import annotations

import os

WORKERS_ENV = "ADAPTOR_SCORE_WORKERS"


def workers() -> int:
    """``ADAPTOR_SCORE_WORKERS`` if set to a positive whole number in ASCII digits (``²`` or
    ``٣`` pass ``str.isdigit`` but are no setting), else the CPUs this process may run on."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 1 << 16:
        return int(raw)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1

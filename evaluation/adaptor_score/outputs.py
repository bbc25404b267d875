"""Writing what we publish, so that text from users and data can neither break nor inject.

* **JSON** is strict: NaN and ±Infinity (undefined or overflowing values) become ``null``, and
  ``allow_nan=False`` makes any that slipped through an error instead of invalid JSON.
* **CSV** cells that are text and begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return get a leading apostrophe (the OWASP rule against formula injection); numbers are written
  as numbers. Files are UTF-8; characters that cannot be encoded (lone surrogates from file names
  in another encoding) are written as backslash escapes.
* **Markdown** cells escape ``|`` and line breaks; **LaTeX** escapes its ten special characters.
* Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from adaptor_score import atomic

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def finite(obj):
    """``obj`` with every non-finite float replaced by None (recursively; numpy scalars become
    Python numbers).

    >>> finite({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def dumps(obj, indent: int | None = 2) -> str:
    """Strict JSON text (see :func:`finite`).

    >>> dumps({"rmse": float("inf")}, indent=None)
    '{"rmse": null}'
    """
    return json.dumps(finite(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj, indent: int | None = 2) -> None:
    """Strict JSON, written atomically (complete or absent, see :mod:`adaptor_score.atomic`)."""
    text = dumps(obj, indent) + "\n"  # encoded before anything is written: a failure leaves no file
    atomic.write_text(path, text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cell(value):
    """A CSV cell that no spreadsheet evaluates; numbers, numeric text, the bare ``-`` placeholder
    and None pass unchanged.

    >>> csv_cell("=HYPERLINK(1)"), csv_cell("-2+3"), csv_cell("-0.5"), csv_cell("-"), csv_cell("A.1")
    ("'=HYPERLINK(1)", "'-2+3", '-0.5', '-', 'A.1')
    """
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and value != "-"
        and not _is_number(value)
    ):
        return "'" + value
    return value


def write_csv(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence], encoding: str = "utf-8"
) -> None:
    """Write rows with every text cell neutralised (:func:`csv_cell`), atomically."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow([csv_cell(h) for h in header])
    for row in rows:
        w.writerow([csv_cell(v) for v in row])
    atomic.write_bytes(path, buf.getvalue().encode(encoding, "backslashreplace"))


def md_cell(text) -> str:
    """Text for one Markdown table cell: ``|`` escaped, line breaks as spaces, and HTML's ``&``,
    ``<`` and ``>`` as entities (CommonMark passes raw HTML through: a team named
    ``<img src=x onerror=...>`` would otherwise be live markup on any page that renders it).

    >>> md_cell("a|b\\nc"), md_cell("<img src=x onerror=alert(1)>")
    ('a\\\\|b c', '&lt;img src=x onerror=alert(1)&gt;')
    """
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text) -> str:
    """Text safe inside LaTeX: its ten special characters escaped.

    >>> tex_escape("v1_g3 & 50% $x$")
    'v1\\\\_g3 \\\\& 50\\\\% \\\\$x\\\\$'
    """
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def iso_time(epoch: float | None) -> str:
    """ISO 8601 (UTC, seconds) of a Unix time; '' for None.

    >>> iso_time(0)
    '1970-01-01T00:00:00Z'
    """
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_text(seconds: float) -> str:
    """A run's duration for progress lines: minutes and seconds, or hours and minutes.

    >>> duration_text(75), duration_text(3725)
    ('1m15s', '1h02m')
    """
    s = int(round(seconds))
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


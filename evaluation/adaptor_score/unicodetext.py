"""The text rules every JSON reader applies before decoding: UTF-8 only (a byte-order mark
allowed), and no lone UTF-16 surrogate in any string (valid JSON syntax, but not Unicode)."""

from __future__ import annotations

import codecs
import re

from adaptor_score.safefiles import BadFile

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ESCAPE = re.compile(rb"(\\+)u([0-9a-fA-F]{4})")  # a run of backslashes, then u and 4 hex digits


def utf8_body(raw: bytes) -> bytes:
    """``raw`` without a UTF-8 byte-order mark; :class:`BadFile` unless it is all valid UTF-8.

    >>> utf8_body(b"\\xef\\xbb\\xbf{}")
    b'{}'
    """
    bom = 3 if raw.startswith(codecs.BOM_UTF8) else 0
    body = raw[bom:]
    if not body.isascii():  # the common case costs one fast scan
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadFile(f"not UTF-8 text (byte {e.start + bom})") from None
    return body


def check_unicode(body: bytes) -> None:
    """Refuse strings with lone surrogates: a ``\\uD800``-``\\uDBFF`` escape not followed at
    once by a ``\\uDC00``-``\\uDFFF`` escape, or the latter without the former. msgspec's typed
    decoder lets them through (it skips the strings of unknown fields unchecked), and its generic
    decoder misreports a high one before ``"`` as truncated input, so the escapes are paired
    here, without decoding: only files with a surrogate escape pay for it."""
    if b"\\u" not in body or not _SURROGATE_ESCAPE.search(body):
        return
    pending_high = -1  # where a high surrogate escape ended, awaiting its low half
    for m in _ESCAPE.finditer(body):
        if len(m.group(1)) % 2 == 0:
            continue  # an even run of backslashes: escaped backslashes, then a plain "u"
        unit = int(m.group(2), 16)
        low = 0xDC00 <= unit <= 0xDFFF
        if pending_high >= 0 and not (low and m.start() + len(m.group(1)) - 1 == pending_high):
            break  # the high half was not followed at once by a low half
        if low and pending_high < 0:
            break  # a low half alone
        pending_high = m.end() if 0xD800 <= unit <= 0xDBFF else -1
    else:
        if pending_high < 0:
            return
    raise BadFile("a string holds a lone UTF-16 surrogate, which is not Unicode")

"""Every measured number the README and docs/ quote comes from a results file, and says so in
``benchmarks/claims.toml``; this test holds the docs to those files.

A *measured number* is what a reader would take for a measurement: a decimal (``0.748``, ``1.5×``)
or a number with a unit of time, size or share (``65 s``, ``6 min``, ``12 %``, ``0.2 GB``),
outside code blocks and inline code. Each one must be covered by one entry of the registry:

* ``[[claim]]``: one sentence, its checked numbers in braces (``F1@6 {0.743} ± {0.012}``), the
  file and one key per brace (dotted path; ``*100`` or ``/60`` after a key rescales). The doc's
  number must equal the file's value at the doc's precision, or lie within ``tolerance``
  (relative) of it where the doc says "about".
* ``[[passage]]``: a table or paragraph (from the line holding ``start`` to the line holding
  ``end``) whose measured numbers are each bound, in order and with their sign, to one key of
  ``file`` (``keys``, one per number, relative to ``under``; ``N:key`` with several files;
  ``key~N`` the N-th number written in a text value), at the doc's precision: a number swapped
  with another, replaced by another number of the same file, or its sign flipped fails.
  Numbers listed in ``settings`` are the settings (or the paper's figures) the passage names,
  not results; ``percent = true`` lets a number match a share in the file written as percent
  points without its ``%`` sign ("close 72.8 → 55.0 %").
* ``[[quote]]``: numbers that are not our measurements (the paper's, a setting, a contract's
  constant), with the reason in ``why``; a quoted span (``start``/``end``) lists the numbers it
  holds (``numbers``), so that no measurement can be slipped into it. With ``source`` ("paper":
  the seed's text in ``../shared/reference/``, or a file of this repository: a settings file, the
  module that holds a limit) each number must be one its source writes, at the printed
  precision. A passage's ``paper`` list is checked against the paper the same way, and its
  ``sources`` table (``{"path" = ["7.5", ...]}``) against each named file.

* ``[[generated]]``: a section a program writes from results files (``start``/``end``: its
  markers) with ``test``, the test that rebuilds it from those files and compares it with the
  page; its numbers are that test's to hold.

``test_a_wrong_figure_cannot_pass`` edits copies of real pages, one edit per kind, and shows each
failing (each passed the check before passages were bound to keys).

``python tests/test_claims.py`` lists every uncovered number and every mismatch, for an author.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "benchmarks" / "claims.toml"
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

UNIT = (r"(?:\s?(?:ms|µs|s|min|h|GB|MB|KB|GiB|MiB|KiB|%|img/s|frames/s|px)(?![\w/])|\s?%"
        r"|\s(?:minutes?|seconds?|hours?|percent|times)\b)")
# A number may carry its sign (+0.25, −0.05), and both ends of a range are numbers (1.10-1.20:
# the hyphen after a digit is no sign); not one inside a word or a path, nor a version's later
# parts (2.13.0).
NUMBER = re.compile(
    rf"(?<![\w./])[−+-]?\d+(?:,\d{{3}})*(?:\.\d+)?(?:{UNIT}|×|x(?![\w-]))?(?!\w|\.\d)")


BYTES = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


@dataclass(frozen=True)
class Token:
    doc: str
    start: int  # offset in the page's text
    text: str  # as printed, unit included

    @property
    def value(self) -> float:
        return float(re.match(r"[−+-]?[\d,.]+", self.text)[0].replace(",", "").replace("−", "-"))

    @property
    def decimals(self) -> int:
        num = re.match(r"[−+-]?[\d,.]+", self.text)[0]
        return len(num.split(".")[1]) if "." in num else 0

    @property
    def percent(self) -> bool:
        return self.text.endswith("%")


def _blank_code(text: str) -> str:
    """The page with fenced blocks and command-like inline code replaced by spaces (offsets
    kept). Inline code that is a number alone (`0.905`, `6 px`) stays: a figure is a figure in
    backticks too; a command or an option (`--lr 0.003`) is not a measurement."""
    keep = lambda m: re.sub(r"[^\n]", " ", m[0])  # noqa: E731
    text = re.sub(r"```.*?```", keep, text, flags=re.S)
    text = re.sub(r"<!--.*?-->", keep, text, flags=re.S)
    figure = re.compile(rf"`[−+-]?\d+(?:,\d{{3}})*(?:\.\d+)?(?:{UNIT}|×)?`")
    return re.sub(r"`[^`\n]*`", lambda m: (" " + m[0][1:-1] + " ") if figure.fullmatch(m[0])
                  else keep(m), text)  # fmt: skip


def _measured(s: str) -> bool:
    return "." in s or bool(re.search(UNIT + "$", s)) or s.endswith(("×", "x"))


def measured_tokens(doc: str, text: str) -> list[Token]:
    """The measured numbers of ``text``. The first end of a range takes the unit of the second
    ("243–282 s", "36–46 %": 243 s and 36 %), so that neither end of a range goes unchecked."""
    out = []
    blank = _blank_code(text)
    found = list(NUMBER.finditer(blank))
    for i, m in enumerate(found):
        s = m[0]
        if _measured(s):
            out.append(Token(doc, m.start(), s))
            continue
        after = found[i + 1] if i + 1 < len(found) else None
        unit = re.search(UNIT + "$", after[0]) if after is not None else None
        if unit and re.fullmatch(r"\s?[–-]\s?", blank[m.end() : after.start()]):
            out.append(Token(doc, m.start(), s + unit[0]))  # the range's unit, as if printed
    return out


@functools.cache
def _page(doc: str) -> str:
    return (ROOT / doc).read_text()


@functools.cache
def _tokens(doc: str) -> tuple[Token, ...]:
    """A page's measured numbers, found once however many entries read them."""
    return tuple(measured_tokens(doc, _page(doc)))


def _squash(text: str) -> tuple[str, list[int]]:
    """``text`` with runs of whitespace as one space, and each kept character's offset."""
    out, where, space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                where.append(i)
            space = True
        else:
            out.append(ch)
            where.append(i)
            space = False
    return "".join(out), where


def find_span(doc: str, text: str) -> tuple[int, int] | None:
    """Where ``text`` (whitespace-insensitive) stands in the page, as offsets of the raw page."""
    page = _page(doc)
    flat, where = _squash(page)
    needle, _ = _squash(text.strip())
    i = flat.find(needle)
    if i < 0:
        return None
    return where[i], where[i + len(needle) - 1] + 1


def line_span(doc: str, start: str, end: str) -> tuple[int, int] | None:
    """From the start of the line holding ``start`` to the end of the next line holding ``end``."""
    page = _page(doc)
    a = page.find(start)
    if a < 0:
        return None
    b = page.find(end, a)
    if b < 0:
        return None
    line_end = page.find("\n", b)
    return page.rfind("\n", 0, a) + 1, len(page) if line_end < 0 else line_end


def _load(file: str):
    path = ROOT / file
    return (
        json.loads(path.read_text()) if path.suffix == ".json" else tomllib.loads(path.read_text())
    )


def lookup(doc: object, key: str) -> float:
    """The number at a dotted ``key`` (list items by index), rescaled by a ``*k`` or ``/k``;
    ``path~N`` is the N-th number written inside the text at ``path`` (a note such as
    ``"1.96 M parameters"``); ``a - b`` the difference of two keys (a spread the doc quotes)."""
    if " - " in key:
        a, b = key.split(" - ")
        return lookup(doc, a) - lookup(doc, b)
    m = re.fullmatch(r"\s*([^*/~]+?)(?:~(\d+))?\s*(?:([*/])\s*([\d.e+-]+))?\s*", key)
    node = doc
    for part in m[1].split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if m[2] is not None:
        node = re.findall(r"-?\d+(?:\.\d+)?", node)[int(m[2])]
    value = float(node)
    if m[3]:
        value = value * float(m[4]) if m[3] == "*" else value / float(m[4])
    return value


def numbers_in(node: object) -> list[float]:
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [float(node)]
    if isinstance(node, dict):
        return [v for x in node.values() for v in numbers_in(x)]
    if isinstance(node, list):
        return [v for x in node for v in numbers_in(x)]
    if isinstance(node, str):  # "0.74-0.86" or "65.3 s" inside a note
        return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", node)]
    return []


def matches(token: Token, value: float, tolerance: float = 0.0) -> bool:
    """The printed number is ``value`` at its printed precision (or a percentage of it)."""
    shown = token.value
    candidates = [value, value * 100] if token.percent else [value]
    unit = re.sub(r"^[−\d,.\s-]+", "", token.text)
    if unit in BYTES:  # a file may hold bytes where the doc prints MiB
        candidates.append(value / BYTES[unit])
    for v in candidates:
        # half a unit of the last printed digit, either way: 53.35 may print as 53.3 or 53.4
        if abs(v - shown) <= 0.5 * 10**-token.decimals * (1 + 1e-9):
            return True
        if tolerance and abs(v - shown) <= tolerance * max(abs(v), 1e-12):
            return True
    return False


REFERENCE = ROOT.parent / "shared" / "reference"
SOURCES = {"paper": REFERENCE / "paper-point-detection-sutures.txt"}


@functools.cache
def source_numbers(source: str) -> tuple[float, ...] | None:
    """Every number written in ``source`` ("paper", a file of this repository, or a folder: its
    .py, .json and .toml files), or None when it is not here (the seed's reference lies beside
    the checkout, not in it)."""
    path = SOURCES.get(source, ROOT / source)
    if not path.exists():
        return None
    files = sorted(f for x in ("py", "json", "toml") for f in path.rglob(f"*.{x}")) \
        if path.is_dir() else [path]  # fmt: skip
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    # signed where a minus sign is written before the number ("-0.0144", not "2021-12"), so that
    # a figure's sign, too, must be the source's
    found = re.findall(r"(?:(?<![\w.])([-−]))?(\d+(?:,\d{3})*(?:\.\d+)?)", text)
    return tuple((-1 if sign else 1) * float(x.replace(",", "")) for sign, x in found)


def in_source(token: Token, sources) -> bool | None:
    """Whether ``token`` is a number of one of ``sources`` at its printed precision (a share
    printed 0.67 matches a percentage 67.21 there, and 20 % a 0.2); None when none is here."""
    sources = [sources] if isinstance(sources, str) else sources
    known = [n for n in map(source_numbers, sources) if n is not None]
    if not known:
        return None
    return any(matches(token, v) or matches(token, v / 100) for n in known for v in n)


def load_registry() -> dict:
    return tomllib.loads(REGISTRY.read_text())


def check() -> tuple[list[str], list[str]]:
    """``(problems, uncovered)``: mismatched or unfindable entries, and measured numbers no entry
    covers."""
    reg = load_registry()
    problems: list[str] = []
    covered: dict[str, list[tuple[int, int]]] = {}

    def cover(doc, span):
        covered.setdefault(doc, []).append(span)

    for c in reg.get("claim", []):
        flat = re.sub(r"[{}]", "", c["text"])
        span = find_span(c["doc"], flat)
        if span is None:
            problems.append(f"{c['doc']}: claim text not found: {flat!r}")
            continue
        shown = re.findall(r"\{([^}]*)\}", c["text"])
        if len(shown) != len(c["keys"]):
            problems.append(f"{c['doc']}: {flat!r}: {len(shown)} braces, {len(c['keys'])} keys")
            continue
        data = _load(c["file"])
        # the braced numbers' offsets in the page: locate each within the span, in order
        page, pos = _page(c["doc"]), span[0]
        for number, key in zip(shown, c["keys"]):
            at = page.find(number, pos, span[1])
            tok = next((t for t in _tokens(c["doc"]) if t.start == at), None)
            tok = tok or Token(c["doc"], at, number)
            try:
                value = lookup(data, key)
            except (KeyError, IndexError, TypeError, ValueError) as e:
                problems.append(f"{c['doc']}: {number!r}: no number at {c['file']}:{key} ({e})")
                continue
            if not matches(tok, value, c.get("tolerance", 0.0)):
                problems.append(f"{c['doc']}: says {number!r}, {c['file']}:{key} holds {value:g}")
            cover(c["doc"], (at, at + len(number)))
            pos = at + len(number)
    for p in reg.get("passage", []):
        span = line_span(p["doc"], p["start"], p["end"])
        if span is None:
            problems.append(f"{p['doc']}: passage {p['start']!r} … {p['end']!r} not found")
            continue
        files = p["file"] if isinstance(p["file"], list) else [p["file"]]
        roots = []
        for file in files:
            data = _load(file)
            for part in p.get("under", "").split(".") if "under" in p else []:
                data = data[int(part)] if isinstance(data, list) else data[part]
            roots.append(data)
        inside = [t for t in _tokens(p["doc"]) if span[0] <= t.start < span[1]]
        quoted = {**p.get("sources", {}), **({"paper": p["paper"]} if "paper" in p else {})}
        for source, listed in quoted.items():  # numbers quoted from a source, checked there
            for tok in (t for t in inside if t.text in listed):
                if in_source(tok, source) is False:
                    problems.append(f"{p['doc']}: {tok.text!r} (passage {p['start'][:30]!r}) is"
                                    f" listed as {source}'s, and it has no such number")  # fmt: skip
        unbound = set(p.get("settings", [])).union(*quoted.values())
        shown = [t for t in inside if t.text not in unbound]
        keys = p.get("keys")
        where = f"passage {p['start'][:30]!r}"
        if keys is None or len(keys) != len(shown):
            problems.append(f"{p['doc']}: {where}: {len(shown)} measured numbers, "
                            f"{'no' if keys is None else len(keys)} keys (one per number, in order)")
            cover(p["doc"], span)
            continue
        for tok, key in zip(shown, keys):  # each number bound to its own key, in order, signed
            index, _, path = key.rpartition(":") if len(files) > 1 else ("0", "", key)
            try:
                value = lookup(roots[int(index)], path)
            except (KeyError, IndexError, TypeError, ValueError) as e:
                problems.append(f"{p['doc']}: {tok.text!r} ({where}): no number at {key} ({e})")
                continue
            if not matches(tok, value, p.get("tolerance", 0.0)):
                problems.append(f"{p['doc']}: says {tok.text!r} ({where}), {files[int(index)]}:"
                                f"{p.get('under', '') + '.' if 'under' in p else ''}{path} holds"
                                f" {value:g}")  # fmt: skip
        cover(p["doc"], span)
    for q in reg.get("quote", []):
        span = (
            line_span(q["doc"], q["start"], q["end"])
            if "start" in q
            else find_span(q["doc"], q["text"])
        )
        if span is None:
            problems.append(f"{q['doc']}: quote not found: {q.get('text') or q['start']!r}")
            continue
        if not q.get("why"):
            problems.append(f"{q['doc']}: quote without a reason: {q.get('text') or q['start']!r}")
        held = [t for t in _tokens(q["doc"]) if span[0] <= t.start < span[1]]
        if "start" in q:  # a span: its numbers are listed, so that none can be slipped into it
            if [t.text for t in held] != q.get("numbers", []):
                problems.append(f"{q['doc']}: quote {q['start'][:30]!r} holds"
                                f" {[t.text for t in held]}, the registry lists"
                                f" {q.get('numbers', [])}")  # fmt: skip
        for tok in held if "source" in q else ():  # each number as its source writes it
            if in_source(tok, q["source"]) is False:
                problems.append(f"{q['doc']}: quote {(q.get('text') or q['start'])[:30]!r}:"
                                f" {tok.text!r} is not a number of {q['source']}")  # fmt: skip
        cover(q["doc"], span)
    for g in reg.get("generated", []):  # a section a program writes and a test rebuilds
        span = line_span(g["doc"], g["start"], g["end"])
        test = ROOT / g.get("test", "")
        if span is None:
            problems.append(f"{g['doc']}: generated section {g['start']!r} not found")
            continue
        name = re.sub(r"^<!-- \w+:|\s*-->$", "", g["start"])
        if not g.get("test") or not test.is_file() \
                or f'"{name}"' not in test.read_text(encoding="utf-8"):  # fmt: skip
            problems.append(f"{g['doc']}: generated section {g['start']!r}: its test {g.get('test')!r}"
                            " does not rebuild it")  # fmt: skip
        cover(g["doc"], span)
    uncovered = []
    for doc in PAGES:
        page = _page(doc)
        for tok in _tokens(doc):
            if not any(a <= tok.start < b for a, b in covered.get(doc, [])):
                line = page.count("\n", 0, tok.start) + 1
                uncovered.append(f"{doc}:{line}: {tok.text!r}")
    return problems, uncovered


def test_every_claim_matches_its_results_file():
    problems, _ = check()
    assert not problems, "\n".join(problems)


def test_every_measured_number_in_the_docs_is_registered():
    _, uncovered = check()
    assert not uncovered, (
        f"{len(uncovered)} measured numbers without an entry in benchmarks/claims.toml"
        " (python tests/test_claims.py lists them):\n" + "\n".join(uncovered[:40])
    )


def test_files_behind_timings_name_their_machine():
    """A timing is a fact about a machine: every results file a timing claim reads says which."""
    reg = load_registry()
    timed = {
        c["file"] for c in reg.get("claim", []) if re.search(r"\d\s?(?:ms|s|min|h)\}", c["text"])
    }
    for file in sorted(timed):
        doc = _load(file)
        assert isinstance(doc, dict) and any(k in doc for k in ("machine", "cpu")), (
            f"{file} holds timings but does not name the machine"
        )


@pytest.mark.parametrize(
    ("printed", "value", "ok"),
    [("0.748", 0.7484, True), ("0.75", 0.7484, True), ("0.749", 0.7484, False),
     ("53.4 %", 0.5335, True), ("53.3 %", 0.5335, True), ("53.2 %", 0.5335, False),
     ("65 s", 65.4, True), ("12 %", 0.1204, True), ("12 %", 12.3, True), ("12 %", 0.13, False),
     ("−3.6 %", -0.036, True), ("2,376", 2376, True), ("16 MiB", 16777216, True),
     ("17 MB", 16777216, True), ("16 MB", 16777216, False)],
)  # fmt: skip
def test_matching_at_the_printed_precision(printed, value, ok):
    """The check can fail: a value that rounds to another printed number is a mismatch."""
    assert matches(Token("x", 0, printed), value) is ok


def test_measured_numbers_are_found_and_settings_are_not():
    text = ("F1 0.748 at 6 px, 65 s, 12 %, 2.1× faster, width 8, `--lr 0.003`, torch 2.13.0,"
            " q1-q3 1.10-1.20, +0.25 and −0.05, 15 µs, 3x, 9 minutes, `0.5`\n")  # fmt: skip
    tokens = measured_tokens("x", text)
    assert [t.text for t in tokens] == ["0.748", "6 px", "65 s", "12 %", "2.1×", "1.10", "1.20",
                                        "+0.25", "−0.05", "15 µs", "3x", "9 minutes",
                                        "0.5"]  # fmt: skip
    values = [t.value for t in tokens]
    assert values[5:9] == [1.10, 1.20, 0.25, -0.05]  # a range's end is no minus sign


if __name__ == "__main__":
    problems, uncovered = check()
    print("\n".join(problems + uncovered))
    print(f"{len(problems)} problems, {len(uncovered)} uncovered", file=sys.stderr)


TAMPERING = [  # (page, text as it stands, the edit): each must fail the check
    ("README.md", "takes **1.12 times**", "takes **1.38 times**"),  # another number of its file
    ("README.md", "1.16 s against 1.01 s", "1.01 s against 1.16 s"),  # two numbers swapped
    ("docs/sweeps.md", "| 90.4 s | 2.94 h |", "| 2.94 s | 90.4 h |"),  # a row's cells swapped
    ("docs/synthetic.md", "**0.685 ± 0.010**", "**0.690 ± 0.010**"),
    ("docs/baseline.md", "0.36 with the demo's trained weights", "−0.36 with the demo's trained"
     " weights"),  # the sign
    ("docs/statistics.md", "two of equal size and opposite sign)", "two of equal size and"
     " opposite sign, F1 0.991 measured)"),  # a number slipped into a quoted span
    ("docs/benchmarks.md", "| 3.29 s | 2.11 s |", "| 2.11 s | 3.29 s |"),
    ("README.md", "q1-q3 1.10-1.20", "q1-q3 1.10-1.90"),  # a range's second end
    ("README.md", "(median of 21 paired", "(+0.25, median of 21 paired"),  # a signed number added
    ("docs/synthetic.md", "22 px", "12 px"),  # an integer with its unit
    ("docs/bad-input.md", "gets 30 minutes", "gets 90 minutes"),  # a unit in words, in a quote
    ("docs/benchmarks.md", "265 img/s at batch 16", "722 img/s at batch 16"),  # integers, units
    ("docs/statistics.md", "| `task` | radius (`6 px`) |", "| `task` | radius (`6 px`, `0.93`) |"),
    ("docs/synthetic.md", "(243–282 s;", "(250–282 s;"),  # a range's first end, unit after both
    pytest.param("docs/synthetic.md", "intraop PPV 0.67, TPR 0.40, F1 0.48, RMSE",
                 "intraop PPV 0.67, TPR 0.40, F1 0.58, RMSE",  # the paper misquoted
                 marks=pytest.mark.skipif(not SOURCES["paper"].exists(),
                                          reason="the paper's text is not beside this checkout")),
    pytest.param("docs/tables.md", "it gives Variant 2's −0.0144", "it gives Variant 2's +0.0144",
                 marks=pytest.mark.skipif(not SOURCES["paper"].exists(),
                                          reason="the paper's text is not beside this checkout")),
    # the paper's sign turned (the number alone is in the paper)
    ("docs/synthetic.md", "(intraop 0.95–1.45, sim", "(intraop 0.95–1.55, sim"),  # a setting
    # misquoted (checked against the generator's code)
]


@pytest.mark.parametrize("page, before, after", TAMPERING)
def test_a_wrong_figure_cannot_pass(monkeypatch, page, before, after):
    """Edits of copies of real pages, one per kind of wrong figure: each is caught."""
    original = _page(page)
    assert before in original, f"{page} no longer holds {before!r}: update the example"
    edited = original.replace(before, after, 1)
    real_page = _page.__wrapped__

    @functools.cache
    def page_of(doc):
        return edited if doc == page else real_page(doc)

    @functools.cache
    def tokens_of(doc):
        return tuple(measured_tokens(doc, page_of(doc)))

    monkeypatch.setattr(sys.modules[__name__], "_page", page_of)
    monkeypatch.setattr(sys.modules[__name__], "_tokens", tokens_of)
    problems, uncovered = check()
    assert problems or uncovered, f"{page}: {before!r} -> {after!r} passed the check"

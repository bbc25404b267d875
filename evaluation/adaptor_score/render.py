"""Rendering the paper-style tables: the table model and its Markdown, LaTeX and CSV forms.

Names and titles come from manifests and sweeps, so every text cell is escaped for its format
(``|`` in Markdown, the ten special characters in LaTeX, formula-like starts in CSV; see
:mod:`adaptor_score.outputs`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from adaptor_score import atomic
from adaptor_score.outputs import csv_cell, md_cell, tex_escape


def md_line(text) -> str:
    """Text for a Markdown heading or caption line (no line breaks, no markup characters)."""
    return str(text).replace("\r", " ").replace("\n", " ").replace("_", "\\_").replace("*", "\\*")


class _SafeWriter:
    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        self.writer.writerow([csv_cell(v) for v in row])


def _plain(cell) -> str:
    return distribution_label(cell) if isinstance(cell, dict) else str(cell)


@dataclass(frozen=True)
class Stat:
    """A mean ± std cell; ``scale`` 100 shows fractions as percent."""

    mean: float | None
    std: float | None
    digits: int
    scale: float = 1.0
    std_digits: int = 2
    note: str = ""

    def text(self, pm: str = "±") -> str:
        if self.mean is None:
            return "n/a" + (f" {self.note}" if self.note else "")
        out = f"{self.mean * self.scale:.{self.digits}f}"
        if self.std is not None:
            out += f" {pm} {self.std * self.scale:.{self.std_digits}f}"
        return out + (f" {self.note}" if self.note else "")


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""


@dataclass
class Table:
    name: str
    caption: str
    sections: list[Section]


def distribution_label(params: dict) -> str:
    """``Gauss, σ1 = 3``-style label of a target distribution.

    >>> distribution_label({"distribution": "tanh", "alpha": 10.5})
    'Tanh, α = 10.5'
    """
    dist = str(params.get("distribution", "")).lower()
    if dist in ("gauss", "gaussian") and "sigma1" in params:
        return f"Gauss, σ1 = {params['sigma1']:g}"
    if dist == "tanh" and "alpha" in params:
        return f"Tanh, α = {params['alpha']:g}"
    if dist == "binary":
        return "Binary"
    return dist.capitalize() or "-"


# Greek letters and ± of our own labels, as LaTeX math; everything else is escaped.
_LATEX_SYMBOLS = {"σ1": r"$\sigma_1$", "σ2": r"$\sigma_2$", "α": r"$\alpha$", "±": r"$\pm$"}


def latex_escape(text: str) -> str:
    """Text safe in LaTeX: special characters escaped (also in names from the manifest), then
    our symbols as math.

    >>> print(latex_escape("v1_g3 & σ1 = 3 ± 1"))
    v1\\_g3 \\& $\\sigma_1$ = 3 $\\pm$ 1
    """
    text = tex_escape(text)
    for a, b in _LATEX_SYMBOLS.items():
        text = text.replace(a, b)
    return text


def _cell_text(cell, latex: bool) -> str:
    if isinstance(cell, Stat):
        return latex_escape(cell.text()) if latex else md_cell(cell.text())
    text = distribution_label(cell) if isinstance(cell, dict) else str(cell)
    return latex_escape(text) if latex else md_cell(text)


def to_markdown(table: Table) -> str:
    out = [f"## {table.name}: {md_line(table.caption)}", ""]
    for sec in table.sections:
        out += [f"### {md_line(sec.title)}", ""]
        if sec.note:
            out += [f"_{md_line(sec.note)}_", ""]
        out.append("| " + " | ".join(md_cell(c) for c in sec.columns) + " |")
        out.append("|" + "|".join("---" for _ in sec.columns) + "|")
        for row in sec.rows:
            out.append("| " + " | ".join(_cell_text(c, False) for c in row) + " |")
        out.append("")
    return "\n".join(out)


def to_latex(table: Table) -> str:
    ncol = max(len(s.columns) for s in table.sections) if table.sections else 1
    out = [
        r"\begin{table}",
        r"\centering",
        rf"\caption{{{latex_escape(table.caption)}}}",
        r"\begin{tabular}{" + "l" * ncol + "}",
        r"\hline",
    ]
    for sec in table.sections:
        out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textbf{{{latex_escape(sec.title)}}}}} \\")
        if sec.note:
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{\small {latex_escape(sec.note)}}} \\")
        out.append(" & ".join(_cell_text(c, True) for c in sec.columns) + r" \\ \hline")
        for row in sec.rows:
            out.append(" & ".join(_cell_text(c, True) for c in row) + r" \\")
        out.append(r"\hline")
    out += [r"\end{tabular}", rf"\label{{tab:{table.name}}}", r"\end{table}", ""]
    return "\n".join(out)


def _numbers(cell) -> list:
    if not isinstance(cell, Stat):
        return ["", ""]
    return [
        "" if cell.mean is None else round(cell.mean * cell.scale, 6),
        "" if cell.std is None else round(cell.std * cell.scale, 6),
    ]


def write_table_csv(table: Table, path: Path) -> None:
    """Numbers, not strings: each mean ± std column becomes a ``mean`` and a ``std`` column."""
    buf = io.StringIO(newline="")
    w = _SafeWriter(csv.writer(buf))
    last_header = None
    for sec in table.sections:
        is_stat = [any(isinstance(r[i], Stat) for r in sec.rows) for i in range(len(sec.columns))]
        header = ["section"]
        for c, stat in zip(sec.columns, is_stat):
            header += [c, f"{c} std"] if stat else [c]
        if header != last_header:
            w.writerow(header)
            last_header = header
        for row in sec.rows:
            out = [sec.title]
            for cell, stat in zip(row, is_stat):
                out += _numbers(cell) if stat else [_plain(cell)]
            w.writerow(out)
    atomic.write_bytes(path, buf.getvalue().encode("utf-8", "backslashreplace"))

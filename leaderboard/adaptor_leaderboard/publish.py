"""Publishing a phase's leaderboard: Markdown, CSV, JSON and one static HTML page.

The page needs no server and no script: the table and every figure are inline SVG, drawn one way
(:mod:`adaptor_leaderboard.figstyle`). Every number of the robustness analyses is also in
``schemes.csv``, ``significance.csv`` and ``leaderboard.json``. Everything random is seeded, so
the page is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptor_leaderboard.analysis import LONG_COLUMNS, PARITY, SCHEME_NAMES, tau_summary
from adaptor_leaderboard.board import COLUMNS, Board, build_board, fmt_value
from adaptor_leaderboard.gallery import build_gallery
from adaptor_leaderboard.page import to_html
from adaptor_leaderboard.statsfiles import (
    PAIR_COLUMNS,
    SCHEME_COLUMNS,
    pair_rows,
    scheme_rows,
    schemes_json,
)
from adaptor_score import atomic
from adaptor_score.atomic import replacing_dir
from adaptor_score.outputs import md_cell, write_csv, write_json
from adaptor_score.units import unit_statement

__all__ = ["Board", "build_board", "publish", "to_markdown"]


def to_markdown(board: Board) -> str:
    d = board.rules.display_decimals
    r = board.rules
    lines = [
        f"# Leaderboard: phase {md_cell(r.phase)}",
        "",
        f"Ranked by {r.metric.upper()} at {r.radius:g} px over all test landmarks; a team's best "
        f"submission counts; exact ties share a rank. 95 % interval: {board.boot.describe()}.",
        "",
        *([unit_line(board), ""] if board.analysis else []),
        "| Rank | Team | Institute | F1 | 95 % interval | PPV | TPR | RMSE (px) |",
        "|---:|---|---|---:|---|---:|---:|---:|",
    ]
    for row in board.rows():
        ci = f"{fmt_value(row['f1_low'], d)} – {fmt_value(row['f1_high'], d)}"
        lines.append(
            f"| {row['rank']} | {md_cell(row['team'])} | {md_cell(row['institute'])} |"
            f" {fmt_value(row['f1'], d)} | {ci} |"
            f" {fmt_value(row['ppv'], d)} | {fmt_value(row['tpr'], d)} | {fmt_value(row['rmse'], 2)} |"
        )
    return "\n".join(lines + _scheme_lines(board)) + "\n"


def unit_line(board: Board) -> str:
    """The unit of analysis and the verdict of its tests, in words (the top of every page)."""
    a = board.analysis
    return f"{unit_statement(a.frames, a.unit)} {a.at().verdict()}"


def _scheme_lines(board: Board) -> list[str]:
    """The ranks under each of challengeR's schemes at each radius, at the unit of analysis and
    per frame (labelled as challengeR's parity analysis)."""
    a = board.analysis
    if a is None:
        return []
    lines = ["", "## Ranks under other schemes", "",
             "; ".join(f"{k}: {v}" for k, v in SCHEME_NAMES.items()) + "."]  # fmt: skip
    for unit in a.unit_names:
        cols = [(s, r) for r in a.radii for s in SCHEME_NAMES]
        title = (f"Cases per {unit} (the unit of analysis):" if unit == a.unit
                 else f"Cases per frame: {PARITY}")  # fmt: skip
        lines += ["", title, "",
                  "| Team | " + " | ".join(f"{s} {r:g} px" for s, r in cols) + " |",
                  "|---|" + "---:|" * len(cols)]  # fmt: skip
        for t, team in enumerate(a.teams):
            ranks = [a.ranks["official", r][t] if s == "official" else a.at(unit, r).ranks[s][t]
                     for s, r in cols]  # fmt: skip
            lines.append(f"| {md_cell(team)} | " + " | ".join(str(int(x)) for x in ranks) + " |")
    official = tau_summary(board.boot.kendall_tau())
    if official:
        lines += ["", f"Kendall's τ of the table's rule against {official['replicates']}"
                  f" bootstrap replicates: {official['text']}."]  # fmt: skip
    for unit in a.unit_names:
        ca = a.at(unit)
        summaries = {s: tau_summary(ca.tau(s)) for s in ca.ranks}
        taus = [f"{s} {t['text']}" for s, t in summaries.items() if t]
        if taus:
            note = (f" (n = {len(ca.cases)}: descriptive only)" if ca.descriptive else "")
            lines += ["", f"challengeR's τ per {unit}, with challengeR's bootstrap (each scheme"
                      f" against itself){note}: " + "; ".join(taus) + "."]  # fmt: skip
    return lines


SITE_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "per-case.csv",
              "schemes.csv", "significance.csv", "gallery", "index.html")  # fmt: skip


def publish(board: Board, out_dir: str | Path) -> list[Path]:
    """Write the site into ``out_dir`` as a whole: every file is rendered first, the site is built
    in a new folder beside it and then takes its place (:func:`adaptor_score.atomic.replacing_dir`),
    so a kill or a full disk leaves the previous site as it was. A folder holding files that are
    not the site's is refused, never deleted."""
    out = Path(out_dir)
    rows = board.rows()
    markdown = to_markdown(board)
    with replacing_dir(out, lambda p: p.name in SITE_FILES) as new:
        directions = build_gallery(board.translation_measures, new, seed=board.boot.seed)
        page = to_html(board, directions)  # a failure here keeps the previous site whole
        atomic.write_text(new / "leaderboard.md", markdown)
        write_csv(
            new / "leaderboard.csv",
            COLUMNS,
            ([("" if r[k] is None else r[k]) for k in COLUMNS] for r in rows),
        )
        write_json(new / "leaderboard.json", _board_json(board, rows))
        atomic.write_text(new / "index.html", page)
        if board.analysis is not None:
            a = board.analysis
            write_csv(new / "per-case.csv", LONG_COLUMNS, a.long_rows())
            schemes = scheme_rows(a, board.boot, board.standings)
            write_csv(new / "schemes.csv", SCHEME_COLUMNS, _cells(schemes, SCHEME_COLUMNS))
            write_csv(new / "significance.csv", PAIR_COLUMNS, _cells(pair_rows(a), PAIR_COLUMNS))
    return [out / n for n in SITE_FILES]


def _cells(rows: list[dict], columns) -> list[list]:
    return [["" if r[k] is None else r[k] for k in columns] for r in rows]


def _board_json(board: Board, rows: list[dict]) -> dict:
    return {
        "phase": board.rules.phase,
        "metric": board.rules.metric,
        "radius": board.rules.radius,
        "bootstrap": {
            "replicates": len(board.boot.f1),
            "seed": board.boot.seed,
            "unit": board.boot.unit,
            "cases": board.boot.n_units,
            "descriptive": board.boot.descriptive,
            "statement": board.boot.describe(),
        },
        "standings": rows,
        "unscored": board.unscored,
        "schemes": _schemes_json(board),
        "domain_transformation": {
            "measures": [public(m) for m in board.translation_measures],
            "runs": [public(r) for r in board.translation_runs],
        },
        "per_surgery_f1": {
            st.team: dict(zip(board.surgeries, [None if np.isnan(v) else float(v) for v in vals]))
            for st, vals in zip(board.standings, board.per_surgery)
        },
    }


# Keys that hold paths on the organiser's machine: the published files carry none of them.
HOST_PATHS = frozenset({"source", "real", "weights", "folder", "input_dir", "output_dir"})


def public(doc):
    """``doc`` without the keys that name folders on the organiser's machine (at any depth),
    and with a problem's path cut to its file name.

    >>> public({"source": "/srv/gt", "translations": {"A": {"folder": "/x", "images": 3}}})
    {'translations': {'A': {'images': 3}}}
    """
    if isinstance(doc, dict):
        return {k: (public(v) if k != "problems" else _names(v)) for k, v in doc.items()
                if k not in HOST_PATHS}  # fmt: skip
    if isinstance(doc, list):
        return [public(v) for v in doc]
    return doc


def _names(problems):
    if not isinstance(problems, list):
        return problems
    return [p.rsplit("/", 1)[-1] if isinstance(p, str) else p for p in problems]


def _schemes_json(board: Board) -> dict | None:
    if board.analysis is None:
        return None
    return schemes_json(board.analysis, board.boot, board.standings)

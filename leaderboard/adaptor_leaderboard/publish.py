"""Publishing a phase's leaderboard: Markdown, CSV, JSON and one static HTML page.

The page needs no server and no script: the table and every figure are inline SVG, drawn one way
(:mod:`adaptor_leaderboard.figstyle`). Every number of the robustness analyses is also in
``schemes.csv``, ``significance.csv`` and ``leaderboard.json``. Everything random is seeded, so
the page is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptor_leaderboard.analysis import LONG_COLUMNS, SCHEME_NAMES, TRUST, tau_summary
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

__all__ = ["Board", "build_board", "publish", "to_markdown"]


def to_markdown(board: Board) -> str:
    d = board.rules.display_decimals
    r = board.rules
    lines = [
        f"# Leaderboard: phase {md_cell(r.phase)}",
        "",
        f"Ranked by {r.metric.upper()} at {r.radius:g} px over all test landmarks; a team's best "
        "submission counts; exact ties share a rank. 95 % interval: bootstrap over test "
        f"{board.boot.unit}s ({len(board.boot.f1)} replicates, seed {board.boot.seed}).",
        "",
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


def _scheme_lines(board: Board) -> list[str]:
    """The ranks under each of challengeR's schemes at each radius, per video and per frame."""
    a = board.analysis
    if a is None:
        return []
    lines = ["", "## Ranks under other schemes", "",
             "; ".join(f"{k}: {v}" for k, v in SCHEME_NAMES.items()) + ".", "", TRUST]  # fmt: skip
    for unit in ("video", "frame"):
        cols = [(s, r) for r in a.radii for s in SCHEME_NAMES]
        lines += ["", f"Cases per {unit}:", "",
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
    for unit in ("video", "frame"):
        summaries = {s: tau_summary(a.at(unit).tau(s)) for s in a.at(unit).ranks}
        taus = [f"{s} {t['text']}" for s, t in summaries.items() if t]
        if taus:
            lines += ["", f"challengeR's τ per {unit} (each scheme against itself): "
                      + "; ".join(taus) + "."]  # fmt: skip
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
        },
        "standings": rows,
        "schemes": _schemes_json(board),
        "domain_transformation": {
            "measures": board.translation_measures,
            "runs": board.translation_runs,
        },
        "per_surgery_f1": {
            st.team: dict(zip(board.surgeries, [None if np.isnan(v) else float(v) for v in vals]))
            for st, vals in zip(board.standings, board.per_surgery)
        },
    }


def _schemes_json(board: Board) -> dict | None:
    if board.analysis is None:
        return None
    return schemes_json(board.analysis, board.boot, board.standings)

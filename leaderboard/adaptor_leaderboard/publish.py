"""Publishing a phase's leaderboard: Markdown, CSV, JSON and one static HTML page.

The page needs no server and no script: the table and four plots are inline SVG drawn here (F1 with
95 % bootstrap intervals, precision against recall, F1 per test surgery, and how often each team
lands at each rank under the bootstrap). Everything random is seeded, so the page is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptor_leaderboard.analysis import LONG_COLUMNS, SCHEME_NAMES
from adaptor_leaderboard.board import COLUMNS, Board, build_board, fmt_value
from adaptor_leaderboard.page import to_html
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
    """The ranks under each of challengeR's schemes at each radius (per-frame F1 as cases)."""
    a = board.analysis
    if a is None:
        return []
    cols = [(s, r) for r in a.radii for s in SCHEME_NAMES]
    lines = [
        "",
        "## Ranks under other schemes",
        "",
        "Per-frame F1 as cases; " + "; ".join(f"{k}: {v}" for k, v in SCHEME_NAMES.items()) + ".",
        "",
        "| Team | " + " | ".join(f"{s} {r:g} px" for s, r in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for t, team in enumerate(a.teams):
        lines.append(
            f"| {md_cell(team)} | " + " | ".join(str(int(a.ranks[c][t])) for c in cols) + " |"
        )
    tau = board.boot.kendall_tau()
    if tau.size:
        q1, med, q3 = np.quantile(tau, [0.25, 0.5, 0.75])
        lines += ["", f"Kendall's τ between the table and {tau.size} bootstrap replicates: median"
                  f" {med:.3f} (interquartile range {q1:.3f}–{q3:.3f})."]  # fmt: skip
    return lines


SITE_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "per-case.csv", "index.html")


def publish(board: Board, out_dir: str | Path) -> list[Path]:
    """Write the site into ``out_dir`` as a whole: every file is rendered first, the site is built
    in a new folder beside it and then takes its place (:func:`adaptor_score.atomic.replacing_dir`),
    so a kill or a full disk leaves the previous site as it was. A folder holding files that are
    not the site's is refused, never deleted."""
    out = Path(out_dir)
    rows = board.rows()
    page = to_html(board)  # everything that can fail is computed before anything is written
    markdown = to_markdown(board)
    with replacing_dir(out, lambda p: p.name in SITE_FILES) as new:
        atomic.write_text(new / "leaderboard.md", markdown)
        write_csv(
            new / "leaderboard.csv",
            COLUMNS,
            ([("" if r[k] is None else r[k]) for k in COLUMNS] for r in rows),
        )
        write_json(new / "leaderboard.json", _board_json(board, rows))
        atomic.write_text(new / "index.html", page)
        if board.analysis is not None:
            write_csv(new / "per-case.csv", LONG_COLUMNS, board.analysis.long_rows())
    return [out / n for n in SITE_FILES]


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
        "per_surgery_f1": {
            st.team: dict(zip(board.surgeries, [None if np.isnan(v) else float(v) for v in vals]))
            for st, vals in zip(board.standings, board.per_surgery)
        },
    }


def _schemes_json(board: Board) -> dict | None:
    a = board.analysis
    if a is None:
        return None
    tau = board.boot.kendall_tau()
    return {
        "cases": "frames",
        "ranks": [
            {"scheme": s, "radius": r, "ranks": dict(zip(a.teams, (int(x) for x in v)))}
            for (s, r), v in a.ranks.items()
        ],
        "significantly_better": {
            t: [a.teams[j] for j in np.flatnonzero(a.significant[i])] for i, t in enumerate(a.teams)
        },
        "holm_adjusted_p": {
            t: {u: (None if i == j else float(a.adjusted_p[i, j])) for j, u in enumerate(a.teams)}
            for i, t in enumerate(a.teams)
        },
        "kendall_tau": None
        if not tau.size
        else {
            "median": float(np.median(tau)),
            "q1": float(np.quantile(tau, 0.25)),
            "q3": float(np.quantile(tau, 0.75)),
            "replicates": int(tau.size),
        },
    }

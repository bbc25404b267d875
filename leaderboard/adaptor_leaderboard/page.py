"""The published leaderboard page: one static HTML file, no server and no script."""

from __future__ import annotations

import html

from adaptor_leaderboard.board import Board, fmt_value
from adaptor_leaderboard.plots import (
    plot_f1_intervals,
    plot_per_surgery,
    plot_precision_recall,
    plot_rank_stability,
)
from adaptor_score.outputs import iso_time

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem;
       color: #222; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) {
    text-align: left; white-space: normal; min-width: 9rem; max-width: 18rem; overflow-wrap: break-word; }
.note { color: #555; font-size: .9rem; }
svg { max-width: 100%; height: auto; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; }
svg text { font-size: 12px; } svg .axis { font-weight: 600; font-size: 13px; }
svg .grid { stroke: #e5e5e5; } svg .iso { fill: none; stroke: #ccc; stroke-dasharray: 3 3; }
svg .axisline { stroke: #888; } svg .tick { fill: #555; font-size: 11px; }
"""


RMSE_NOTE = (
    "RMSE: the paper's localisation metric, per frame the root mean square distance of every"
    " prediction to its nearest label, averaged over frames; false positives dominate it."
)
SORT_NOTE = (
    "This page runs no script, so its columns do not sort; leaderboard.csv and leaderboard.json"
    " beside it hold the same rows. Team names link to the method descriptions teams registered."
)


def team_cell(row: dict) -> str:
    """The team's name, linked to its method description when it registered an http(s) link
    (any other scheme, javascript: included, is shown as text only)."""
    name = html.escape(row["team"])
    url = row.get("method_url") or ""
    if url.startswith(("https://", "http://")):
        return f'<a href="{html.escape(url, quote=True)}" rel="nofollow noopener">{name}</a>'
    return name


def to_html(board: Board) -> str:
    r = board.rules
    d = r.display_decimals
    head = "".join(
        f"<th>{c}</th>"
        for c in (
            "Rank",
            "Team",
            "Institute",
            "F1",
            "95 % interval",
            "PPV",
            "TPR",
            "RMSE (px)",
            "Submissions",
            "Submitted (UTC)",
        )
    )
    body = []
    for row in board.rows():
        body.append(
            f"<tr><td>{row['rank']}</td><td>{team_cell(row)}</td><td>{html.escape(row['institute'])}</td>"
            f"<td><b>{fmt_value(row['f1'], d)}</b></td><td>{fmt_value(row['f1_low'], d)} – {fmt_value(row['f1_high'], d)}</td>"
            f"<td>{fmt_value(row['ppv'], d)}</td><td>{fmt_value(row['tpr'], d)}</td><td>{fmt_value(row['rmse'], 2)}</td>"
            f"<td>{row['submissions']}</td><td>{html.escape(row['submitted'][:10])}</td></tr>"
        )
    note = (
        f"Ranked by {r.metric.upper()} at {r.radius:g} px over all test landmarks (counts summed over "
        "frames); a team's best submission counts; exact ties share a rank. Intervals and rank "
        f"shares: {len(board.boot.f1)} bootstrap replicates over test {board.boot.unit}s, seed "
        f"{board.boot.seed}."
    )
    plots = [
        plot_f1_intervals(board),
        plot_precision_recall(board),
        plot_per_surgery(board),
        plot_rank_stability(board),
    ]
    figures = "".join(f"<figure>{p}</figure>" for p in plots)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>AdaptOR 2021 leaderboard: {html.escape(r.phase)}</title><style>{CSS}</style></head>"
        f"<body><h1>AdaptOR 2021 leaderboard — phase {html.escape(r.phase)}</h1><p>{html.escape(note)}</p>"
        f'<p class="note">Last updated {iso_time(board.published_at)}.</p>'
        f'<div class="tablewrap"><table id="leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f'<p class="note">{html.escape(RMSE_NOTE)}</p>'
        f'<p class="note">{html.escape(SORT_NOTE)}</p>'
        f'<div class="plots">{figures}</div></body></html>\n'
    )

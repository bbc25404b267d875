"""The published leaderboard page: one static HTML file, no server and no script."""

from __future__ import annotations

import html

import numpy as np

from adaptor_leaderboard.analysis import PARITY, tau_summary
from adaptor_leaderboard.board import Board, fmt_value
from adaptor_leaderboard.figjobs import draw_all
from adaptor_leaderboard.figures import (
    blob_panels,
    fig_blob,
    fig_cases,
    fig_schemes,
    fig_significance,
    fig_tau,
)
from adaptor_leaderboard.page_translation import translation_section
from adaptor_leaderboard.plots import plot_f1_intervals, plot_per_surgery, plot_precision_recall
from adaptor_score.outputs import iso_time
from adaptor_score.units import WORDS, count, unit_statement

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1500px; padding: 0 1rem;
       color: #222; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) {
    text-align: left; white-space: normal; min-width: 8rem; max-width: 16rem; overflow-wrap: break-word; }
.note { color: #555; font-size: .9rem; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
/* Figures keep their natural size (no text below 9 CSS px); a wide one scrolls sideways. */
figure { margin: 0; max-width: 100%; overflow-x: auto; }
figure svg { max-width: none; height: auto; display: block; }
figcaption { color: #555; font-size: .85rem; max-width: 36rem; margin-top: .3rem; }
table.gallery td { padding: 2px; } table.gallery img { display: block; }
table.gallery th, table.measures th, table.measures td { text-align: left; white-space: normal; }
/* A phone: rank, team and F1 stay in view; the other columns are in the CSV and JSON beside. */
@media (max-width: 700px) {
  body { margin: 1rem auto; }
  th:nth-child(n+3), td:nth-child(n+3) { display: none; }
  th:nth-child(4), td:nth-child(4) { display: table-cell; }
  th:nth-child(2), td:nth-child(2) { min-width: 0; max-width: 11rem; }
  table.unscored th, table.unscored td { display: table-cell; }
}
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


def to_html(board: Board, directions=()) -> str:
    """The page; ``directions``: the domain-transformation gallery already built
    (:func:`adaptor_leaderboard.gallery.build_gallery`)."""
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
        f"shares: {board.boot.describe()}."
    )
    verdict = ""
    if board.analysis is not None:
        from adaptor_leaderboard.publish import unit_line

        verdict = f'<p id="verdict"><b>{html.escape(unit_line(board))}</b></p>'
    svg = draw_all(figure_calls(board), FIGURE_COST)
    figures = "".join(f"<figure>{svg[name]}</figure>" for name in PLOTS)
    robustness = _robustness(board, svg)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>AdaptOR 2021 leaderboard: {html.escape(r.phase)}</title><style>{CSS}</style></head>"
        f"<body><h1>AdaptOR 2021 leaderboard — phase {html.escape(r.phase)}</h1><p>{html.escape(note)}</p>"
        f'<p class="note">Last updated {iso_time(board.published_at)}.</p>{verdict}'
        f'<div class="tablewrap"><table id="leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f"{_unscored(board)}"
        f'<p class="note">{html.escape(RMSE_NOTE)}</p>'
        f'<p class="note">{html.escape(SORT_NOTE)}</p>'
        f'<div class="plots">{figures}</div>{robustness}'
        f"{translation_section(list(directions), board.translation_runs)}</body></html>\n"
    )


def _unscored(board: Board) -> str:
    """The submissions without a score: every submission is accounted for on the page."""
    if not board.unscored:
        return ""
    body = "".join(
        f"<tr><td>{html.escape(u['submitted'][:16])}</td><td>{html.escape(u['team'])}</td>"
        f"<td>{html.escape(u['state'])}</td><td>{'yes' if u['counted'] else 'no'}</td>"
        f"<td>{html.escape(u['reason'])}</td></tr>"
        for u in board.unscored
    )
    return ('<h2>Submissions without a score</h2><div class="tablewrap">'
            '<table class="measures unscored">'
            "<thead><tr><th>Submitted (UTC)</th><th>Team</th><th>State</th><th>Counted</th>"
            f"<th>Reason</th></tr></thead><tbody>{body}</tbody></table></div>")


CAPTIONS = {
    "schemes": "Each team's rank when the same per-case results are ranked by challengeR's"
    " schemes: the table's pooled F1, aggregate-then-rank (mean or median of per-case F1),"
    " rank-then-aggregate (mean of per-case ranks) and test-then-rank (pairwise Wilcoxon tests,"
    " Holm, α = 0.05); teams sharing a rank are drawn side by side; lines that cross mark a"
    " ranking that depends on the scheme.",
    "tau": "How much of each ranking survives resampling the cases: challengeR's Kendall τ"
    " between each scheme on all cases and the same scheme on each bootstrap replicate"
    " (challengeR's bootstrap), at the unit of analysis and per frame; the first row is the"
    " table's own rule (every replicate re-applies it, best submission included). 1 is the same"
    " order. Each row names its n: under 20 cases a bootstrap only describes these cases.",
    "blob": "How often each team lands at each rank over the bootstrap replicates (blob area),"
    " with the rank on all cases (×) and the 95 % range of the replicates' ranks (bar), one"
    " panel per scheme.",
    "significance": "Which team is significantly better than which: the Holm-adjusted p-value"
    " of the one-sided Wilcoxon test that the row's team beats the column's on paired cases;"
    " filled cells are at most α = 0.05. Left: the unit of analysis (exact test); right: frames"
    " as cases (challengeR's per-frame test, for parity only).",
    "cases": "The spread behind each pooled number: F1 of single frames (box: all frames; dots:"
    " a seeded sample of 300; a frame without a prediction file counts 0).",
}


def _figure(name: str, svg: str, caption: str | None = None) -> str:
    text = html.escape(caption or CAPTIONS[name])
    return f'<figure id="fig-{name}">{svg}<figcaption>{text}</figcaption></figure>'


PLOTS = ("f1", "precision-recall", "per-surgery")  # above the robustness section, in order
# Each figure's drawing time in milliseconds, measured once on the benchmark's board (6 teams,
# 2 cores): draw_all shares the figures out by it, so the processes finish together.
FIGURE_COST = {"blob-unit": 185, "blob": 175, "schemes-unit": 110, "schemes": 130, "tau": 135,
               "significance": 120, "cases": 115, "per-surgery": 105, "f1": 40,
               "precision-recall": 60}  # fmt: skip


def figure_calls(board: Board) -> dict:
    """Every figure of the page as ``{name: (function, args)}``, drawn by
    :func:`adaptor_leaderboard.figjobs.draw_all`; the robustness figures only with an
    analysis, the per-frame parity ones only when the unit is not the frame."""
    calls = {"f1": (plot_f1_intervals, (board,)),
             "precision-recall": (plot_precision_recall, (board,)),
             "per-surgery": (plot_per_surgery, (board,))}  # fmt: skip
    a = board.analysis
    if a is None:
        return calls
    c = board.colours
    unit_title = f"Rank frequencies, {count(a.unit, len(a.at().cases))} as cases"
    calls["schemes-unit"] = (fig_schemes, (a, c, a.unit))
    calls["blob-unit"] = (fig_blob, (blob_panels(a, board.boot, a.unit), a.teams, c, unit_title))
    if a.unit != "frame":
        calls["schemes"] = (fig_schemes, (a, c, "frame"))
        calls["blob"] = (fig_blob, (blob_panels(a, None, "frame"), a.teams, c,
                                    "Rank frequencies, cases per frame (parity)"))  # fmt: skip
    calls["tau"] = (fig_tau, (a, board.boot))
    calls["significance"] = (fig_significance, (a,))
    calls["cases"] = (fig_cases, (a, c, board.rules.radius))
    return calls


def _robustness(board: Board, svg: dict[str, str]) -> str:
    """The ranking's robustness, challengeR's figures (empty without an analysis); ``svg``: the
    figures drawn (:func:`figure_calls`)."""
    a = board.analysis
    if a is None:
        return ""
    ca = a.at()
    words = WORDS[a.unit][1]
    main = [_figure("schemes-unit", svg["schemes-unit"], CAPTIONS["schemes"]),
            _figure("blob-unit", svg["blob-unit"], CAPTIONS["blob"])]  # fmt: skip
    frame = [] if a.unit == "frame" else [_figure("schemes", svg["schemes"]),
                                          _figure("blob", svg["blob"])]  # fmt: skip
    both = [_figure(name, svg[name]) for name in ("tau", "significance", "cases")]
    parity = "" if not frame else (
        "<h3>Frames as cases: challengeR's per-frame analysis, for parity</h3>"
        f'<p class="note">{html.escape(PARITY)}</p><div class="plots">{"".join(frame)}</div>')
    return (
        "<h2>How robust is the ranking?</h2>"
        f'<p class="note">{html.escape(_scheme_note(board))}</p>'
        f"<p><b>{html.escape(ca.verdict())}</b></p>"
        f"<h3>{html.escape(words.capitalize())} as cases: the unit of analysis</h3>"
        f'<div class="plots">{"".join(main)}</div>{parity}'
        f'<h3>Stability and significance</h3><div class="plots">{"".join(both)}</div>'
    )


def _scheme_note(board: Board) -> str:
    a = board.analysis
    r = board.rules.radius
    flips = [
        t for i, t in enumerate(a.teams) if len({int(v[i]) for (s, rr), v in a.ranks.items()}) > 1
    ]
    frame, ca = a.at("frame"), a.at()
    missing = int(np.isnan(frame.values).sum())
    parts = [
        f"{unit_statement(a.frames, a.unit)} A case's value is the mean of its frames' values;"
        " a frame with neither labels nor predictions scores F1 = 1; a frame without a"
        " prediction file counts as 0 in its case (so a missing frame costs in proportion, and"
        f" leaving files out never helps) and is a missing case per frame ({missing} such"
        " team-frames here). Per-case values: per-case.csv (challengeR's long layout); every"
        " number of these figures: schemes.csv, significance.csv and leaderboard.json."
    ]
    if flips:
        parts.append(
            f"At the unit of analysis, the rank of {len(flips)} of {len(a.teams)} teams changes"
            " with the scheme or radius."
        )
    else:
        parts.append("No team's rank changes with the scheme or the radius.")
    official = tau_summary(board.boot.kendall_tau())
    if official:
        parts.append(f"Kendall's τ of the table's rule over the replicates: {official['text']}.")
    k = len(a.teams) * (len(a.teams) - 1)
    if a.unit != "frame":
        parts.append(f"At {r:g} px {int(ca.significant.sum())} of {k} ordered pairs differ"
                     f" significantly with {WORDS[a.unit][1]} as cases ({count(a.unit, len(ca.cases))},"
                     f" exact test); challengeR's per-frame test, which counts correlated frames"
                     f" as independent, finds {int(frame.significant.sum())}.")  # fmt: skip
    return " ".join(parts)

"""The leaderboard's own plots: F1 with bootstrap intervals, precision against recall, F1 per
test surgery. Drawn like every figure of the page (:mod:`adaptor_leaderboard.figstyle`): team
names placed by matplotlib on axes and in legends, never by hand next to data where tied teams
would collide; each team in its own colour."""

from __future__ import annotations

import numpy as np

from adaptor_leaderboard.board import Board
from adaptor_leaderboard.figstyle import (
    HEAT,
    MARKERS,
    heat_text_colour,
    margins,
    place,
    short,
    styled,
    subplots,
    text_width,
    to_svg,
    widest,
)


@styled
def plot_f1_intervals(board: Board) -> str:
    """Each team's F1 (dot) and 95 % bootstrap interval (bar), in table order."""
    rows = board.rows()
    k = len(rows)
    fig, ax = subplots((5.0, 0.38 * k + 1.1))
    for i, r in enumerate(rows):
        colour = board.colours[r["team"]]
        if r["f1_low"] is not None:
            ax.plot([r["f1_low"], r["f1_high"]], [i, i], color=colour, lw=3, solid_capstyle="butt")
        ax.plot([r["f1"]], [i], marker=MARKERS[i % len(MARKERS)], color=colour, ms=7)
    names = [f"{r['rank']}. {short(r['team'])}" for r in rows]
    ax.set_yticks(range(k), names)
    ax.set_ylim(k - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.grid(axis="x", color="#e5e5e5")
    xlabel = f"F1 at {board.rules.radius:g} px (bar: 95 % bootstrap interval)"
    ax.set_xlabel(xlabel)
    ax.set_title("F1 with bootstrap intervals")
    place(fig, ax, margins(yticks=names, xticks=["1.0"], xlabel=xlabel,
                           title="F1 with bootstrap intervals"))  # fmt: skip
    return to_svg(fig, "F1 with bootstrap intervals", [r["team"] for r in rows])


@styled
def plot_precision_recall(board: Board) -> str:
    """PPV against TPR with curves of equal F1; teams named in the legend."""
    rows = board.rows()
    fig, ax = subplots((4.6, 3.6))
    for f in (0.2, 0.4, 0.6, 0.8):
        t = np.linspace(f / (2 - f) + 1e-3, 1, 60)  # the TPR range where PPV <= 1
        p = f * t / (2 * t - f)
        ok = p <= 1
        ax.plot(t[ok], p[ok], ls=(0, (3, 3)), color="#bbbbbb", lw=1)
        ax.annotate(f"F1 {f}", (1, f / (2 - f)), xytext=(3, 0), textcoords="offset points",
                    va="center", color="#666666", fontsize=8, annotation_clip=False)  # fmt: skip
    for i, r in enumerate(rows):
        ax.plot([r["tpr"]], [r["ppv"]], ls="none", marker=MARKERS[i % len(MARKERS)], ms=8,
                color=board.colours[r["team"]], alpha=0.9, label=short(r["team"]))  # fmt: skip
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("TPR (recall)")
    ax.set_ylabel("PPV (precision)")
    ax.set_title("Precision against recall (dashed: equal F1)")
    # right of the axes: the "F1 0.8" notes, then the legend (marker, gap, name)
    notes = text_width("F1 0.8", 8) + 3 / 72 + 0.1
    legend = 0.45 + widest([short(r["team"]) for r in rows])
    m = margins(yticks=["1.0"], xticks=["1.0"], xlabel="TPR (recall)", ylabel="PPV (precision)",
                title="Precision against recall (dashed: equal F1)",
                right_extra=notes + legend)  # fmt: skip
    place(fig, ax, m, min_axes=(2.0, 2.0))
    aw = fig.get_size_inches()[0] * (fig.subplotpars.right - fig.subplotpars.left)
    ax.legend(loc="upper left", bbox_to_anchor=(1 + notes / aw, 1.0), frameon=False,
              borderaxespad=0)  # fmt: skip
    return to_svg(fig, "Precision against recall", [r["team"] for r in rows])


@styled
def plot_per_surgery(board: Board) -> str:
    """F1 of each team (rows) on each test surgery (columns), the value in each cell."""
    teams = [s.team for s in board.standings]
    values = board.per_surgery
    k, m = values.shape
    fig, ax = subplots((0.75 * m + 2.6, 0.4 * k + 1.6))
    ax.imshow(np.nan_to_num(values, nan=0.0), cmap=HEAT, vmin=0, vmax=1, aspect="auto")
    for i in range(k):
        for j in range(m):
            v = values[i, j]
            ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center",
                    color=heat_text_colour(v), fontsize=8)  # fmt: skip
    ax.set_yticks(range(k), [short(t) for t in teams])
    ax.set_xticks(range(m), board.surgeries, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_title(f"F1 at {board.rules.radius:g} px per test surgery")
    for spine in ax.spines.values():
        spine.set_visible(False)
    room = margins(yticks=[short(t) for t in teams], xticks=list(board.surgeries), xrotation=40,
                   title=f"F1 at {board.rules.radius:g} px per test surgery")  # fmt: skip
    place(fig, ax, room, min_axes=(0.5 * m, 0.3 * k))
    return to_svg(fig, "F1 per test surgery", teams)

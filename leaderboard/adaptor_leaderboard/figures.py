"""The leaderboard's robustness figures, challengeR's: rank by scheme and radius, Kendall's tau
over bootstrap replicates, rank frequencies (blob plots), the significance map, per-frame F1.
Drawn like every figure of the page (:mod:`adaptor_leaderboard.figstyle`). Schemes are named
as challengeR names them, with the plain words beside.
"""

from __future__ import annotations

import numpy as np

from adaptor_leaderboard.analysis import Analysis, CaseAnalysis, tau_summary
from adaptor_leaderboard.bootstrap import BootstrapResult
from adaptor_leaderboard.figstyle import (
    EDGE,
    HEAT,
    LABEL_PAD,
    MARKERS,
    MIN_FONT,
    TICK_SPACE,
    TITLE_PAD,
    hbox,
    heat_text_colour,
    line,
    margins,
    place,
    short,
    styled,
    subplots,
    suptitle,
    tie_offsets,
    to_svg,
)
from adaptor_score.stats import SCHEMES, fill_missing

SCHEME_SHORT = {
    "official": "table: pooled F1",
    "mean": "aggregate-then-rank (mean)",
    "median": "aggregate-then-rank (median)",
    "rank_then_mean": "rank-then-aggregate (mean rank)",
    "test_then_rank": "test-then-rank (Wilcoxon)",
}
LEGEND_ROW = 0.2  # inches: one row of the legend (a marker of 6 points and an 8-point label)
UNIT_WORDS = {"frame": "per frame", "video": "per video", "surgery": "per surgery"}


def _labels(teams: list[str]) -> list[str]:
    return [short(t) for t in teams]


@styled
def fig_schemes(a: Analysis, colours: dict[str, str], unit: str = "frame") -> str:
    """Each team's rank under each scheme (rows) at each radius (panels); teams sharing a rank
    are drawn side by side, so a crossing line is a ranking that depends on the scheme."""
    schemes = ["official", *SCHEMES]
    k = len(a.teams)
    fig, axes = subplots((2.7 * len(a.radii) + 2.6, 0.5 * len(schemes) + 1.7), nrows=1,
                         ncols=len(a.radii), sharey=True, squeeze=False)  # fmt: skip
    for ax, r in zip(axes[0], a.radii):
        ranks = {s: (a.ranks["official", r] if s == "official" else a.at(unit, r).ranks[s])
                 for s in schemes}  # fmt: skip
        offsets = {s: tie_offsets(ranks[s]) for s in schemes}
        for t, team in enumerate(a.teams):
            xs = [ranks[s][t] for s in schemes]
            ys = [i + offsets[s][t] for i, s in enumerate(schemes)]
            ax.plot(xs, ys, marker=MARKERS[t % len(MARKERS)], color=colours[team],
                    label=short(team), lw=1.5, ms=6, alpha=0.9)  # fmt: skip
        ax.set_title(f"{r:g} px")
        ax.set_xlim(0.5, k + 0.5)
        ax.set_xticks(range(1, k + 1))
        ax.set_xlabel("rank")
        ax.grid(axis="x", color="#e5e5e5")
    names = [SCHEME_SHORT[s] for s in schemes]
    axes[0][0].set_yticks(range(len(schemes)), names)
    axes[0][0].invert_yaxis()
    ncol = min(k, 3)
    legend_h = -(-k // ncol) * LEGEND_ROW + LABEL_PAD
    title = f"Rank under each scheme and radius, cases {UNIT_WORDS[unit]}"
    m = margins(yticks=names, xticks=[str(k)], xlabel="rank", title=f"{a.radii[-1]:g} px",
                suptitle=title, bottom_extra=legend_h)  # fmt: skip
    place(fig, axes, m, wgap=0.2)
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=ncol,
               bbox_to_anchor=(0.5, EDGE / fig.get_size_inches()[1]), frameon=False,
               borderaxespad=0)  # fmt: skip
    suptitle(fig, title)
    return to_svg(fig, f"Rank under each scheme, {UNIT_WORDS[unit]}", a.teams)


@styled
def fig_tau(a: Analysis, boot: BootstrapResult) -> str:
    """challengeR's Kendall tau of each scheme (the scheme on all cases against the same scheme
    on each replicate), at the unit of analysis and per frame, with the table's rule on its own
    row; every row names its n."""
    rows = [("official", None), *[(s, u) for u in a.unit_names for s in SCHEMES]]
    labels = [f"table's rule, {boot.n_units} {boot.unit} cases"] + [
        f"{SCHEME_SHORT[s]}, {UNIT_WORDS[u]} (n = {len(a.at(u).cases)})" for s, u in rows[1:]
    ]
    fig, ax = subplots((6.4, 0.42 * len(rows) + 1.2))
    rng = np.random.default_rng(0)
    for i, (scheme, unit) in enumerate(rows):
        tau = boot.kendall_tau() if scheme == "official" else a.at(unit).tau(scheme)
        summary = tau_summary(tau)
        finite = tau[np.isfinite(tau)]
        if summary is None or not finite.size:
            text = "no replicates" if summary is None else summary["text"]
            ax.text(0, i, text, ha="center", va="center", color="#555555", fontsize=8)
            continue
        hbox(ax, [finite], positions=[i], widths=0.5, showfliers=False)
        shown = rng.permutation(finite)[:200]  # a seeded sample: the box holds them all
        ax.scatter(shown, i + rng.uniform(-0.18, 0.18, shown.size), s=5, alpha=0.3,
                   color="#0072B2")  # fmt: skip
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-1.05, 1.05)
    xlabel = "Kendall's τ to the ranking on all cases (1: the same order)"
    title = "How stable is each ranking under resampling?"
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    place(fig, ax, margins(yticks=labels, xticks=["1.0"], xlabel=xlabel, title=title))
    return to_svg(fig, "Kendall's tau over bootstrap replicates")


@styled
def fig_blob(panels: list[tuple[str, np.ndarray, np.ndarray]], teams: list[str],
             colours: dict[str, str], title: str) -> str:  # fmt: skip
    """challengeR's blob plot, one panel per scheme: how often each team lands at each rank over
    the replicates (area), the ranking on all cases (×), the 2.5-97.5 % range (bar)."""
    k = len(teams)
    cols = min(len(panels), 3)
    nrows = -(-len(panels) // cols)
    fig, axes = subplots((2.5 * cols + 1.6, (0.42 * k + 1.1) * nrows), nrows=nrows, ncols=cols,
                         squeeze=False, sharey=True)  # fmt: skip
    flat = list(axes.ravel())
    rgb = [colours[team] for team in teams]
    for ax, (name, reps, table) in zip(flat, panels):
        if len(reps):  # one collection per kind of mark, not one per team: a third of the time
            share = (reps[:, :, None] == np.arange(1, k + 1)).mean(axis=0)  # (team, rank)
            t, j = np.nonzero(share)
            ax.scatter(j + 1, t, s=500 * share[t, j], color=[rgb[i] for i in t], alpha=0.75,
                       edgecolors="none")  # fmt: skip
            lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
            ax.hlines(np.arange(k), lo, hi, color="#555555", lw=1)
        ax.scatter(table, np.arange(k), marker="x", color="#000000", s=25, zorder=3)
        ax.set_xticks(range(1, k + 1))
        ax.set_xlim(0.4, k + 0.6)
        ax.set_ylim(k - 0.4, -0.6)
        ax.set_title(SCHEME_SHORT[name], fontsize=8.5)
        ax.set_xlabel("rank")
    flat[0].set_yticks(range(k), _labels(teams))
    for ax in flat[len(panels) :]:
        ax.set_visible(False)
    m = margins(yticks=_labels(teams), xticks=[str(k)], xlabel="rank",
                title=max((SCHEME_SHORT[p[0]] for p in panels), key=len), suptitle=title)
    row_gap = (line(MIN_FONT) + TICK_SPACE + line(9) + LABEL_PAD + line(8.5) + TITLE_PAD
               + LABEL_PAD)  # the row above's ticks and label, this row's title  # fmt: skip
    place(fig, axes, m, wgap=0.2, hgap=row_gap)
    suptitle(fig, title)
    return to_svg(fig, title, teams)


def blob_panels(a: Analysis, boot: BootstrapResult | None, unit: str):
    """The blob plot's panels: the table's rule (when given), then each scheme with ``unit``."""
    out = []
    if boot is not None and boot.official is not None:
        out.append(("official", boot.ranks, boot.official))
    ca = a.at(unit)
    out += [(s, ca.replicate_ranks.get(s, np.zeros((0, len(a.teams)))), ca.ranks[s])
            for s in SCHEMES]  # fmt: skip
    return out


@styled
def fig_significance(a: Analysis) -> str:
    """Which team is significantly better than which, at the unit of analysis (exact test) and
    per frame (challengeR's test, parity): cell (row i, column j) is filled when i beats j
    (one-sided Wilcoxon, Holm over all ordered pairs, adjusted p at most alpha), with the
    Holm-adjusted p-value in it; team names on both axes."""
    k = len(a.teams)
    units = a.unit_names
    fig, axes = subplots((len(units) * (0.55 * k + 1.2) + 2.2, 0.5 * k + 2.4), nrows=1,
                         ncols=len(units), squeeze=False)  # fmt: skip
    for ax, unit in zip(axes[0], units):
        ca: CaseAnalysis = a.at(unit)
        sig = ca.significant
        ax.imshow(np.where(sig, 1.0, 0.0), cmap=HEAT, vmin=0, vmax=1.3, aspect="auto")
        for i in range(k):
            for j in range(k):
                if i == j:
                    ax.text(j, i, "–", ha="center", va="center", color="#888888")
                    continue
                p = ca.p_holm[i, j]
                ax.text(j, i, "<.001" if p < 0.001 else f"{p:.3f}".lstrip("0"), ha="center",
                        va="center", color=heat_text_colour(1.0 if sig[i, j] else 0.0),
                        fontsize=8)  # fmt: skip
        ax.set_xticks(range(k), _labels(a.teams), rotation=40, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(k), _labels(a.teams) if unit == units[0] else [""] * k)
        test = "exact" if ca.exact else "parity"
        ax.set_title(f"{UNIT_WORDS[unit]} ({len(ca.cases)} cases, {test})")
        for spine in ax.spines.values():
            spine.set_visible(False)
    title = f"Row beats column? Holm-adjusted p, filled at most α = {a.alpha:g}"
    m = margins(yticks=_labels(a.teams), xticks=_labels(a.teams), xrotation=40,
                title=f"{UNIT_WORDS[units[-1]]} ({len(a.at(units[-1]).cases)} cases, parity)",
                suptitle=title)  # fmt: skip
    # the second map's rotated labels reach left under the gap, never to the first map's
    place(fig, axes, m, wgap=0.35, min_axes=(0.3 * k, 0.3 * k))
    suptitle(fig, title)
    return to_svg(fig, "Significance map", a.teams)


@styled
def fig_cases(a: Analysis, colours: dict[str, str], radius: float, dots: int = 300) -> str:
    """Per-frame F1 of each team (a missing frame at 0, as ranked): a box over all frames and,
    jittered, up to ``dots`` frames (seeded), so that the spread behind each pooled number
    shows."""
    f1 = fill_missing(a.per_case[radius]["f1"])
    k = len(a.teams)
    fig, ax = subplots((5.6, 0.55 * k + 1.4))
    rng = np.random.default_rng(0)
    hbox(ax, list(f1), positions=range(k), widths=0.5, showfliers=False)
    for t, team in enumerate(a.teams):
        pick = rng.permutation(f1.shape[1])[:dots]
        ax.scatter(f1[t, pick], t + rng.uniform(-0.2, 0.2, len(pick)), s=7, alpha=0.35,
                   color=colours[team], edgecolors="none")  # fmt: skip
    ax.set_yticks(range(k), _labels(a.teams))
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    xlabel = f"F1 of one frame at {radius:g} px (no prediction file: 0)"
    title = "Per-frame F1 (box: all frames; dots: a sample)"
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    place(fig, ax, margins(yticks=_labels(a.teams), xticks=["1.0"], xlabel=xlabel, title=title))
    return to_svg(fig, "Per-frame F1", a.teams)

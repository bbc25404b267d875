"""The leaderboard's robustness figures, drawn with matplotlib and inlined as SVG (the page
stays one static file without script): rank by scheme and radius, Kendall's tau over bootstrap
replicates, rank frequencies (blob plot), the significance map, per-frame F1 per team.

Text stays text (``svg.fonttype = "none"``), so the browser test can measure every label, and
a reader can select and search it. Team names are laid out by matplotlib on axes and in legends
(never placed by hand next to data, where tied teams would collide), shortened to
:data:`~adaptor_leaderboard.plots.LABEL_CHARS` characters. Colours are the Okabe-Ito palette,
which readers with any common colour-vision deficiency can tell apart.
"""

from __future__ import annotations

import functools
import io
import re
import zlib

import numpy as np

from adaptor_leaderboard.analysis import SCHEME_NAMES, Analysis
from adaptor_leaderboard.bootstrap import BootstrapResult
from adaptor_leaderboard.plots import short

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
SCHEME_SHORT = {
    "official": "pooled (table)",
    "mean": "mean F1",
    "median": "median F1",
    "rank_then_mean": "mean rank",
    "test_then_rank": "tests",
}


def _svg(fig) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog, no fixed ids shared between
    figures: matplotlib names its clip paths and markers per file, so each figure's ids, and
    the references to them, get a prefix)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})  # reproducible
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"f{zlib.crc32(text.encode()):08x}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)  # markers
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)


# matplotlib's settings for these figures only (rc_context), never the process's: a caller's own
# figures keep theirs. Figures are made with Figure(), not pyplot, so no backend is switched and
# no figure stays registered.
_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,  # a "$" in a team's name is text, never mathtext
    "svg.hashsalt": "adaptor",  # reproducible ids
    "font.size": 10,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _styled(draw):
    """Run ``draw`` (which makes and saves one figure) under :data:`_RC`."""

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_RC):
            return draw(*args, **kwargs)

    return styled


def _subplots(figsize, **kwargs):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(**kwargs)


def _hbox(ax, data, **kw) -> None:
    """A horizontal box plot (``orientation`` since matplotlib 3.10, ``vert`` before)."""
    try:
        ax.boxplot(data, orientation="horizontal", **kw)
    except TypeError:
        ax.boxplot(data, vert=False, **kw)


def _labels(teams: list[str]) -> list[str]:
    return [short(t) for t in teams]


@_styled
def fig_schemes(a: Analysis, colours: dict[str, str]) -> str:
    """Each team's rank under each scheme (rows) at each radius (panels): a ranking that flips
    between schemes shows as crossing lines."""
    schemes = list(SCHEME_NAMES)
    k = len(a.teams)
    fig, axes = _subplots((2.6 * len(a.radii) + 1.8, 0.45 * 5 + 1.6), nrows=1, ncols=len(a.radii),
                         sharey=True, squeeze=False)  # fmt: skip
    for ax, r in zip(axes[0], a.radii):
        for t, team in enumerate(a.teams):
            xs = [a.ranks[s, r][t] for s in schemes]
            ax.plot(xs, range(len(schemes)), marker=MARKERS[t % len(MARKERS)], color=colours[team],
                    label=short(team), lw=1.5, ms=6, alpha=0.9)  # fmt: skip
        ax.set_title(f"{r:g} px")
        ax.set_xlim(0.5, k + 0.5)
        ax.set_xticks(range(1, k + 1))
        ax.set_xlabel("rank")
        ax.grid(axis="x", color="#e5e5e5")
    axes[0][0].set_yticks(range(len(schemes)), [SCHEME_SHORT[s] for s in schemes])
    axes[0][0].invert_yaxis()
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper center",
               bbox_to_anchor=(0.5, 0.0), ncol=min(k, 3), frameon=False)  # fmt: skip
    fig.suptitle("Rank under each scheme and radius")
    return _svg(fig)


@_styled
def fig_tau(boot: BootstrapResult) -> str:
    """Kendall's tau-b between the table and each bootstrap replicate, as a strip of points
    over a box."""
    tau = boot.kendall_tau()
    fig, ax = _subplots((5.2, 1.9))
    if tau.size:
        rng = np.random.default_rng(0)
        _hbox(ax, tau, widths=0.5, showfliers=False)
        shown = rng.permutation(tau)[:300]  # a seeded sample: the box holds them all
        ax.scatter(shown, 1 + rng.uniform(-0.18, 0.18, shown.size), s=6, alpha=0.3, color="#0072B2")
        q1, med, q3 = np.quantile(tau, [0.25, 0.5, 0.75])
        ax.set_title(f"Kendall's τ, table vs {tau.size} replicates: median {med:.2f}"
                     f" (IQR {q1:.2f}–{q3:.2f})", fontsize=10)  # fmt: skip
    ax.set_xlim(-1.05, 1.05)
    ax.set_yticks([])
    ax.set_xlabel("τ (1: same order as the table)")
    return _svg(fig)


@_styled
def fig_blob(boot: BootstrapResult, colours: dict[str, str]) -> str:
    """How often each team lands at each rank under the bootstrap: blob area is the share;
    the cross marks the table's rank, the bar the 2.5-97.5 % range of the replicates' ranks."""
    k = len(boot.teams)
    freq = boot.rank_frequencies() if len(boot.ranks) else np.zeros((k, k))
    fig, ax = _subplots((4.8, 0.5 * k + 1.4))
    for t, team in enumerate(boot.teams):
        ranks = np.arange(1, k + 1)
        share = freq[t]
        ax.scatter(ranks[share > 0], np.full((share > 0).sum(), t), s=900 * share[share > 0],
                   color=colours[team], alpha=0.75, edgecolors="none")  # fmt: skip
        if len(boot.ranks):
            lo, hi = np.quantile(boot.ranks[:, t], [0.025, 0.975])
            ax.plot([lo, hi], [t, t], color="#555", lw=1)
        if boot.official is not None:
            ax.scatter([boot.official[t]], [t], marker="x", color="#000", s=30, zorder=3)
    ax.set_yticks(range(k), _labels(boot.teams))
    ax.invert_yaxis()
    ax.set_xticks(range(1, k + 1))
    ax.set_xlim(0.4, k + 0.6)
    ax.set_ylim(k - 0.4, -0.6)
    ax.set_xlabel("rank")
    ax.set_title("Rank frequencies over bootstrap replicates", fontsize=10)
    return _svg(fig)


@_styled
def fig_significance(a: Analysis) -> str:
    """Which team is significantly better than which: cell (row i, column j) is filled when i
    beats j (one-sided Wilcoxon on per-frame F1, Holm over all ordered pairs, α = 0.05)."""
    k = len(a.teams)
    sig = a.significant
    fig, ax = _subplots((0.6 * k + 3.0, 0.5 * k + 1.5))
    ax.imshow(np.where(sig, 1.0, 0.0), cmap="Blues", vmin=0, vmax=1.3, aspect="auto")
    for i in range(k):
        for j in range(k):
            if i == j:
                ax.text(j, i, "–", ha="center", va="center", color="#888")
            elif a.adjusted_p is not None:  # the Holm-adjusted p-value of "i beats j"
                p = a.adjusted_p[i, j]
                ax.text(j, i, "<.001" if p < 0.001 else f"{p:.3f}".lstrip("0"), ha="center",
                        va="center", color="#fff" if sig[i, j] else "#333", fontsize=8)  # fmt: skip
    ax.set_yticks(range(k), [f"{i + 1}. {n}" for i, n in enumerate(_labels(a.teams))])
    ax.set_xticks(range(k), [str(j + 1) for j in range(k)])
    ax.set_xlabel("… is better than team number")
    ax.set_title(f"Significantly better (Holm, α = {a.alpha:g})", fontsize=10)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _svg(fig)


@_styled
def fig_cases(a: Analysis, colours: dict[str, str], radius: float, dots: int = 300) -> str:
    """Per-frame F1 of each team: a box over all frames and, jittered, up to ``dots`` frames
    (seeded), so that the spread behind each pooled number shows."""
    f1 = a.per_case[radius]["f1"]
    k = len(a.teams)
    fig, ax = _subplots((5.6, 0.55 * k + 1.4))
    rng = np.random.default_rng(0)
    _hbox(ax, list(f1), positions=range(k), widths=0.5, showfliers=False)
    for t, team in enumerate(a.teams):
        pick = rng.permutation(f1.shape[1])[:dots]
        ax.scatter(f1[t, pick], t + rng.uniform(-0.2, 0.2, len(pick)), s=7, alpha=0.35,
                   color=colours[team], edgecolors="none")  # fmt: skip
    ax.set_yticks(range(k), _labels(a.teams))
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel(f"F1 of one frame at {radius:g} px")
    ax.set_title("Per-frame F1 (box: all frames; dots: a sample)", fontsize=10)
    return _svg(fig)

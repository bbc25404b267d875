"""One way to draw every figure of the published page: matplotlib, one style, inline SVG.

Text stays text (``svg.fonttype = "none"``), so the browser test can measure every label and a
reader can select and search it. No font is smaller than :data:`MIN_FONT` points; the page shows
figures at their natural size (1 pt = 4/3 CSS px) and lets a wide one scroll sideways on a phone
rather than shrink it, so no text renders below 9 CSS px at 390 px. Team names are shortened to
:data:`LABEL_CHARS` characters (the full name is in the table and the files beside the page).
Colours: Okabe and Ito's palette (``board.colours``), which readers with any common colour-vision
deficiency can tell apart, the same colour for a team in every figure; one blue scale for maps.
"""

from __future__ import annotations

import functools
import html
import io
import re
import zlib

import numpy as np

LABEL_CHARS = 28
MIN_FONT = 8  # points: 10.7 CSS px at the page's natural size
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HEAT = "Blues"

# matplotlib's settings for these figures only (rc_context), never the process's: a caller's own
# figures keep theirs. Figures are made with Figure(), not pyplot, so no backend is switched and
# no figure stays registered.
RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,  # a "$" in a team's name is text, never mathtext
    "svg.hashsalt": "adaptor",  # reproducible ids
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "xtick.labelsize": MIN_FONT,
    "ytick.labelsize": MIN_FONT,
    "legend.fontsize": MIN_FONT,
    "figure.titlesize": 10,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def short(name: str, n: int = LABEL_CHARS) -> str:
    """``name`` cut to ``n`` characters with an ellipsis.

    >>> short("Deep Suture Detection Consortium", 12)
    'Deep Suture…'
    """
    return name if len(name) <= n else name[: n - 1].rstrip() + "…"


def styled(draw):
    """Run ``draw`` (which makes and saves one figure) under :data:`RC`."""

    @functools.wraps(draw)
    def run(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return run


def subplots(figsize, **kwargs):
    """A figure with its axes; the caller places them with :func:`place` (no layout engine)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(**kwargs)


# Layout, computed from the texts each figure knows it draws rather than by a layout engine:
# matplotlib's constrained (or tight) layout measures every text of the figure once more before
# drawing it, which was 45 % of the page's drawing time (2.30 s against 1.30 s for its ten
# figures, 6 teams, 2 cores). Sizes in inches; the browser test checks on the page that no label
# overlaps another and none leaves its figure.
EDGE = 0.08  # the figure's own border
TICK_SPACE = 7 / 72  # tick length and its pad (3.5 + 3.5 points)
LABEL_PAD = 4 / 72  # between tick labels and the axis label
TITLE_PAD = 6 / 72  # between the axes and its title


def line(points: float) -> float:
    """The height of a line of text at ``points``, in inches."""
    return points * 1.25 / 72


@functools.lru_cache(maxsize=4096)
def text_width(text: str, points: float) -> float:
    """The width of ``text`` at ``points`` in matplotlib's sans-serif, in inches (as matplotlib
    measures it for the SVG it writes)."""
    if not text:
        return 0.0
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(family="sans-serif", size=points), ismath=False
    )
    return width / 72


def widest(texts, points: float = MIN_FONT) -> float:
    return max((text_width(str(t), points) for t in texts), default=0.0)


def rotated_extent(texts, degrees: float, points: float = MIN_FONT) -> tuple[float, float]:
    """How far right-anchored tick labels rotated by ``degrees`` reach below their ticks and to
    the left of them, in inches."""
    a = np.radians(degrees)
    w, h = widest(texts, points), line(points)
    return w * np.sin(a) + h * np.cos(a), w * np.cos(a) + h * np.sin(a) / 2


def margins(*, yticks=(), xticks=(), xrotation: float = 0.0, xlabel: str = "",
            ylabel: str = "", title: str = "", suptitle: str = "", bottom_extra: float = 0.0,
            right_extra: float = 0.0) -> dict:  # fmt: skip
    """The four margins, in inches, that hold an axes' tick labels, axis labels and titles (the
    texts themselves: a centred label or title wider than its axes widens the axes, a figure
    title wider than the figure widens the figure)."""
    left = EDGE + (widest(yticks) + TICK_SPACE if len(yticks) else 0.0)
    left += line(RC["axes.labelsize"]) + LABEL_PAD if ylabel else 0.0
    if xrotation:
        below, leftwards = rotated_extent(xticks, xrotation)
        left = max(left, EDGE + leftwards)
        right = EDGE
    else:
        below = line(MIN_FONT) if len(xticks) else 0.0
        right = EDGE + widest(xticks[-1:]) / 2 if len(xticks) else EDGE
    bottom = EDGE + below + (TICK_SPACE if len(xticks) else 0.0) + bottom_extra
    bottom += line(RC["axes.labelsize"]) + LABEL_PAD if xlabel else 0.0
    top = EDGE + (line(RC["axes.titlesize"]) + TITLE_PAD if title else 0.0)
    top += line(RC["figure.titlesize"]) + LABEL_PAD if suptitle else 0.0
    return {"left": left, "right": right + right_extra, "top": top, "bottom": bottom,
            "axes_width": max(text_width(xlabel, RC["axes.labelsize"]),
                              text_width(title, RC["axes.titlesize"])) + 0.05,
            "figure_width": text_width(suptitle, RC["figure.titlesize"]) + 2 * EDGE}  # fmt: skip


def place(fig, axes, m: dict, wgap: float = 0.0, hgap: float = 0.0,
          min_axes: tuple[float, float] = (1.0, 0.5)) -> None:  # fmt: skip
    """Put the grid of ``axes`` inside margins ``m`` (inches; :func:`margins`) with ``wgap`` and
    ``hgap`` between panels; the figure grows where the axes would be smaller than
    ``min_axes`` or than their centred texts (a long team name widens the figure rather than
    crush its plot or cut its label)."""
    rows, cols = np.shape(np.atleast_2d(axes))
    w, h = fig.get_size_inches()
    least = max(min_axes[0], m.get("axes_width", 0.0))
    need_w = m["left"] + m["right"] + (cols - 1) * wgap + cols * least
    need_h = m["top"] + m["bottom"] + (rows - 1) * hgap + rows * min_axes[1]
    w, h = max(w, need_w, m.get("figure_width", 0.0)), max(h, need_h)
    fig.set_size_inches(w, h)
    aw = (w - m["left"] - m["right"] - (cols - 1) * wgap) / cols
    ah = (h - m["top"] - m["bottom"] - (rows - 1) * hgap) / rows
    fig.subplots_adjust(left=m["left"] / w, right=1 - m["right"] / w, bottom=m["bottom"] / h,
                        top=1 - m["top"] / h, wspace=wgap / aw, hspace=hgap / ah)  # fmt: skip


def suptitle(fig, text: str) -> None:
    """The figure's title, centred, its top :data:`EDGE` below the figure's top."""
    fig.suptitle(text, y=1 - EDGE / fig.get_size_inches()[1], va="top")


def to_svg(fig, title: str, names=()) -> str:
    """The figure as an inline ``<svg>`` element with an accessible title (no XML prolog; every
    id, and each reference to it, prefixed per figure, since matplotlib names its clip paths and
    markers per file and two figures on one page would otherwise share them). Each of ``names``
    (team names) shown shortened gets its full name as the label's tooltip."""
    buf = io.StringIO()
    # No bbox_inches="tight": :func:`place` has already fitted every label inside the canvas,
    # and "tight" would measure every text again.
    fig.savefig(buf, format="svg", metadata={"Date": None})  # no date: reproducible
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"f{zlib.crc32(text.encode()):08x}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    head = text.index(">") + 1
    label = html.escape(title, quote=True)
    text = text[: head - 1].rstrip("/") + f' role="img" aria-label="{label}">' + text[head:]
    for name in names:
        cut = short(name)
        if cut != name:  # matplotlib writes the label as the text element's own text
            text = text.replace(f">{html.escape(cut, quote=False)}</text>",
                                f"><title>{html.escape(name)}</title>{html.escape(cut, quote=False)}</text>")  # fmt: skip
    return text


def hbox(ax, data, **kw) -> None:
    """A horizontal box plot (``orientation`` since matplotlib 3.10, ``vert`` before)."""
    try:
        ax.boxplot(data, orientation="horizontal", **kw)
    except TypeError:
        ax.boxplot(data, vert=False, **kw)


def tie_offsets(ranks, spread: float = 0.3) -> np.ndarray:
    """Vertical offsets that keep teams sharing a rank apart (0 for a team alone at its rank),
    so that no marker hides under another.

    >>> tie_offsets([1, 2, 2, 4]).tolist()
    [0.0, -0.15, 0.15, 0.0]
    """
    r = np.asarray(ranks)
    out = np.zeros(len(r))
    for value in np.unique(r):
        members = np.flatnonzero(r == value)
        if len(members) > 1:
            out[members] = np.linspace(-spread / 2, spread / 2, len(members))
    return out


def heat_text_colour(value: float) -> str:
    """Dark text on light cells, white on dark ones (the blue scale passes 0.6 at about half)."""
    return "#ffffff" if not np.isnan(value) and value > 0.6 else "#222222"

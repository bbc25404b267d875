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
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")  # no label over another
    return fig, fig.subplots(**kwargs)


def to_svg(fig, title: str, names=()) -> str:
    """The figure as an inline ``<svg>`` element with an accessible title (no XML prolog; every
    id, and each reference to it, prefixed per figure, since matplotlib names its clip paths and
    markers per file and two figures on one page would otherwise share them). Each of ``names``
    (team names) shown shortened gets its full name as the label's tooltip."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})  # reproducible
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

"""The leaderboard's plots as inline SVG (no script, no external file): F1 with bootstrap
intervals, precision against recall, F1 per test surgery, rank stability. Every text from teams
is escaped with ``html.escape``; long names are shortened in the plots (the full name is the
label's tooltip), so no name can squeeze a plot; each team keeps its colour (``board.colours``,
Okabe-Ito's colour-blind-safe palette, by order of first submission) in every plot and from one
publication to the next. Labels placed by hand next to data are moved until their boxes touch
no other text (``_free_spot``).
"""

from __future__ import annotations

import html

import numpy as np

from adaptor_leaderboard.board import Board

LABEL_CHARS = 28


def short(name: str, n: int = LABEL_CHARS) -> str:
    """``name`` cut to ``n`` characters with an ellipsis.

    >>> short("Deep Suture Detection Consortium", 12)
    'Deep Suture…'
    """
    return name if len(name) <= n else name[: n - 1].rstrip() + "…"


def _label(
    text: str, full: str, x: float, y: float, anchor: str = "start", cls: str = "label"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">'
        f"<title>{html.escape(full)}</title>{html.escape(text)}</text>"
    )


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">'
        f"<title>{html.escape(title)}</title>{''.join(body)}</svg>"
    )


def plot_f1_intervals(board: Board) -> str:
    rows = board.rows()
    w, row_h, right = 640, 28, 40
    left = 40 + 7 * max((len(short(r["team"])) for r in rows), default=4)
    h = 50 + row_h * len(rows)
    body = [
        f'<text x="{left}" y="18" class="axis">F1 at {board.rules.radius:g} px with 95 % bootstrap interval</text>'
    ]
    x = lambda v: left + (w - left - right) * v  # noqa: E731
    for t in np.linspace(0, 1, 6):
        body.append(f'<line x1="{x(t):.1f}" y1="28" x2="{x(t):.1f}" y2="{h - 16}" class="grid"/>')
        body.append(
            f'<text x="{x(t):.1f}" y="{h - 2}" class="tick" text-anchor="middle">{t:.1f}</text>'
        )
    for i, r in enumerate(rows):
        y = 40 + i * row_h
        body.append(_label(f"{r['rank']}. {short(r['team'])}", r["team"], left - 8, y + 4, "end"))
        colour = board.colours[r["team"]]
        if r["f1_low"] is not None:
            body.append(
                f'<line x1="{x(r["f1_low"]):.1f}" y1="{y}" x2="{x(r["f1_high"]):.1f}" y2="{y}" '
                f'stroke="{colour}" stroke-width="3"/>'
            )
        body.append(f'<circle cx="{x(r["f1"]):.1f}" cy="{y}" r="5" fill="{colour}"/>')
    return _svg(w, h, body, "F1 with bootstrap intervals")


def plot_precision_recall(board: Board) -> str:
    rows = board.rows()
    s, pad, top = 380, 50, 30
    body = [
        '<text x="50" y="16" class="axis">PPV (precision) against TPR (recall); dashed: equal F1</text>'
    ]
    px = lambda v: pad + (s - pad - 20) * v  # noqa: E731
    py = lambda v: s - pad + top - (s - pad - 20) * v  # noqa: E731
    placed: list[tuple[float, float, float, float]] = []  # boxes of the text drawn so far
    for f in (0.2, 0.4, 0.6, 0.8):
        pts = []
        for t in np.linspace(f / (2 - f) + 1e-3, 1, 40):  # TPR range where PPV <= 1
            p = f * t / (2 * t - f)
            if 0 <= p <= 1:
                pts.append(f"{px(t):.1f},{py(p):.1f}")
        body.append(f'<polyline points="{" ".join(pts)}" class="iso"/>')
        body.append(
            f'<text x="{px(1) + 4:.1f}" y="{py(f / (2 - f)) + 4:.1f}" class="tick">F1 {f}</text>'
        )
        placed.append(_box(px(1) + 4, py(f / (2 - f)) + 4, len(f"F1 {f}"), 11))
    body.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(0)}" class="axisline"/>')
    body.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(1)}" class="axisline"/>')
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<text x="{px(t):.1f}" y="{py(0) + 14:.1f}" text-anchor="middle" class="tick">{t:g}</text>'
        )
        body.append(
            f'<text x="{px(0) - 6:.1f}" y="{py(t) + 4:.1f}" text-anchor="end" class="tick">{t:g}</text>'
        )
    body.append(
        f'<text x="{px(0.5)}" y="{py(0) + 32}" text-anchor="middle" class="tick">TPR</text>'
    )
    body.append(
        f'<text x="14" y="{py(0.5)}" class="tick" transform="rotate(-90 14 {py(0.5)})">PPV</text>'
    )
    for r in sorted(rows, key=lambda r: -r["ppv"]):
        cx, cy = px(r["tpr"]), py(r["ppv"])
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{board.colours[r["team"]]}">'
            f"<title>{html.escape(r['team'])}: PPV {r['ppv']:.3f}, TPR {r['tpr']:.3f}</title></circle>"
        )
        text = short(r["team"], 22)
        ly = _free_spot(placed, cx + 9, cy + 4, len(text))
        if ly != cy + 4:
            body.append(
                f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{cx + 8:.1f}" y2="{ly - 4:.1f}" class="grid"/>'
            )
        body.append(_label(text, r["team"], cx + 9, ly))
    return _svg(s + 170, s + top + 10, body, "Precision against recall")


def _box(x: float, y: float, chars: int, size: float = 12) -> tuple[float, float, float, float]:
    """A generous box around text of ``chars`` characters whose baseline starts at (x, y)."""
    return (x - 1, y - size, x + 0.62 * size * chars + 2, y + 0.3 * size)


def _free_spot(placed: list, x: float, y: float, chars: int) -> float:
    """The first baseline at or below ``y`` where a label of ``chars`` characters at ``x``
    overlaps no box in ``placed`` (then added to it)."""
    while True:
        box = _box(x, y, chars)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                   for b in placed):  # fmt: skip
            placed.append(box)
            return y
        y += 13


def _heat(value: float) -> str:
    """White (0) to dark blue (1): one hue, readable with any common colour-vision deficiency."""
    if np.isnan(value):
        return "#eeeeee"
    v = float(np.clip(value, 0, 1))
    r, g, b = (int(255 + (c - 255) * v) for c in (8, 69, 148))
    return f"rgb({r},{g},{b})"


def _matrix(rows: list[str], cols: list[str], values: np.ndarray, title: str, fmt) -> str:
    label_len = max((len(c) for c in cols), default=0)
    left = 12 + 7 * max((len(short(r)) for r in rows), default=4)
    top, cw, ch = 40 + int(5 * label_len), 64, 28
    # rotated column labels reach right by about cos(40 deg) of their length
    w = max(left + cw * len(cols) + 10 + int(6 * label_len), 30 + int(7.5 * len(title)))
    h = top + ch * len(rows) + 10
    body = [f'<text x="10" y="16" class="axis">{html.escape(title)}</text>']
    for j, c in enumerate(cols):
        x, y = left + cw * j + cw / 2, top - 8
        body.append(
            f'<text x="{x}" y="{y}" class="tick" transform="rotate(-40 {x} {y})">{html.escape(c)}</text>'
        )
    for i, r in enumerate(rows):
        body.append(_label(short(r), r, left - 8, top + ch * i + ch / 2 + 4, "end"))
        for j in range(len(cols)):
            v = values[i, j]
            body.append(
                f'<rect x="{left + cw * j}" y="{top + ch * i}" width="{cw - 2}" height="{ch - 2}" '
                f'fill="{_heat(v)}"/>'
            )
            colour = "#fff" if not np.isnan(v) and v > 0.6 else "#222"
            body.append(
                f'<text x="{left + cw * j + cw / 2 - 1}" y="{top + ch * i + ch / 2 + 4}" '
                f'text-anchor="middle" class="cell" fill="{colour}">{fmt(v)}</text>'
            )
    return _svg(w, h, body, title)


def plot_per_surgery(board: Board) -> str:
    return _matrix(
        [s.team for s in board.standings],
        board.surgeries,
        board.per_surgery,
        f"F1 at {board.rules.radius:g} px per test surgery",
        lambda v: "–" if np.isnan(v) else f"{v:.2f}",
    )


def plot_rank_stability(board: Board) -> str:
    freq = (
        board.boot.rank_frequencies()
        if len(board.boot.f1)
        else np.zeros((len(board.standings),) * 2)
    )
    cols = [f"rank {k + 1}" for k in range(len(board.standings))]
    return _matrix(
        [s.team for s in board.standings],
        cols,
        freq,
        f"Share of {len(board.boot.f1)} bootstrap replicates at each rank",
        lambda v: f"{100 * v:.0f} %",
    )

"""Figures for the tables, as standalone SVG files (no plotting library, no script).

:func:`close_points_svg` draws the paper's Fig. 4 analysis: for each dataset and experiment, the
share of labels found (TP) among close labels (within 15 px of another label) next to the share
among the other labels, mean over runs with the sample standard deviation as a whisker.
"""

from __future__ import annotations

import html

CLOSE, OTHER = "#d95f02", "#1b9e77"


def close_points_svg(groups: list[tuple[str, list[tuple]]]) -> str:
    """``groups``: per dataset title, rows ``(label, close mean, close std, other mean, other
    std[, per_run])`` with shares in 0-1 (std 0 where undefined); ``per_run`` lists ``(run,
    close share, other share)``, drawn as one dot per run (fold) on its bar, as the paper's
    Fig. 4 shows each fold. Returns the SVG text.

    >>> svg = close_points_svg([("A.1", [("V1 σ1=1", 0.5, 0.1, 0.8, 0.05, [("f1", 0.4, 0.7)])])])
    >>> svg.startswith("<svg") and "A.1" in svg and "V1 σ1=1" in svg and "<circle" in svg
    True
    """
    bar, gap, left, top, width = 12, 10, 220, 40, 640
    rows = sum(len(r) for _, r in groups)
    height = top + rows * (2 * bar + gap) + len(groups) * 28 + 40
    x = lambda v: left + (width - left - 20) * v  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<text x="10" y="18" font-weight="bold">Labels found (TP share): close points against the rest</text>',
        f'<rect x="{left}" y="26" width="10" height="10" fill="{CLOSE}"/>'
        f'<text x="{left + 14}" y="35">within 15 px of another label</text>'
        f'<rect x="{left + 220}" y="26" width="10" height="10" fill="{OTHER}"/>'
        f'<text x="{left + 234}" y="35">other labels</text>',
    ]
    y = top + 10
    for title, entries in groups:
        y += 18
        out.append(f'<text x="10" y="{y}" font-weight="bold">{html.escape(title)}</text>')
        y += 6
        for label, cm, cs, om, os_, *rest in entries:
            per_run = rest[0] if rest else []
            out.append(
                f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end">{html.escape(label)}</text>'
            )
            for k, (m, s, colour) in enumerate(((cm, cs, CLOSE), (om, os_, OTHER))):
                yy = y + k * bar
                out.append(
                    f'<rect x="{left}" y="{yy}" width="{x(m) - left:.1f}" height="{bar - 2}" fill="{colour}"/>'
                )
                if s:
                    out.append(
                        f'<line x1="{x(max(m - s, 0)):.1f}" x2="{x(min(m + s, 1)):.1f}" y1="{yy + bar / 2 - 1}"'
                        f' y2="{yy + bar / 2 - 1}" stroke="#333"/>'
                    )
                out.append(
                    f'<text x="{x(m) + 4:.1f}" y="{yy + bar - 3}" font-size="10">{100 * m:.1f} %</text>'
                )
                for run, *shares in per_run:  # each fold's value, as in the paper's Fig. 4
                    v = shares[k]
                    if v is None:
                        continue
                    out.append(
                        f'<circle cx="{x(v):.1f}" cy="{yy + bar / 2 - 1}" r="2.5" fill="#fff"'
                        f' stroke="#222"><title>{html.escape(str(run))}: {100 * v:.1f} %</title></circle>'
                    )
            y += 2 * bar + gap
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<text x="{x(t):.1f}" y="{height - 10}" text-anchor="middle" font-size="10">{int(100 * t)} %</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"

"""The page's section on the domain-transformation task: measures and a gallery per direction,
reported and never ranked (the challenge's own words)."""

from __future__ import annotations

import html

from adaptor_leaderboard.gallery import THUMB, Direction

ARROW = "→"
NOTE = (
    "Reported, not ranked. Label consistency: the reference detector (the organiser's baseline"
    " weights) on each translation, scored against the source frames' labels, beside the same"
    " detector on the untranslated sources; a translation that keeps the sutures where they were"
    " keeps them detectable. Realism: the Fréchet distance between the translations and real"
    " frames of the target domain on the detector's encoder features (lower is closer), with a"
    " 95 % bootstrap interval over both sets; compare it only between rows of one direction."
    " Identity and Reinhard's Lab colour transfer are reference points, not teams."
)


def _f(x, digits=3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _measures_table(d: Direction) -> str:
    head = ("Translation", "Images", "F1@6", "F1@8", "F1@10", "Fréchet distance [95 %]")
    rows = []
    for name, e in d.measures.get("translations", {}).items():
        c, r = e["consistency"], e.get("realism")
        f1 = [f"{_f(c['translated'][k]['f1'])} <span class=\"note\">(source"
              f" {_f(c['source'][k]['f1'])})</span>" for k in ("6", "8", "10")]  # fmt: skip
        fd = "n/a" if not r else f"{r['frechet']:.1f} [{_f(r['low'], 1)}, {_f(r['high'], 1)}]"
        cells = [html.escape(name), str(e["images"]), *f1, fd]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ('<div class="tablewrap"><table class="measures"><thead><tr>'
            + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>")  # fmt: skip


def _gallery(d: Direction) -> str:
    w, h = THUMB
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["source (labels drawn)", *d.names])
    body = []
    for row in d.rows:
        cells = "".join(
            f'<td><img loading="lazy" decoding="async" width="{w}" height="{h}" src="{f}"'
            f' alt="{html.escape(row["frame"], quote=True)}: {html.escape(n, quote=True)}"></td>'
            for f, n in zip(row["files"], ["source", *d.names])
        )
        body.append(f"<tr>{cells}</tr>")
    sheet = (f' <a href="{d.sheet}">Contact sheet (PNG)</a>.' if d.sheet else "")
    return (f'<p class="note">A seeded sample of {len(d.rows)} frames.{sheet}</p>'
            f'<div class="tablewrap"><table class="gallery"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")  # fmt: skip


def _runs(runs: list[dict]) -> str:
    """Runs that did not translate every image cleanly (not offered, incomplete, failed, or
    with problems), each with its reason."""
    items = []
    for r in runs:
        if r["status"] == "translated" and not r["problems"]:
            continue
        text = f"{r['team']}, {r['domain']}: {r['status']}"
        if r["reason"]:
            text += f": {r['reason']}"
        if r["problems"]:
            text += f" ({r['problems']} problem(s))"
        items.append(f"<li>{html.escape(text)}</li>")
    if not items:
        return ""
    return ('<p class="note">Runs of the task that did not translate every image cleanly:</p>'
            f'<ul class="note">{"".join(items)}</ul>')  # fmt: skip


def translation_section(directions: list[Direction], runs: list[dict]) -> str:
    if not directions and not runs:
        return ""
    parts = ["<h2>Domain transformation (reported, not ranked)</h2>",
             f'<p class="note">{html.escape(NOTE)}</p>']  # fmt: skip
    for d in directions:
        parts.append(f"<h3>{html.escape(d.source_domain)} {ARROW} {html.escape(d.target_domain)}</h3>")
        parts.append(_measures_table(d))
        parts.append(_gallery(d))
    parts.append(_runs(runs))
    return "".join(parts)

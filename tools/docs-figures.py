"""Copy the robustness figures of a published leaderboard page into docs/figures/, so the figures
the README shows are the demo's own (run after `make demo`):

    .venv/bin/python tools/docs-figures.py demo-output/leaderboard/index.html docs/figures
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FIGURES = {  # figure id on the page -> file in docs/figures
    "fig-schemes-unit": "leaderboard-schemes.svg",
    "fig-tau": "leaderboard-tau.svg",
    "fig-blob-unit": "leaderboard-blob.svg",
    "fig-significance": "leaderboard-significance.svg",
    "fig-cases": "leaderboard-cases.svg",
}


def main(page: str, out: str) -> None:
    text = Path(page).read_text(encoding="utf-8")
    for fig_id, name in FIGURES.items():
        found = re.search(rf'<figure id="{fig_id}">(<svg.*?</svg>)', text, re.S)
        if not found:
            sys.exit(f"{page}: no figure {fig_id}")
        svg = found.group(1)
        if "xmlns=" not in svg[:200]:
            svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
        target = Path(out) / name
        tmp = target.with_suffix(".svg.tmp")
        tmp.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + svg + "\n", encoding="utf-8")
        tmp.replace(target)
        print(f"{fig_id} -> {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""The public page of a phase whose results are private: who submitted and when, no score.

Grand-Challenge's hidden phases show participants that their submission arrived; the scores come
at the reveal. This page lists each team (its registered institute), how many submissions it
made, how many are settled, and when it last submitted, with the reveal date when the rules give
one. It holds no score, rank, count or per-case value, and the files beside it neither
(``leaderboard.json`` says ``"results": "private"``).
"""

from __future__ import annotations

import html
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.page import CSS
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_score import atomic
from adaptor_score.atomic import replacing_dir
from adaptor_score.outputs import iso_time, md_cell, write_json

FILES = ("index.html", "leaderboard.json", "leaderboard.md")


def submission_rows(ledger: Ledger, rules: PhaseRules) -> list[dict]:
    teams = ledger.teams()
    rows: dict[str, dict] = {}
    for s in ledger.submissions(rules.phase):
        r = rows.setdefault(s.team, {"team": s.team, "institute": teams.get(s.team, {}).get(
            "institute") or s.institute, "submissions": 0, "settled": 0, "last_submitted": 0.0})
        r["submissions"] += 1
        r["settled"] += s.status in ("scored", "failed")
        r["last_submitted"] = max(r["last_submitted"], s.created_at)
    return [{**r, "last_submitted": iso_time(r["last_submitted"])} for r in rows.values()]


def publish_private(ledger: Ledger, rules: PhaseRules, out_dir: str | Path,
                    now: float) -> list[Path]:  # fmt: skip
    rows = sorted(submission_rows(ledger, rules), key=lambda r: r["team"].casefold())
    when = (f"The results will be published on {iso_time(rules.reveal)}." if rules.reveal
            else "The results will be published when the organisers reveal them.")  # fmt: skip
    title = f"AdaptOR 2021 — phase {rules.phase}: submissions"
    md = [f"# {md_cell(title)}", "", f"Results are private. {when}", "",
          "| Team | Institute | Submissions | Settled | Last submitted (UTC) |",
          "|---|---|---:|---:|---|"]  # fmt: skip
    body = []
    for r in rows:
        md.append(f"| {md_cell(r['team'])} | {md_cell(r['institute'])} | {r['submissions']} |"
                  f" {r['settled']} | {r['last_submitted']} |")  # fmt: skip
        body.append(f"<tr><td>{html.escape(r['team'])}</td><td>{html.escape(r['institute'])}</td>"
                    f"<td>{r['submissions']}</td><td>{r['settled']}</td>"
                    f"<td>{html.escape(r['last_submitted'])}</td></tr>")  # fmt: skip
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Results are private. {html.escape(when)}</p>"
        f'<p class="note">Last updated {iso_time(now)}.</p><div class="tablewrap">'
        "<table><thead><tr><th>Team</th><th>Institute</th><th>Submissions</th><th>Settled</th>"
        f"<th>Last submitted (UTC)</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        "</body></html>\n"
    )
    out = Path(out_dir)
    with replacing_dir(out, lambda p: p.name in FILES or p.name in _SITE_FILES) as new:
        atomic.write_text(new / "index.html", page)
        atomic.write_text(new / "leaderboard.md", "\n".join(md) + "\n")
        write_json(new / "leaderboard.json", {"phase": rules.phase, "results": "private",
                                              "reveal": iso_time(rules.reveal) if rules.reveal
                                              else None, "teams": rows})  # fmt: skip
    return [out / n for n in FILES]


def _site_files():
    from adaptor_leaderboard.publish import SITE_FILES

    return SITE_FILES


_SITE_FILES = frozenset(_site_files())  # a public site published before the phase went private

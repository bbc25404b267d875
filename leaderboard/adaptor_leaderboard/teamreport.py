"""Every outcome explained to its team: one report per team, as data and as a file to send.

For each team: every submission of the phase (its state, the reason in words, when it was made and
when it last changed, whether it used up one of the team's submissions, what was submitted, its
history, and the last lines of its container's log with the log's path), and every refusal that
never became a submission (:mod:`adaptor_leaderboard.refusals`). A submission's log is
``WORK/<submission id>/container.log`` (the runner writes it; ``--work`` of ``run``). Scores are
shown only where the phase's results are public (``PhaseRules.revealed``): a private phase's
report says "scored" and that the score comes with the reveal.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.refusals import refusals
from adaptor_score.outputs import iso_time, md_cell
from adaptor_score.safefiles import BadFile, read_bytes

LOG_LINES = 20
LOG_BYTES = 1 << 20  # the tail is read from at most the last MiB of a log


def log_tail(path: Path, lines: int = LOG_LINES) -> list[str]:
    """The last ``lines`` lines of a container log (decoded with replacement: a log is the
    container's bytes), or none when there is no readable log."""
    try:
        data = read_bytes(path, 64 << 20)
    except BadFile:
        return []
    text = data[-LOG_BYTES:].decode("utf-8", errors="replace")
    return text.splitlines()[-lines:] if lines else []


def _events(ledger: Ledger, submission_id: str) -> list[dict]:
    rows = ledger.query("SELECT at, status, reason FROM events WHERE submission_id = ? ORDER BY id",
                        (submission_id,))  # fmt: skip
    return [{"at": iso_time(r["at"]), "status": r["status"], "reason": r["reason"]} for r in rows]


def team_reports(ledger: Ledger, rules: PhaseRules, work_dir: str | Path = "runs",
                 team: str | None = None, lines: int = LOG_LINES,
                 now: float | None = None) -> list[dict]:  # fmt: skip
    """One report per team of ``rules.phase`` (or of ``team`` alone), teams in the order they
    first submitted or were refused."""
    now = time.time() if now is None else now
    show_scores = rules.revealed(now)
    subs = ledger.submissions(rules.phase, team=team)
    refused = refusals(ledger, team=team, phase=rules.phase)
    names = list(dict.fromkeys([s.team for s in subs] + [r["team"] for r in refused]))
    if team is not None and not names:
        names = [ledger.canonical_team(team) or team]
    out = []
    for name in names:
        entries = []
        for s in (x for x in subs if x.team == name):
            log = Path(work_dir) / s.submission_id / "container.log"
            scoring = ledger.latest_scoring(s.submission_id)
            score = ledger.scores(scoring).get(rules.radius) if scoring is not None else None
            entries.append({
                "submission_id": s.submission_id, "state": s.status, "reason": s.reason,
                "submitted": iso_time(s.created_at), "updated": iso_time(s.status_at),
                "charged": bool(s.charged), "source": s.archive or s.image,
                "run_seconds": s.run_seconds,
                "score": ({"radius": rules.radius, "f1": score["f1"], "ppv": score["ppv"],
                           "tpr": score["tpr"]} if score and show_scores else None),
                "score_hidden": bool(score) and not show_scores,
                "log": str(log) if log.is_file() else None,
                "log_tail": log_tail(log, lines) if log.is_file() else [],
                "history": _events(ledger, s.submission_id),
            })  # fmt: skip
        mine = [{"at": iso_time(r["at"]), "source": r["source"], "reason": r["reason"]}
                for r in refused if r["team"] == name]  # fmt: skip
        used = sum(e["charged"] for e in entries)
        out.append({
            "team": name, "phase": rules.phase, "generated": iso_time(now),
            "submissions": entries, "refusals": mine,
            "used": used, "limit": rules.max_submissions,
            "window": {"open": iso_time(rules.opens) if rules.opens else None,
                       "close": iso_time(rules.closes) if rules.closes else None},
            "results_public": show_scores,
        })  # fmt: skip
    return out


def to_markdown(report: dict) -> str:
    """One team's report as a Markdown file an organiser can send."""
    r = report
    limit = "no limit" if r["limit"] is None else f"{r['used']} of {r['limit']} used"
    lines = [f"# Submissions of {md_cell(r['team'])}, phase {md_cell(r['phase'])}", "",
             f"Generated {r['generated']}; submissions: {limit}."]  # fmt: skip
    if r["window"]["close"]:
        lines.append(f"The phase accepts submissions until {r['window']['close']}.")
    if not r["results_public"]:
        lines.append("The phase's results are private until the organisers reveal them: a"
                     " scored submission shows no score here yet.")  # fmt: skip
    for e in r["submissions"]:
        lines += ["", f"## Submission {e['submission_id']}: {e['state']}", "",
                  f"- submitted {e['submitted']}, last change {e['updated']}; "
                  + ("counts towards the limit" if e["charged"] else
                     "does not count (a failure on the organisers' side or still to be run)"),
                  f"- what was submitted: `{md_cell(e['source'])}`"]  # fmt: skip
        if e["reason"]:
            lines.append(f"- reason: {md_cell(e['reason'])}")
        if e["score"]:
            s = e["score"]
            lines.append(f"- F1 at {s['radius']:g} px {s['f1']:.4f} (PPV {s['ppv']:.4f},"
                         f" TPR {s['tpr']:.4f})")  # fmt: skip
        elif e["score_hidden"]:
            lines.append("- scored; the score is published at the reveal")
        lines.append("- history: " + "; ".join(f"{h['at']} {h['status']}"
                                               for h in e["history"]))  # fmt: skip
        if e["log"]:
            lines += [f"- the container's log: `{md_cell(e['log'])}`, its last lines:", "",
                      "```text", *(_fence_safe(x) for x in e["log_tail"]), "```"]  # fmt: skip
    if r["refusals"]:
        lines += ["", "## Refused before it was run (nothing counted)", ""]
        for x in r["refusals"]:
            lines.append(f"- {x['at']}: `{md_cell(x['source'])}`: {md_cell(x['reason'])}")
    if not r["submissions"] and not r["refusals"]:
        lines += ["", "Nothing was submitted in this phase."]
    return "\n".join(lines) + "\n"


def _fence_safe(line: str) -> str:
    """A log line that cannot close the code fence around it."""
    return line.replace("```", "`\u200b``")


def file_name(team: str) -> str:
    """A file name for a team's report: letters, digits, '.', '_' and '-' only.

    >>> file_name("Team A / Ü")
    'Team-A-Ü.md'
    """
    slug = re.sub(r"[^\w.-]+", "-", team, flags=re.UNICODE).strip("-.") or "team"
    return slug[:80] + ".md"

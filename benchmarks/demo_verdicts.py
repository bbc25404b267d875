"""The demo page's verdicts, kept as numbers for docs/statistics.md's worked example.

Reads a published leaderboard (``make demo``'s ``demo-output/leaderboard``): the unit of analysis
and its n, what those cases can reach at all, the exact Holm-adjusted p of the reference baseline
against each team with surgeries as cases, what challengeR's normal approximation would give on
the same surgery values (the test the page used before), the per-frame parity analysis, and each
team's F1 per surgery (pooled, the table's rule), so that "the baseline beats every team in every
surgery" is a number too.

    python benchmarks/demo_verdicts.py demo-output/leaderboard   # writes results/demo-verdicts.json
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
from machine_info import write_results

from adaptor_score.stats import holm, pairwise_pvalues

RESULTS = Path(__file__).parent / "results" / "demo-verdicts.json"
BASELINE = "Reference baseline"


def main(site: str) -> None:
    root = Path(site)
    board = json.loads((root / "leaderboard.json").read_text(encoding="utf-8"))
    head = board["schemes"]
    teams = [row["team"] for row in board["standings"]]
    unit = head["unit"]
    with open(root / "per-case.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f)
                if r["level"] == unit and r["metric"] == "f1" and r["task"] == "6 px"]  # fmt: skip
    cases = sorted({r["case"] for r in rows})
    values = np.array([[next(float(r["value"]) for r in rows
                             if r["algorithm"] == t and r["case"] == c) for c in cases]
                       for t in teams])  # fmt: skip
    approx = holm(pairwise_pvalues(values, exact=False))
    b = teams.index(BASELINE)
    others = [t for t in teams if t != BASELINE]
    per_surgery = board["per_surgery_f1"]
    frame = head["challenger_per_frame"]
    doc = {
        "what": __doc__.split("\n\n")[0],
        "source": "make demo (tools/demo.sh), then this script",
        "unit": unit,
        "n": head["n"],
        "teams": len(teams),
        "ordered_pairs": len(teams) * (len(teams) - 1),
        "smallest_reachable_p": head["smallest_reachable_p"],
        "can_be_significant": head["can_be_significant"],
        "significant_pairs": sum(len(v) for v in head["significantly_better"].values()),
        "baseline_holm_p": {t: head["holm_adjusted_p"][BASELINE][t] for t in others},
        "baseline_holm_p_normal_approximation": {t: float(approx[b, teams.index(t)])
                                                 for t in others},  # fmt: skip
        "per_frame": {
            "n": frame["n"],
            "significant_pairs": sum(len(v) for v in frame["significantly_better"].values()),
            "baseline_holm_p": {t: frame["holm_adjusted_p"][BASELINE][t] for t in others},
        },
        "baseline_f1_per_surgery": {"min": min(per_surgery[BASELINE].values()),
                                    "max": max(per_surgery[BASELINE].values())},  # fmt: skip
        "teams_f1_per_surgery": {"min": min(min(per_surgery[t].values()) for t in others),
                                 "max": max(max(per_surgery[t].values()) for t in others)},  # fmt: skip
        "baseline_wins_every_surgery": all(
            per_surgery[BASELINE][s] > per_surgery[t][s] for t in others for s in per_surgery[t]),
        "bootstrap": board["bootstrap"],
    }
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    write_results(RESULTS, doc)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "demo-output/leaderboard")

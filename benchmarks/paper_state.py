"""What the paper grid's kept record holds, counted from it, for docs/tables.md's state section:
whether the grid is complete (every configuration on every fold for :data:`TARGET_SEEDS` seeds),
the runs per seed, and per dataset the range of mean F1 over the configurations (does every one
learn?). Counted, never written by hand, so that the page cannot call a finished grid "in
progress" or the other way round."""

from __future__ import annotations

import statistics
from collections import defaultdict

TARGET_SEEDS = 3  # tools/paper-grid.sh's default SEEDS ("0 1 2"); a test keeps the two equal


def _expected_runs(results) -> int:
    """Runs one whole seed has: every configuration on every fold of each cross-validation."""
    folds = defaultdict(set)
    for c in results.cases:
        if c.kind == "folds":
            folds[c.dataset].add(c.run)
    return len(results.manifest.experiments) * sum(len(v) for v in folds.values())


def state_markdown(results, target: int = TARGET_SEEDS) -> str:
    """The state section: a status line, the runs per seed, the range of mean F1 per dataset."""
    r0 = results.manifest.radius
    cv = {c.dataset for c in results.cases if c.kind == "folds"}
    per_seed: dict = defaultdict(int)
    for r in results.rows:
        if r.summary.radius == r0 and r.dataset in cv:
            per_seed[r.seed] += 1
    expected = _expected_runs(results)
    whole = sorted(s for s, n in per_seed.items() if n == expected)
    if len(whole) >= target:
        status = (
            f"**Complete**: {len(whole)} whole seeds ({', '.join(map(str, whole))}) of"
            f" every configuration on every fold, the grid's target of {target}."
        )
    else:
        status = (
            f"**In progress**: {len(whole)} of the {target} seeds kept whole; the tables"
            ' below show exactly the runs kept, and say "not run yet" where a'
            " configuration has none."
        )
    lines = [status, "",
             "- Kept: " + "; ".join(f"seed {s}: {n} runs" for s, n in sorted(per_seed.items()))
             + f" (a whole seed: {expected} runs, one per configuration and fold, its model also"
             " predicting the test set)."]  # fmt: skip
    for ds in sorted({r.dataset for r in results.rows}):
        means = {}
        for e in results.manifest.experiments:
            values = [v for v in results.fold_values(ds, e, r0, "f1") if v is not None]
            if values:
                means[e.name] = statistics.fmean(values)
        if means:
            low, high = min(means, key=means.get), max(means, key=means.get)
            lines.append(f"- {ds}: mean F1 at {r0:g} px from {means[low]:.4f} ({low}) to"
                         f" {means[high]:.4f} ({high}) over {len(means)} configurations.")  # fmt: skip
    return "\n".join(lines) + "\n"

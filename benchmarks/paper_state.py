"""What the paper grid's kept record holds, counted from it, for docs/tables.md's state section:
whether the grid is complete (every configuration on every fold for :data:`TARGET_SEEDS` seeds),
the runs per seed, and per dataset the range of mean F1 over the configurations (does every one
learn?). Counted, never written by hand, so that the page cannot call a finished grid "in
progress" or the other way round."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

TARGET_SEEDS = 3  # tools/paper-grid.sh's default SEEDS ("0 1 2"); a test keeps the two equal
SWEEP = Path(__file__).resolve().parent.parent / "examples" / "paper-sweep.toml"  # its SWEEP


def grid_configurations(sweep: Path = SWEEP) -> list[str]:
    """The configurations the grid trains: the names of its sweep file's experiments."""
    from adaptor_score.safefiles import read_toml

    return [e["name"] for e in read_toml(sweep)["experiment"]]


def _target(results, configurations) -> set[tuple]:
    """(dataset, configuration, fold) that a whole seed holds: every configuration of the grid
    on every fold of each cross-validation's kept folds file, whatever the record lacks."""
    from adaptor_score.folds import read_fold_file

    out = set()
    for d in results.manifest.datasets.values():
        if d.folds is None:
            continue
        folds = set(read_fold_file(d.folds).values())  # the folds contract's own reader
        out |= {(d.name, c, fold) for c in configurations for fold in folds}
    return out


def state_markdown(results, target: int = TARGET_SEEDS, configurations=None) -> str:
    """The state section: a status line, the runs per seed, the range of mean F1 per dataset.
    Complete only when ``target`` seeds each hold every run of the grid (``configurations``,
    default the grid's sweep, on every kept fold): a configuration or a fold that the record
    lacks keeps the grid in progress."""
    r0 = results.manifest.radius
    configurations = grid_configurations() if configurations is None else configurations
    target_runs = _target(results, configurations)
    kept: dict = defaultdict(set)
    for r in results.rows:
        if r.summary.radius == r0 and (r.dataset, r.experiment.name, r.run) in target_runs:
            kept[r.seed].add((r.dataset, r.experiment.name, r.run))
    per_seed = {seed: len(runs) for seed, runs in kept.items()}
    expected = len(target_runs)
    whole = sorted(s for s, runs in kept.items() if runs == target_runs)
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

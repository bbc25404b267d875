"""Tables like the paper's Tables 1-4, from a manifest of experiments and their runs.

The pieces: :mod:`adaptor_score.manifest` (format, checks, reader, writer, merging),
:mod:`adaptor_score.results` (scoring every run), :mod:`adaptor_score.paper_tables` (the tables
and the close-points analysis), :mod:`adaptor_score.render` and :mod:`adaptor_score.figures`
(formats). Here: writing them all into one folder.
"""

from __future__ import annotations

from pathlib import Path

from adaptor_score import atomic
from adaptor_score.compare import LONG_COLUMNS, long_rows
from adaptor_score.manifest import ManifestError, load_manifest
from adaptor_score.outputs import write_csv
from adaptor_score.paper_tables import (
    close_points,
    close_points_figure,
    table1,
    table2,
    table3,
    table4,
)
from adaptor_score.render import to_latex, to_markdown, write_table_csv
from adaptor_score.results import RESULT_COLUMNS, Results, run_manifest

__all__ = ["ManifestError", "Results", "load_manifest", "run_manifest", "write_tables"]


# Below this F1 at every radius a run has learned close to nothing: its tables are structure.
NOTHING_LEARNED_F1 = 0.05


def caution(results: Results, note: str | None = None) -> list[str]:
    """The lines ``tables.md`` puts above the tables: ``note``, and a warning when every
    experiment's mean F1 (over its runs, per dataset and radius: what the cells show) is below
    0.05: runs too short to learn, e.g. ``make paper-tables``' tiny settings, where a single
    fold of four frames may still hit a point or two by chance."""
    lines = [note] if note else []
    cells: dict[tuple, list[float]] = {}
    for r in results.rows:
        if r.summary.f1 is not None:
            key = (r.dataset, r.experiment.name, r.summary.radius)
            cells.setdefault(key, []).append(r.summary.f1)
    means = [sum(v) / len(v) for v in cells.values()]
    if means and max(means) < NOTHING_LEARNED_F1:
        lines.append(
            f"> Every F1 in these tables is below {NOTHING_LEARNED_F1}: the runs learned close to"
            " nothing, so the tables show the protocol's structure, not findings about the"
            " methods; no difference between them means anything."
        )
    return lines


def write_tables(results: Results, out_dir: str | Path, note: str | None = None) -> list[Path]:
    """Write results.csv, problems.csv, per-case.csv and Tables 1-4 as .md, .tex and .csv;
    return the paths. ``tables.md`` starts with :func:`caution`'s lines."""
    out_dir = Path(out_dir)
    written = []
    path = out_dir / "results.csv"
    write_csv(
        path,
        RESULT_COLUMNS,
        ([("" if v is None else v) for v in r.as_dict().values()] for r in results.rows),
    )
    written.append(path)
    path = out_dir / "problems.csv"
    write_csv(path, ["file", "problem"], ([p.file, p.problem] for p in results.problems))
    written.append(path)
    path = out_dir / "per-case.csv"  # challengeR's long layout: runs and surgeries as cases
    write_csv(path, LONG_COLUMNS, long_rows(results))
    written.append(path)
    combined = [line + "\n" for line in caution(results, note)]
    for build in (table1, table2, table3, table4, close_points):
        t = build(results)
        if not t.sections:
            continue
        md = to_markdown(t)
        combined.append(md)
        for suffix, text in ((".md", md), (".tex", to_latex(t))):
            atomic.write_text(out_dir / f"{t.name}{suffix}", text)
            written.append(out_dir / f"{t.name}{suffix}")
        write_table_csv(t, out_dir / f"{t.name}.csv")
        written.append(out_dir / f"{t.name}.csv")
    atomic.write_text(out_dir / "close_points.svg", close_points_figure(results))
    written.append(out_dir / "close_points.svg")
    atomic.write_text(out_dir / "tables.md", "\n".join(combined))
    written.append(out_dir / "tables.md")
    return written

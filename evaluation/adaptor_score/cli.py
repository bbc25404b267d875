"""``adaptor-score``: thin click commands over the scoring library.

Exit codes: 0 done; 1 problems found (``validate``, or ``score --strict``); 2 bad usage or an input
that stops the run (a broken ground-truth file, fold file or manifest).

The organisers' commands (``ledger``, ``run``, ``leaderboard``) belong to ``adaptor-leaderboard``;
where the leaderboard package is installed they are also reachable here under their old names
(hidden from ``--help``), found through the ``adaptor_score.commands`` entry-point group, so
this package never imports the leaderboard.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from adaptor_score.cli_common import RADIUS, Group, console, fatal, safe_streams, styled
from adaptor_score.contract import DEFAULT_MAX_BYTES, RANKING_RADIUS
from adaptor_score.folds import FoldFileError
from adaptor_score.frames import InputFileError, Problem
from adaptor_score.groundtruth import GroundTruthError
from adaptor_score.pathguard import check_outputs

if TYPE_CHECKING:
    from adaptor_score.metrics import Summary

PLUGIN_GROUP = "adaptor_score.commands"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}"


def _num(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _summary_table(title: str, rows: list[tuple[str, Summary]], first: str) -> Table:
    t = Table(title=title, title_justify="left")
    for col in (first, "radius", "TP", "FP", "FN", "PPV %", "TPR %", "F1", "RMSE px", "RMSE imgs"):
        if col == first:
            t.add_column(col, justify="left", no_wrap=True)
        else:
            t.add_column(col, justify="right")
    for name, s in rows:
        t.add_row(
            name,
            f"{s.radius:g}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
            _pct(s.ppv),
            _pct(s.tpr),
            _num(s.f1),
            _num(s.rmse, 2),
            f"{s.rmse_images}/{s.images}",
        )
    return t


def print_problems(problems: list[Problem], shown: int = 15) -> None:
    if not problems:
        console.print(styled(("No problems found in the inputs.", "green")))
        return
    console.print(styled((f"{len(problems)} problem(s) in the inputs:", "yellow")))
    for p in problems[:shown]:
        console.print(f"  {p.file}: {p.problem}", soft_wrap=True)
    if len(problems) > shown:
        console.print(f"  ... and {len(problems) - shown} more (all of them in --json)")


class _Main(Group):
    """Our commands, plus the organisers' commands registered by other packages (hidden)."""

    def _plugins(self) -> dict:
        from importlib.metadata import entry_points  # 18 ms: only when a name is not ours

        return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is not None:
            return cmd
        ep = self._plugins().get(name)
        if ep is None:
            return None
        try:
            return ep.load()
        except ImportError as e:
            fatal(f"'{name}' needs the leaderboard package and its extra: {e}")


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adaptor-toolkit")
def main() -> None:
    """Score, validate and tabulate AdaptOR 2021 suture point detections."""
    safe_streams()


@main.command("score")
@click.argument("gt_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--radius",
    "radii",
    type=RADIUS,
    multiple=True,
    help="Match radius in px (distance <= r); repeatable. Default 6.",
)
@click.option(
    "--folds",
    "fold_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Fold CSV (folder[,video[,frame]],fold). Default: leave-one-folder-out.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full report as JSON.",
)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the per-frame breakdown as CSV.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any input problem was found.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Refuse prediction files larger than this.",
)
@click.option("--per-video", is_flag=True, help="Also print the per-video table.")
def score_cmd(gt_dir, pred_dir, radii, fold_file, json_out, csv_out, strict, max_bytes, per_video):
    """Score PRED_DIR (participant JSON files) against GT_DIR (AdaptOR label tree)."""
    from adaptor_score.filereader import read_inputs

    check_outputs(
        {"GT_DIR": gt_dir, "PRED_DIR": pred_dir, "--folds": fold_file},
        {"--json": json_out, "--csv": csv_out},
    )
    try:
        # reading starts before numpy and the scoring modules are imported: the helper process
        # reads while this one imports
        inputs = read_inputs(gt_dir, pred_dir, max_bytes)
        from adaptor_score.scoring import score

        report = score(
            gt_dir,
            pred_dir,
            radii or (RANKING_RADIUS,),
            fold_file=fold_file,
            max_bytes=max_bytes,
            inputs=inputs,
        )
    except (GroundTruthError, FoldFileError) as e:
        fatal(e)
    # the files asked for first: a reader of stdout that goes away (`| head`) cannot cost them
    if json_out:
        report.write_json(json_out)
    if csv_out:
        report.write_frames_csv(csv_out)
    overall = report.overall()
    console.print(
        _summary_table(
            f"Overall ({len(report.frames)} frames)", [("all", s) for s in overall], "set"
        )
    )
    folds = report.by_fold()
    fold_rows = [(f, s) for j in range(len(report.radii)) for f, v in folds.items() for s in [v[j]]]
    console.print(_summary_table("Per fold", fold_rows, "fold"))
    spread = Table(
        title=f"Mean ± std over {len(folds)} folds (sample std, n - 1)", title_justify="left"
    )
    for col in ("radius", "PPV %", "TPR %", "F1", "RMSE px"):
        spread.add_column(col, justify="right")
    summary = report.fold_summary()
    for r in report.radii:
        ms = {m.metric: m for m in summary if m.radius == r}
        spread.add_row(
            f"{r:g}",
            *(f"{_pct(ms[k].mean)} ± {_pct(ms[k].std)}" for k in ("ppv", "tpr")),
            f"{_num(ms['f1'].mean)} ± {_num(ms['f1'].std)}",
            f"{_num(ms['rmse'].mean, 2)} ± {_num(ms['rmse'].std, 2)}",
        )
    console.print(spread)
    if per_video:
        console.print(
            _summary_table("Per video", [(v, s[0]) for v, s in report.by_video().items()], "video")
        )
    for s in overall:
        console.print(
            f"close points (<= {report.settings['close_distance']:g} px apart) at {s.radius:g} px:"
            f" found {s.close_tp}/{s.close_labels}"
            f" ({_pct(s.close_tp_share)} %), other points {s.other_tp}/{s.other_labels}"
            f" ({_pct(s.other_tp_share)} %)"
        )
    formats = report.settings.get("formats") or {}
    read = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items())) or "none"
    console.print(f"prediction files read: {read} (format: challenge or grand-challenge)")
    print_problems(report.problems)
    for written in (json_out, csv_out):
        if written:
            console.print(f"wrote {written}")
    if strict and report.problems:
        sys.exit(1)


@main.command("validate")
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--images",
    "images_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The input images the submission was run on.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the problems as JSON.",
)
@click.option(
    "--max-bytes", type=click.IntRange(min=1), default=DEFAULT_MAX_BYTES, show_default=True
)
def validate_cmd(pred_dir, images_dir, json_out, max_bytes):
    """Check a submission's output against its input images; exit 1 when anything is wrong."""
    from adaptor_score.outputs import write_json
    from adaptor_score.validate import validate_submission

    check_outputs({"PRED_DIR": pred_dir, "--images": images_dir}, {"--json": json_out})
    formats: dict[str, int] = {}
    try:
        problems, n_images = validate_submission(pred_dir, images_dir, max_bytes, formats)
    except InputFileError as e:
        fatal(e)
    read = ", ".join(f"{n} {fmt}" for fmt, n in sorted(formats.items())) or "none"
    console.print(f"prediction files read: {read} (format: challenge or grand-challenge)")
    if json_out:
        write_json(json_out, {"images": n_images, "problems": [p.to_dict() for p in problems]})
    if problems:
        console.print(
            styled(
                (f"{len(problems)} problem(s)", "red"), f" with {pred_dir} ({n_images} images):"
            ),
            soft_wrap=True,
        )
        for p in problems:
            console.print(f"  {p.file}: {p.problem}", soft_wrap=True)
        sys.exit(1)
    console.print(styled(("OK", "green"), f": {n_images} images, one valid prediction file each."))


MANIFESTS = click.argument(
    "manifests",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)


def load_manifests(manifests, outputs: dict, merged_at: Path):
    """The manifests as one (merged at ``merged_at`` when there are several), after checking
    that no output lies over anything they read."""
    from adaptor_score.manifest import load_manifest, manifest_inputs, merge_manifests

    loaded = [load_manifest(m) for m in manifests]
    inputs = {f"MANIFEST {m}": m for m in manifests}
    for m in loaded:
        inputs.update(manifest_inputs(m))
    check_outputs(inputs, outputs)
    return loaded[0] if len(loaded) == 1 else merge_manifests(loaded, merged_at)


@main.command("tables")
@MANIFESTS
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--write-manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the merged manifest here (paths relative to it).",
)
@click.option("--note", help="A line written above the tables in tables.md (what they can show).")
def tables_cmd(manifests, out_dir, write_manifest, note):
    """Score every run of one or more TOML manifests and write the paper's Tables 1-4 and the
    close-points table (md, tex, csv; several manifests become one set of tables)."""
    from adaptor_score.manifest import write_manifest as write_merged
    from adaptor_score.tables import ManifestError, run_manifest, write_tables

    try:
        manifest = load_manifests(
            manifests,
            {"--out": out_dir, "--write-manifest": write_manifest},
            write_manifest or Path(out_dir) / "manifest.toml",
        )
        if write_manifest:
            manifest.path = Path(write_manifest)
            write_merged(manifest)
        results = run_manifest(manifest)
    except (ManifestError, GroundTruthError, FoldFileError) as e:
        fatal(e)
    paths = write_tables(results, out_dir, note)
    console.print((Path(out_dir) / "tables.md").read_text(encoding="utf-8"))
    print_problems(results.problems, shown=10)
    console.print(f"wrote {len(paths)} files to {out_dir}")


@main.command("compare")
@MANIFESTS
@click.option("--reference", required=True, help="The experiment every other is compared with.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--radius", type=RADIUS, help="Match radius (default: the manifest's).")
@click.option(
    "--replicates",
    type=click.IntRange(100, 100_000),
    default=2000,
    show_default=True,
    help="Bootstrap replicates (the bootstrap interval is given from 20 units on).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=0,
    show_default=True,
    help="Seed of the bootstrap.",
)
def compare_cmd(manifests, reference, out_dir, radius, replicates, seed):
    """Paired differences of every experiment against --reference, one pair per independent
    unit (fold or surgery; per model on a test set), repeated measurements (seeds, models)
    averaged within it: Hodges-Lehmann estimate with the exact signed-rank interval, the
    Wilcoxon p-value with its method, unit and n, and the smallest p-value those units can
    reach (md, tex, csv, and the per-case long CSV)."""
    from adaptor_score.compare import CompareError, compare, write_comparison
    from adaptor_score.tables import ManifestError, run_manifest

    try:
        manifest = load_manifests(manifests, {"--out": out_dir}, Path(out_dir) / "manifest.toml")
        results = run_manifest(manifest)
        frame = compare(results, reference, radius, replicates, seed)
    except (ManifestError, GroundTruthError, FoldFileError, CompareError) as e:
        fatal(e)
    paths = write_comparison(results, frame, reference, out_dir)
    console.print(paths[0].read_text(encoding="utf-8"), markup=False, highlight=False)
    print_problems(results.problems, shown=10)
    console.print(f"wrote {len(paths)} files to {out_dir}")


from adaptor_score.cli_cvscore import cv_score_cmd  # noqa: E402
from adaptor_score.cli_grandchallenge import grand_challenge_cmd, grand_challenge_input_cmd  # noqa: E402
from adaptor_score.cli_overlay import overlay_cmd  # noqa: E402
from adaptor_score.cli_translation import validate_translation_cmd  # noqa: E402

for _cmd in (validate_translation_cmd, grand_challenge_cmd, grand_challenge_input_cmd, overlay_cmd,
             cv_score_cmd):
    main.add_command(_cmd)

if __name__ == "__main__":  # pragma: no cover
    main()

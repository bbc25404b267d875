"""``adaptor-score``: thin click commands over the library functions.

Exit codes: 0 done; 1 problems found (``validate``, or ``score --strict``); 2 bad usage or an input
that stops the run (a broken ground-truth file, fold file or manifest).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from adaptor_score.folds import FoldFileError
from adaptor_score.frames import FrameKey, Problem
from adaptor_score.groundtruth import GroundTruthError
from adaptor_score.jsonfiles import DEFAULT_MAX_BYTES
from adaptor_score.metrics import Summary

# Piped output (logs, CI) gets a fixed, wide layout instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 120
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


def _fatal(e: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {e}")
    sys.exit(2)


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


def _print_problems(problems: list[Problem], shown: int = 15) -> None:
    if not problems:
        console.print("[green]No problems found in the inputs.[/]")
        return
    console.print(f"[yellow]{len(problems)} problem(s) in the inputs:[/]")
    for p in problems[:shown]:
        console.print(f"  {p.file}: {p.problem}", soft_wrap=True)
    if len(problems) > shown:
        console.print(f"  ... and {len(problems) - shown} more (all of them in --json)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adaptor-toolkit")
def main() -> None:
    """Score, validate and tabulate AdaptOR 2021 suture point detections."""


@main.command("score")
@click.argument("gt_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--radius",
    "radii",
    type=click.FloatRange(min=0),
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
    from adaptor_score.scoring import score

    try:
        report = score(gt_dir, pred_dir, radii or (6.0,), fold_file=fold_file, max_bytes=max_bytes)
    except (GroundTruthError, FoldFileError) as e:
        _fatal(e)
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
            f"close points (<= 15 px apart) at {s.radius:g} px: found {s.close_tp}/{s.close_labels}"
            f" ({_pct(s.close_tp_share)} %), other points {s.other_tp}/{s.other_labels}"
            f" ({_pct(s.other_tp_share)} %)"
        )
    _print_problems(report.problems)
    if json_out:
        report.write_json(json_out)
        console.print(f"wrote {json_out}")
    if csv_out:
        report.write_frames_csv(csv_out)
        console.print(f"wrote {csv_out}")
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
    from adaptor_score.validate import validate_submission

    problems, n_images = validate_submission(pred_dir, images_dir, max_bytes)
    if json_out:
        Path(json_out).write_text(
            json.dumps({"images": n_images, "problems": [p.to_dict() for p in problems]}, indent=2)
            + "\n"
        )
    if problems:
        console.print(f"[red]{len(problems)} problem(s)[/] with {pred_dir} ({n_images} images):")
        for p in problems:
            console.print(f"  {p.file}: {p.problem}", soft_wrap=True)
        sys.exit(1)
    console.print(f"[green]OK[/]: {n_images} images, one valid prediction file each.")


@main.command("tables")
@click.argument("manifest", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def tables_cmd(manifest, out_dir):
    """Score every run of a TOML manifest and write the paper's Tables 1-4 (md, tex, csv)."""
    from adaptor_score.tables import ManifestError, load_manifest, run_manifest, write_tables

    try:
        results = run_manifest(load_manifest(manifest))
    except (ManifestError, GroundTruthError, FoldFileError) as e:
        _fatal(e)
    paths = write_tables(results, out_dir)
    console.print((Path(out_dir) / "tables.md").read_text())
    _print_problems(results.problems, shown=10)
    console.print(f"wrote {len(paths)} files to {out_dir}")


@main.command("overlay")
@click.argument("gt_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--frame", "frames", multiple=True, help="folder/video/frame; repeatable.")
@click.option("--radius", type=click.FloatRange(min=0), default=6.0, show_default=True)
@click.option(
    "--images",
    "images_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Image tree (default: GT_DIR, <folder>/<video>/images/<frame>.png).",
)
@click.option("--worst", type=click.IntRange(min=1), help="Draw the N frames with most FP + FN.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Without --frame/--worst, draw the first N frames.",
)
def overlay_cmd(gt_dir, pred_dir, out_dir, frames, radius, images_dir, worst, limit):
    """Draw TP (green), FN (orange), FP (red) and the radius on frames, as PNG files."""
    from adaptor_score.overlay import render_overlays

    try:
        keys = [FrameKey.parse(f) for f in frames]
        paths = render_overlays(
            gt_dir, pred_dir, out_dir, keys or None, radius, images_dir, worst, limit
        )
    except (GroundTruthError, ValueError, KeyError) as e:
        _fatal(e)
    console.print(f"wrote {len(paths)} overlays to {out_dir}")


# ----------------------------------------------------------------------------- organisers
# The ledger, the leaderboard and container runs live in adaptor_leaderboard (installed with the
# toolkit); they are imported only when these commands run.

LEDGER_OPTION = click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("ADAPTOR_LEDGER", "leaderboard.sqlite"),
    show_default="leaderboard.sqlite",
    help="SQLite ledger (also ADAPTOR_LEDGER).",
)
RULES_OPTION = click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TOML with [phase.NAME] rules (limits, metric, radius, rounding).",
)


@main.group("ledger")
def ledger_group() -> None:
    """The submission ledger: record, list, export."""


@ledger_group.command("add-output")
@click.argument("output_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--ground-truth",
    "gt_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option("--team", required=True)
@click.option("--institute", default="")
@click.option("--phase", default="test", show_default=True)
@click.option("--image", default="", help="Image reference, for the record.")
@LEDGER_OPTION
@RULES_OPTION
def ledger_add_output(output_dir, gt_dir, team, institute, phase, image, ledger_path, rules_path):
    """Record and score a submission's output folder (run elsewhere) in the ledger."""
    from adaptor_leaderboard.ledger import Ledger
    from adaptor_leaderboard.ranking import check_limit, load_rules
    from adaptor_leaderboard.runner import score_into_ledger

    rules = load_rules(rules_path, phase)
    with Ledger(ledger_path) as ledger:
        refused = check_limit(ledger, rules, team)
        if refused:
            err_console.print(f"[red]refused:[/] {refused}")
            sys.exit(1)
        sid = ledger.add_submission(team, phase, institute, image)
        try:
            report = score_into_ledger(ledger, sid, output_dir, gt_dir)
        except GroundTruthError as e:
            ledger.set_status(sid, "failed", f"infrastructure: {e}")
            _fatal(e)
    s = next(x for x in report.overall() if x.radius == rules.radius)
    console.print(
        f"submission {sid} of {team}: F1@{rules.radius:g} {s.f1:.4f} ({len(report.problems)} problems)"
    )


@ledger_group.command("list")
@click.option("--phase")
@LEDGER_OPTION
def ledger_list(phase, ledger_path):
    """Every submission with its current status."""
    from adaptor_leaderboard.ledger import Ledger

    with Ledger(ledger_path) as ledger:
        t = Table(title=f"Submissions in {ledger_path}", title_justify="left")
        for col in ("id", "team", "phase", "status", "reason", "run s", "image"):
            t.add_column(col)
        for s in ledger.submissions(phase):
            t.add_row(
                s.submission_id,
                s.team,
                s.phase,
                s.status,
                s.reason[:60],
                "" if s.run_seconds is None else f"{s.run_seconds:.1f}",
                s.image,
            )
        console.print(t)


@ledger_group.command("fail")
@click.argument("submission_id")
@click.option("--reason", required=True)
@click.option(
    "--ours", is_flag=True, help="Our side failed (crash, engine): it does not use up a submission."
)
@LEDGER_OPTION
def ledger_fail(submission_id, reason, ours, ledger_path):
    """Record a submission as failed (e.g. one left 'running' by an interrupted run)."""
    from adaptor_leaderboard.ledger import Ledger, LedgerError

    with Ledger(ledger_path) as ledger:
        try:
            ledger.set_status(
                submission_id, "failed", f"infrastructure: {reason}" if ours else reason
            )
        except LedgerError as e:
            _fatal(e)
    console.print(
        f"submission {submission_id}: failed ({'infrastructure: ' if ours else ''}{reason})"
    )


@ledger_group.command("export")
@LEDGER_OPTION
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
def ledger_export(ledger_path, csv_out, json_out):
    """Export every submission and its latest scores as CSV and/or JSON."""
    from adaptor_leaderboard.ledger import Ledger

    with Ledger(ledger_path) as ledger:
        if csv_out:
            ledger.export_csv(csv_out)
        if json_out:
            ledger.export_json(json_out)
    console.print(
        "exported" + (f" {csv_out}" if csv_out else "") + (f" {json_out}" if json_out else "")
    )


@main.command("run")
@click.argument("image")
@click.option("--team", required=True)
@click.option("--institute", default="")
@click.option("--phase", default="test", show_default=True)
@click.option(
    "--input",
    "input_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The (hidden) test images, mounted read-only at /input.",
)
@click.option(
    "--ground-truth",
    "gt_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option(
    "--work",
    "work_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Outputs and logs, one folder per submission.",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=1), default=3600, show_default=True, help="Seconds."
)
@click.option("--memory", default="16g", show_default=True)
@click.option("--pids", type=click.IntRange(min=16), default=1024, show_default=True)
@click.option("--gpu/--no-gpu", default=None, help="Default: all GPUs when the engine has any.")
@click.option(
    "--docker-host",
    help="Engine socket, e.g. unix:///run/podman/podman.sock (default: DOCKER_HOST).",
)
@LEDGER_OPTION
@RULES_OPTION
def run_cmd(
    image,
    team,
    institute,
    phase,
    input_dir,
    gt_dir,
    work_dir,
    time_limit,
    memory,
    pids,
    gpu,
    docker_host,
    ledger_path,
    rules_path,
):
    """Run a submitted IMAGE on the test set, score it and record it in the ledger."""
    import docker
    from adaptor_leaderboard.ledger import Ledger
    from adaptor_leaderboard.ranking import load_rules
    from adaptor_leaderboard.runner import RunLimits, run_submission

    try:
        rules = load_rules(rules_path, phase)
        client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
    except (ValueError, docker.errors.DockerException) as e:
        _fatal(e)
    limits = RunLimits(wall_seconds=time_limit, memory=memory, pids=pids, gpu=gpu)
    with Ledger(ledger_path) as ledger:
        try:
            r = run_submission(
                client, ledger, image, team, input_dir, gt_dir, work_dir, rules, institute, limits
            )
        except (PermissionError, ValueError) as e:
            err_console.print(f"[red]refused:[/] {e}")
            sys.exit(1)
    if r.status == "scored":
        console.print(
            f"submission {r.submission_id} ({team}): scored, F1@{rules.radius:g} {r.f1:.4f},"
            f" {r.run_seconds:.1f} s"
        )
    else:
        console.print(f"submission {r.submission_id} ({team}): failed: {r.reason}")
        sys.exit(1)


@main.command("leaderboard")
@LEDGER_OPTION
@RULES_OPTION
@click.option("--phase", default="test", show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--bootstrap", "replicates", type=click.IntRange(min=0), default=1000, show_default=True
)
@click.option(
    "--unit",
    type=click.Choice(["frame", "surgery"]),
    default="frame",
    show_default=True,
    help="What the bootstrap resamples.",
)
@click.option("--seed", type=int, default=0, show_default=True)
def leaderboard_cmd(ledger_path, rules_path, phase, out_dir, replicates, unit, seed):
    """Publish a phase's leaderboard: Markdown, CSV, JSON and a static HTML page with plots."""
    from adaptor_leaderboard.ledger import Ledger
    from adaptor_leaderboard.publish import build_board, publish, to_markdown
    from adaptor_leaderboard.ranking import load_rules

    try:
        rules = load_rules(rules_path, phase)
    except ValueError as e:
        _fatal(e)
    with Ledger(ledger_path) as ledger:
        board = build_board(ledger, rules, replicates, seed, unit)
    paths = publish(board, out_dir)
    console.print(to_markdown(board))
    console.print(f"wrote {', '.join(str(p) for p in paths)}")


if __name__ == "__main__":  # pragma: no cover
    main()

"""``adaptor-score overlay``: predictions drawn on their frames."""

from __future__ import annotations

from pathlib import Path

import click

from adaptor_score.cli_common import RADIUS, console, fatal
from adaptor_score.contract import RANKING_RADIUS
from adaptor_score.frames import FrameKey, Problem
from adaptor_score.groundtruth import GroundTruthError
from adaptor_score.pathguard import check_outputs


@click.command("overlay")
@click.argument("gt_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("pred_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--frame", "frames", multiple=True, help="folder/video/frame; repeatable.")
@click.option("--radius", type=RADIUS, default=RANKING_RADIUS, show_default=True)
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
    """Draw TP (blue), FN (orange), FP (vermillion) and the radius on frames, as PNG files."""
    from adaptor_score.cli import print_problems  # the one listing of problems, shared
    from adaptor_score.overlay import render_overlays

    check_outputs(
        {"GT_DIR": gt_dir, "PRED_DIR": pred_dir, "--images": images_dir}, {"--out": out_dir}
    )
    problems: list[Problem] = []
    try:
        keys = [FrameKey.parse(f) for f in frames]
        paths = render_overlays(
            gt_dir, pred_dir, out_dir, keys or None, radius, images_dir, worst, limit, problems
        )
    except (GroundTruthError, ValueError, KeyError) as e:
        fatal(e)
    console.print(f"wrote {len(paths)} overlays to {out_dir}")
    if problems:
        print_problems(problems)

"""``adaptor-score grand-challenge``: the evaluation method's command (docs/organisers.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from adaptor_score.cli_common import RADIUS, console, fatal
from adaptor_score.contract import REPORT_RADII
from adaptor_score.frames import InputFileError
from adaptor_score.pathguard import check_outputs

FOLDER = click.Path(file_okay=False, path_type=Path)


@click.command("grand-challenge")
@click.option("--input", "input_dir", type=FOLDER, default=Path("/input"), show_default=True,
              help="Grand-Challenge's evaluation input (predictions.json and the jobs' outputs).")
@click.option("--output", "output_dir", type=FOLDER, default=Path("/output"), show_default=True,
              help="Where metrics.json is written.")
@click.option("--ground-truth", "gt_dir", type=FOLDER,
              default=lambda: Path(os.environ.get("ADAPTOR_GROUND_TRUTH", "/opt/ground-truth")),
              help="The labels in the release layout [default: $ADAPTOR_GROUND_TRUTH or"
              " /opt/ground-truth].")
@click.option("--mapping", "mapping_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV image,folder,video,frame: which frame each uploaded image is (default:"
              " names folder__video__frame.png).")
@click.option("--radius", "radii", type=RADIUS, multiple=True, help="Match radius (repeatable).")
def grand_challenge_cmd(input_dir, output_dir, gt_dir, mapping_csv, radii):  # fmt: skip
    """Score Grand-Challenge's evaluation input and write OUTPUT/metrics.json: per image
    TP/FP/FN/F1 ("case") and pooled PPV/TPR/F1/RMSE per radius ("aggregates"), the numbers
    `adaptor-score score` gives on the same outputs."""
    from adaptor_score.grandchallenge import evaluate, write_metrics
    from adaptor_score.groundtruth import GroundTruthError

    check_outputs({"--input": input_dir, "--ground-truth": gt_dir, "--mapping": mapping_csv},
                  {"--output": output_dir})  # fmt: skip
    for name, folder in (("--input", input_dir), ("--ground-truth", gt_dir)):
        if not folder.is_dir():
            fatal(f"{name} {folder}: no such folder")
    try:
        metrics = evaluate(input_dir, gt_dir, radii or REPORT_RADII, mapping_csv)
        output_dir.mkdir(parents=True, exist_ok=True)
        write_metrics(output_dir / "metrics.json", metrics)
    except (InputFileError, GroundTruthError, OSError) as e:
        fatal(e)
    for r, a in metrics["aggregates"].items():
        f1 = "n/a" if a["f1"] is None else f"{a['f1']:.4f}"
        console.print(f"{r} px: F1 {f1} (TP {a['tp']}, FP {a['fp']}, FN {a['fn']})")
    console.print(f"{len(metrics['case'])} images scored, {len(metrics['problems'])} problem(s);"
                  f" {output_dir / 'metrics.json'}")  # fmt: skip


@click.command("grand-challenge-input")
@click.argument("pred_dir", type=FOLDER)
@click.argument("out_dir", type=FOLDER)
@click.option("--files", is_flag=True, help="Each job's output as a file (a file interface)"
              " instead of inline values.")  # fmt: skip
def grand_challenge_input_cmd(pred_dir, out_dir, files):
    """Write the predictions.json Grand-Challenge would hand the evaluation container, from a
    folder of outputs (release layout), for a local dry run of `adaptor-score grand-challenge`."""
    from rich.text import Text

    from adaptor_score.grandchallenge_input import make_input

    check_outputs({"PRED_DIR": pred_dir}, {"OUT_DIR": out_dir})
    try:
        jobs, problems = make_input(pred_dir, out_dir, files)
    except (InputFileError, OSError) as e:
        fatal(e)
    for p in problems:
        console.print(Text(f"  left out {p}"), soft_wrap=True)
    console.print(Text(f"wrote {out_dir / 'predictions.json'}: {jobs} job(s),"
                       f" {len(problems)} problem(s)"), soft_wrap=True)  # fmt: skip

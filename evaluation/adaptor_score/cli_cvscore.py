"""``adaptor-score cv``: a participant's own cross-validation scored in one command.

Each fold's model predicts its held-out frames into a folder; ``cv GT --fold NAME=DIR ...``
scores every fold against the labels with the challenge's rule and writes the paper's per-fold
table (PPV, TPR, F1 at 6/8/10 px, mean ± sd over folds), the close-points table and challengeR's
long per-case file, exactly as ``adaptor-score tables`` would from a hand-written manifest (which
it writes beside the tables, for the record). Fold names are the fold file's (``--folds``), or the
surgery folders for leave-one-folder-out.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from adaptor_score.cli_common import console, fatal
from adaptor_score.contract import RANKING_RADIUS, REPORT_RADII
from adaptor_score.folds import FoldFileError
from adaptor_score.groundtruth import GroundTruthError
from adaptor_score.pathguard import check_outputs

FOLDER = click.Path(file_okay=False, path_type=Path)


def _fold(value: str) -> tuple[str, Path]:
    name, sep, folder = value.partition("=")
    if not sep or not name.strip() or not folder:
        raise click.BadParameter(f"{value!r}: give NAME=PRED_DIR", param_hint="--fold")
    return name.strip(), Path(folder)


@click.command("cv")
@click.argument("gt_dir", type=FOLDER)
@click.option("--fold", "fold_args", multiple=True, required=True, metavar="NAME=PRED_DIR",
              help="One fold: its name and the folder its model's predictions are in; repeat"
              " for every fold.")  # fmt: skip
@click.option("--folds", "fold_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Fold CSV (folder[,video[,frame]],fold); default: one fold per surgery"
              " folder, named after it.")  # fmt: skip
@click.option("--name", default="cv", show_default=True, help="The cross-validation's name.")
@click.option("--experiment", default="mine", show_default=True, help="Your method's name.")
@click.option("--out", "out_dir", required=True, type=FOLDER)
def cv_score_cmd(gt_dir, fold_args, fold_file, name, experiment, out_dir):
    """Score your cross-validation: one prediction folder per fold, each fold's model on its
    held-out frames; the paper's per-fold table (mean ± sd over folds) into OUT."""
    from adaptor_score.manifest import Dataset, Experiment, Manifest, ManifestError, write_manifest
    from adaptor_score.tables import run_manifest, write_tables

    folds = dict(_fold(v) for v in fold_args)
    if len(folds) != len(fold_args):
        fatal("--fold: a fold name is given twice")
    check_outputs({"GT_DIR": gt_dir, "--folds": fold_file,
                   **{f"--fold {k}": v for k, v in folds.items()}}, {"--out": out_dir})  # fmt: skip
    for k, v in folds.items():
        if not v.is_dir():
            fatal(f"--fold {k}={v}: no such folder")
    manifest = Manifest(
        Path(out_dir) / "manifest.toml", RANKING_RADIUS, list(REPORT_RADII),
        {name: Dataset(name, f"{name}: cross-validation", Path(gt_dir), fold_file)},
        [Experiment(experiment, {"model": experiment},
                    [{"dataset": name, "kind": "folds", "runs": folds, "seed": None}])],
    )  # fmt: skip
    try:
        from adaptor_score.folds import assign_folds
        from adaptor_score.groundtruth import load_ground_truth

        known = {f for f in assign_folds(list(load_ground_truth(gt_dir).points), fold_file) if f}
        unknown = sorted(set(folds) - known)
        if unknown:  # a typo would otherwise be a skipped run and a table over the other folds
            fatal(f"--fold {', '.join(unknown)}: no such fold; the folds are"
                  f" {', '.join(sorted(known))}")  # fmt: skip
        results = run_manifest(manifest)
    except (ManifestError, GroundTruthError, FoldFileError) as e:
        fatal(e)
    write_manifest(manifest)
    write_tables(results, out_dir)
    console.print(Text((Path(out_dir) / "tables.md").read_text(encoding="utf-8")))
    for p in results.problems[:10]:
        console.print(Text(f"  {p.file}: {p.problem}"), soft_wrap=True)
    console.print(Text(f"wrote the tables and manifest.toml to {out_dir}"))

"""``adaptor-score validate-translation``: check a ``domain_transformation`` output."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from adaptor_score.cli_common import console, fatal, styled
from adaptor_score.frames import InputFileError
from adaptor_score.pathguard import check_outputs


@click.command("validate-translation")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--images",
    "images_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The input images the container translated.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the problems as JSON.")  # fmt: skip
def validate_translation_cmd(out_dir, images_dir, json_out):
    """Check a domain_transformation output: one readable RGB PNG per input image, at its place,
    the same size, and not the input itself; exit 1 when anything is wrong."""
    from adaptor_score.outputs import write_json
    from adaptor_score.translation import validate_translation

    check_outputs({"OUT_DIR": out_dir, "--images": images_dir}, {"--json": json_out})
    try:
        problems, n = validate_translation(out_dir, images_dir)
    except InputFileError as e:
        fatal(e)
    if json_out:
        write_json(json_out, {"images": n, "problems": [p.to_dict() for p in problems]})
    if problems:
        console.print(styled((f"{len(problems)} problem(s)", "red"),
                             f" with {out_dir} ({n} images):"), soft_wrap=True)  # fmt: skip
        for p in problems:
            console.print(Text(f"  {p.file}: {p.problem}"), soft_wrap=True)
        sys.exit(1)
    console.print(styled(("OK", "green"), f": {n} images, one translation each."))

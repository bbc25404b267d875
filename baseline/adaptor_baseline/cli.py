"""``adaptor-baseline``: data generation, inspection, and (see the model modules) training and
prediction. Thin click commands over library functions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adaptor-toolkit")
def main() -> None:
    """AdaptOR data, synthetic frames and the reference baseline."""


@main.command("synth")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--domain", type=click.Choice(["sim", "intraop"]), default="sim", show_default=True)
@click.option(
    "--surgeries",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Surgery/simulation folders.",
)
@click.option(
    "--videos", type=click.IntRange(min=1), default=2, show_default=True, help="Videos per folder."
)
@click.option(
    "--frames", type=click.IntRange(min=1), default=20, show_default=True, help="Frames per video."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes (default: cores)."
)
@click.option("--max-points", type=click.IntRange(min=0), default=30, show_default=True)
def synth_cmd(out_dir, domain, surgeries, videos, frames, seed, workers, max_points):
    """Generate synthetic frames and labels in the AdaptOR layout under OUT_DIR."""
    from adaptor_baseline.synth import generate_dataset

    s = generate_dataset(out_dir, domain, surgeries, videos, frames, seed, workers, max_points)
    console.print(
        f"wrote {s['frames']} frames ({s['points']} points) of domain {domain} to {out_dir} in"
        f" {s['seconds']:.1f} s ({s['frames_per_second']:.1f} frames/s); folders: {', '.join(s['folders'])}"
    )


@main.command("contact-sheet")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("-n", "count", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--columns", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--seed", type=int, default=0)
def contact_sheet_cmd(data_dir, out, count, columns, seed):
    """Draw a grid of frames with their labels (green circles) as one PNG."""
    from adaptor_baseline.data.layout import LabelError
    from adaptor_baseline.synth.contact_sheet import contact_sheet

    try:
        path = contact_sheet(data_dir, out, count, columns, seed=seed)
    except (LabelError, ValueError, OSError) as e:
        console.print(f"[red]error:[/] {e}")
        sys.exit(2)
    console.print(f"wrote {path}")


@main.command("perturb")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--jitter", type=click.FloatRange(min=0), default=2.0, show_default=True, help="px")
@click.option("--miss", type=click.FloatRange(0, 1), default=0.2, show_default=True)
@click.option(
    "--false-positives",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Mean false positives per frame.",
)
@click.option("--seed", type=int, default=0)
def perturb_cmd(data_dir, out_dir, jitter, miss, false_positives, seed):
    """Write labels as submissions with controlled errors (for demos and tests, not a detector)."""
    from adaptor_baseline.synth.perturb import perturbed_predictions

    n = perturbed_predictions(data_dir, out_dir, jitter, miss, false_positives, seed)
    console.print(f"wrote {n} prediction files to {out_dir}")


if __name__ == "__main__":  # pragma: no cover
    main()

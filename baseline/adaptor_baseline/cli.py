"""``adaptor-baseline``: data generation, inspection, and (see the model modules) training and
prediction. Thin click commands over library functions."""

from __future__ import annotations

from pathlib import Path

import click

from adaptor_baseline.cli_options import (
    DATA_OPTION,
    FOLDS_OPTION,
    OUT_OPTION,
    build_config,
    config_options,
    json_config,
    spec_path,
)
from adaptor_score.cli_common import (
    RADIUS,
    FiniteFloat,
    Group,
    Progress,
    console,
    fatal,
    safe_streams,
)
from adaptor_score.contract import RANKING_RADIUS
from adaptor_score.pathguard import check_outputs


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adaptor-toolkit")
def main() -> None:
    """AdaptOR data, synthetic frames and the reference baseline."""
    safe_streams()


@main.command("synth")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--preset",
    type=click.Choice(["a1", "a2", "b1"]),
    default=None,
    help="The shape of a paper dataset (folders, videos, frames, domain): a1 = A.1 (4 surgeries,"
    " 2,376 frames), a2 = A.2 (5 x 100), b1 = B.1 (10 simulations, 2,708); A.1/B.1 use the"
    " published folder names, so `--folds preset:published` works on them.",
)
@click.option(
    "--domain",
    type=click.Choice(["sim", "intraop"]),
    default=None,
    help="Domain (default: sim, or the preset's).",
)
@click.option(
    "--surgeries",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Surgery/simulation folders (without --preset).",
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
@click.option(
    "--max-points",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    help="Most suture points (bites) a surgery has.",
)
@click.option(
    "--paired",
    is_flag=True,
    help="Render each scene in both domains: OUT_DIR/sim and OUT_DIR/intraop with the same"
    " geometry, names and labels (true pairs for the domain-transformation task).",
)
def synth_cmd(out_dir, preset, domain, surgeries, videos, frames, seed, workers, max_points,
              paired):  # fmt: skip
    """Generate synthetic frames and labels in the AdaptOR layout under OUT_DIR."""
    from adaptor_baseline.synth import generate_dataset
    from adaptor_baseline.synth.generate import check_new_dataset_root
    from adaptor_baseline.synth.presets import dataset_preset, grid

    if paired:
        if preset is not None:
            fatal("--paired renders a grid of --surgeries x --videos x --frames; drop --preset")
        from adaptor_baseline.synth.paired import generate_pair

        check_new_dataset_root(out_dir)
        with Progress("synth --paired (frames)", surgeries * videos * frames) as progress:
            s = generate_pair(out_dir, domain or "sim", surgeries, videos, frames, seed,
                              max_points, progress)  # fmt: skip
        console.print(f"wrote {s['frames']} frames ({s['points']} points) in each of"
                      f" {out_dir}/{s['domains'][0]} and {out_dir}/{s['domains'][1]}: the same"
                      " scenes, names and labels", soft_wrap=True)  # fmt: skip
        return

    if preset is not None:
        shape = dataset_preset(preset)
        if domain is not None and domain != shape.domain:
            fatal(f"--preset {preset} is {shape.domain} data; drop --domain {domain}")
    else:
        shape = grid(domain or "sim", surgeries, videos, frames, seed)
    check_new_dataset_root(out_dir)
    with Progress("synth (frames)", shape.frames) as progress:
        s = generate_dataset(
            out_dir,
            seed=seed,
            workers=workers,
            max_points=max_points,
            progress=progress,
            preset=shape,
        )
    console.print(
        f"wrote {s['frames']} frames ({s['points']} points) of domain {s['domain']} to {out_dir}"
        f" in {s['seconds']:.1f} s ({s['frames_per_second']:.1f} frames/s); folders:"
        f" {', '.join(s['folders'])}"
    )


@main.command("synth-report")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for report.json and report.png (default: print only).",
)
@click.option(
    "--compare",
    type=click.Choice(["a1", "a2", "b1"]),
    default=None,
    help="Print the real dataset's known figures beside ours.",
)
@click.option(
    "--image-sample",
    type=click.IntRange(min=1),
    default=400,
    show_default=True,
    help="Frames (spread evenly) whose pixels are measured.",
)
def synth_report_cmd(data_dir, out, compare, image_sample):
    """Realism statistics of any dataset in the AdaptOR layout (synthetic or real): labels per
    frame, empty frames, growth within videos, close points, label precision, light, saturation,
    white balance and sharpness."""
    from adaptor_baseline.data.layout import LabelError
    from adaptor_baseline.synth.report import realism_report
    from adaptor_baseline.synth.report_output import print_report, write_report

    check_outputs({"DATA_DIR": data_dir}, {"--out": out})
    try:
        report = realism_report(data_dir, image_sample)
    except (LabelError, ValueError, OSError) as e:
        fatal(e)
    print_report(report, console, compare)
    if out is not None:
        try:
            paths = write_report(report, out)
        except ImportError as e:
            fatal(f"{e}: the figure needs matplotlib (pip install 'adaptor-toolkit[report]')")
        console.print("wrote " + ", ".join(str(p) for p in paths), markup=False)


@main.command("false-positives")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("pred_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--radius", type=RADIUS, default=RANKING_RADIUS, show_default=True, help="px")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def false_positives_cmd(data_dir, pred_dir, radius, json_out):
    """Name what lies under each false positive of PRED_DIR on DATA_DIR, a dataset written by
    `adaptor-baseline synth` (its synth.json says how): a needle mark, knot, thread end, tissue
    spot, pledget, instrument, specular highlight, thread, an unlabelled bite, or beside a label."""
    from rich.table import Table
    from rich.text import Text

    from adaptor_baseline.synth.lookalikes import KINDS, attribute_false_positives
    from adaptor_score.frames import InputFileError
    from adaptor_score.outputs import write_json

    check_outputs({"DATA_DIR": data_dir, "PRED_DIR": pred_dir}, {"--json": json_out})
    try:
        res = attribute_false_positives(data_dir, pred_dir, radius=radius)
    except (InputFileError, ValueError, OSError) as e:
        fatal(e)
    table = Table(title=Text(f"false positives at {radius:g} px: {res['false_positives']}"))
    for name in ("look-alike", "false positives", "share", "median px to a label"):
        table.add_column(name, justify="left" if name == "look-alike" else "right")
    for kind in KINDS:
        if kind in res["kinds"]:
            k = res["kinds"][kind]
            med = "" if k["median_px_to_label"] is None else f"{k['median_px_to_label']:.1f}"
            table.add_row(Text(kind), str(k["count"]), f"{k['share']:.1%}", med)
    console.print(table)
    for q in res["problems"]:
        console.print(Text(f"problem: {q['file']}: {q['problem']}"))
    if json_out is not None:
        write_json(json_out, res)
        console.print(Text(f"wrote {json_out}"))


@main.command("contact-sheet")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("-n", "count", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--columns", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--seed", type=int, default=0)
@click.option(
    "--predictions",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Also draw these predictions (red crosses).",
)
def contact_sheet_cmd(data_dir, out, count, columns, seed, predictions):
    """Draw a grid of frames, spread over the videos, with their labels (green circles) and
    optionally predictions (red crosses), as one PNG."""
    from adaptor_baseline.data.layout import LabelError
    from adaptor_baseline.synth.contact_sheet import contact_sheet

    check_outputs({"DATA_DIR": data_dir, "--predictions": predictions}, {"--out": out})
    try:
        path = contact_sheet(data_dir, out, count, columns, seed=seed, predictions=predictions)
    except (LabelError, ValueError, OSError) as e:
        fatal(e)
    console.print(f"wrote {path}")


@main.command("perturb")
@click.argument("data_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--jitter", type=FiniteFloat(min=0), default=2.0, show_default=True, help="px")
@click.option("--miss", type=FiniteFloat(0, 1), default=0.2, show_default=True)
@click.option(
    "--false-positives",
    type=FiniteFloat(min=0),
    default=2.0,
    show_default=True,
    help="Mean false positives per frame.",
)
@click.option("--seed", type=int, default=0)
def perturb_cmd(data_dir, out_dir, jitter, miss, false_positives, seed):
    """Write labels as submissions with controlled errors (for demos and tests, not a detector)."""
    from adaptor_baseline.synth.perturb import perturbed_predictions

    check_outputs({"DATA_DIR": data_dir}, {"OUT_DIR": out_dir})
    n = perturbed_predictions(data_dir, out_dir, jitter, miss, false_positives, seed)
    console.print(f"wrote {n} prediction files to {out_dir}")


@main.command("train")
@DATA_OPTION
@OUT_OPTION
@click.option("--fold", help="Validate on this fold, train on the others (default: train on all).")
@FOLDS_OPTION
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt.")
@click.option(
    "--overwrite", is_flag=True, help="Replace the run in OUT (its files are removed first)."
)
@click.option("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available).")
@config_options
def train_cmd(
    data_dir, out_dir, fold, folds_spec, resume, overwrite, device, config_name, **overrides
):
    """Train one configuration, optionally holding out one fold for validation."""
    from adaptor_baseline.data.layout import LabelError
    from adaptor_baseline.train import train

    check_outputs(
        {
            "--data": data_dir,
            "--folds": spec_path(folds_spec),
            "--config": json_config(config_name),
        },
        {"--out": out_dir},
    )
    try:
        cfg = build_config(config_name, **overrides)
        train(cfg, data_dir, out_dir, fold, folds_spec, resume, device, console, overwrite)
    except (LabelError, ValueError, OSError) as e:
        fatal(e)


@main.command("predict")
@click.option(
    "--weights",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="model.pt, checkpoint.pt or a run folder.",
)
@click.option(
    "--input",
    "input_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
)
@click.option(
    "--output", "output_dir", required=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Default: 1 on CPU, 8 on GPU.")
@click.option("--device", help="cpu, cuda ... (default: CUDA when available).")
@click.option(
    "--compile",
    "compile_",
    is_flag=True,
    help="torch.compile the model (same points; pays off on many images).",
)
@click.option(
    "--heatmaps",
    "heatmap_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also save the output maps as PNGs in this folder.",
)
def predict_cmd(weights, input_dir, output_dir, batch_size, device, compile_, heatmap_dir):
    """Write one submission JSON per image under INPUT into OUTPUT (folder structure kept)."""
    from adaptor_baseline.data.layout import LabelError
    from adaptor_baseline.predict import predict_dir

    check_outputs(
        {"--weights": weights, "--input": input_dir},
        {"--output": output_dir, "--heatmaps": heatmap_dir},
    )
    try:
        with Progress("predict (frames)") as progress:
            s = predict_dir(
                weights, input_dir, output_dir, batch_size, device, heatmap_dir, compile_, progress
            )
    except (LabelError, ValueError, OSError) as e:
        fatal(e)
    console.print(
        f"predicted {s['images']} images ({s['points']} points) in {s['seconds']:.1f} s"
        f" ({s['images_per_s']:.1f} images/s) into {output_dir}"
    )


from adaptor_baseline.cli_cv import cv_cmd  # noqa: E402 - registered after main exists

main.add_command(cv_cmd)

from adaptor_baseline.cli_translation import measures_cmd, translate_cmd  # noqa: E402

main.add_command(translate_cmd)
main.add_command(measures_cmd)


@main.command("demo-check")
@click.argument("score_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seeds", "seeds_json", type=click.Path(dir_okay=False, path_type=Path),
              help="The seed benchmark (default: benchmarks/results/demo-seeds.json).")  # fmt: skip
def demo_check_cmd(score_json, seeds_json):
    """Print the demo's F1@6 (SCORE_JSON) beside the band its recipe gives over training seeds,
    and what to suspect when it lies outside (exit 0 either way: the demo ran)."""
    from adaptor_baseline.demo_check import SEEDS_FILE, demo_check
    from adaptor_score.safefiles import BadFile

    try:
        _, lines = demo_check(score_json, seeds_json or SEEDS_FILE)
    except (BadFile, OSError, ValueError, KeyError, StopIteration, TypeError) as e:
        fatal(f"{score_json}: not a score.json with a 6 px row ({e})")
    for line in lines:
        console.print(line, markup=False)


if __name__ == "__main__":  # pragma: no cover
    main()

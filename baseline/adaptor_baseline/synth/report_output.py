"""The realism report as a table on the console, ``report.json`` and ``report.png``.

The figure uses matplotlib (the ``report`` extra): four panels that a table cannot show, the
distribution of labels per frame, the label count along each video (growth), nearest-neighbour
distances with the 15 px close-points line, and the frame grey level per folder (light).
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from adaptor_baseline.synth.report import REFERENCE
from adaptor_score import atomic
from adaptor_score.outputs import write_json

ROWS = (
    ("frames", "frames"),
    ("folders", "folders (surgeries / simulations)"),
    ("videos", "videos"),
    ("labels", "labels"),
    ("labels_per_frame", "labels per frame (mean)"),
    ("labels_per_frame_quantiles", "labels per frame (quantiles)"),
    ("empty_frames", "share of empty frames"),
    ("max_labels_per_frame", "most labels in a frame"),
    ("growth_spearman_median", "growth within videos (median Spearman rho)"),
    ("videos_growing", "share of videos ending with more labels"),
    ("first_quarter_labels", "labels per frame, first quarter of videos"),
    ("last_quarter_labels", "labels per frame, last quarter of videos"),
    ("close_share", "share of close labels (within 15 px of another)"),
    ("nearest_neighbour_px", "nearest other label (px)"),
    ("integer_labels", "share of labels on whole pixels"),
    ("image_sample", "frames measured for the image rows"),
    ("grey_mean", "frame grey level (mean)"),
    ("grey_p5_p95", "frame grey level (5th-95th percentile)"),
    ("grey_std_within_video", "grey level spread within a video (std)"),
    ("grey_std_between_folders", "grey level spread between folders (std)"),
    ("saturated_pixels_mean", "saturated pixels (share)"),
    ("frames_with_saturation", "frames with >= 10 saturated pixels"),
    ("r_g_p5_p95", "white balance R/G (5th-95th percentile)"),
    ("b_g_p5_p95", "white balance B/G (5th-95th percentile)"),
    ("sharpness_median", "sharpness (Laplacian variance, median)"),
)


def _fmt(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " - ".join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def print_report(report: dict, console, compare: str | None = None) -> None:
    table = Table(title=Text(f"realism report: {report['root']}"), show_lines=False)
    table.add_column("statistic")
    table.add_column("this dataset", justify="right")
    ref = REFERENCE.get(compare or "", {})
    if compare:
        table.add_column(f"real {compare.upper()} (paper)", justify="right")
    for key, label in ROWS:
        row = [Text(label), Text(_fmt(report.get(key)))]
        if compare:
            row.append(Text(_fmt(ref[key]) if key in ref else ""))
        table.add_row(*row)
    console.print(table)
    for q in report.get("problems", []):
        console.print(Text(f"problem: {q['file']}: {q['problem']} (left out of the image rows)"))


def public(report: dict) -> dict:
    """The report without the raw distributions, which go under ``distributions``."""
    out = {k: v for k, v in report.items() if not k.startswith("_")}
    out["distributions"] = {k[1:]: v for k, v in report.items() if k.startswith("_")}
    return out


def write_report(report: dict, out: str | Path) -> list[Path]:
    """Write ``report.json`` (always) and ``report.png`` (needs matplotlib)."""
    out = Path(out)
    write_json(out / "report.json", public(report))
    return [out / "report.json", figure(report, out / "report.png")]


def figure(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    counts = np.asarray(report["_counts"])
    ax[0, 0].hist(counts, bins=np.arange(counts.max() + 2) - 0.5, color="#4c72b0")
    ax[0, 0].axvline(counts.mean(), color="k", ls="--", lw=1)
    ax[0, 0].set(
        title=f"labels per frame (mean {counts.mean():.1f}, empty {report['empty_frames']:.1%})",
        xlabel="labels",
        ylabel="frames",
    )
    for cs in report["_trajectories"].values():
        x = np.linspace(0, 1, len(cs)) if len(cs) > 1 else [0.5]
        ax[0, 1].plot(x, cs, lw=0.8, alpha=0.6)
    ax[0, 1].set(
        title=f"labels along each video (median rho {_fmt(report['growth_spearman_median'])})",
        xlabel="position in video",
        ylabel="labels",
    )
    nn = np.asarray(report["_nearest"])
    if len(nn):
        ax[1, 0].hist(np.clip(nn, 0, 80), bins=80, range=(0, 80), color="#55a868")
    ax[1, 0].axvline(report["close_distance"], color="k", ls="--", lw=1)
    ax[1, 0].set(
        title=f"nearest other label (close share {_fmt(report['close_share'])})",
        xlabel="px (clipped at 80)",
        ylabel="labels",
    )
    groups = report["_grey_by_folder"]
    names = list(groups)
    ax[1, 1].boxplot([groups[n] for n in names], showfliers=False)
    ax[1, 1].set_xticks(range(1, len(names) + 1), [n[-10:] for n in names], rotation=45, ha="right")
    ax[1, 1].set(title="frame grey level per folder", ylabel="mean grey level (0-255)")
    fig.suptitle(f"realism report: {Path(report['root']).name}")
    try:
        atomic.write_with(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    finally:
        plt.close(fig)
    return path

"""``adaptor-baseline translate`` and ``translation-measures``: the domain-transformation task's
reference points and measures (docs/domain-transformation.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from adaptor_score.cli_common import console, fatal
from adaptor_score.frames import InputFileError
from adaptor_score.pathguard import check_outputs

FOLDER = click.Path(file_okay=False, path_type=Path)


@click.command("translate")
@click.argument("input_dir", type=FOLDER)
@click.argument("out_dir", type=FOLDER)
@click.option("--method", type=click.Choice(["identity", "reinhard"]), required=True,
              help="identity: no change; reinhard: Lab mean/std matched to --target.")  # fmt: skip
@click.option("--target", "target_dir", type=FOLDER,
              help="Real frames of the target domain (reinhard).")  # fmt: skip
def translate_cmd(input_dir, out_dir, method, target_dir):
    """Write a reference translation of every image below INPUT_DIR into OUT_DIR, where a
    container's domain_transformation writes it."""
    from adaptor_baseline.translation import translate_folder

    check_outputs({"INPUT_DIR": input_dir, "--target": target_dir}, {"OUT_DIR": out_dir})
    if not input_dir.is_dir():
        fatal(f"{input_dir}: the image folder does not exist")
    problems: list[str] = []
    try:
        n = translate_folder(input_dir, out_dir, method, target_dir, problems)
    except (ValueError, InputFileError) as e:
        fatal(e)
    for p in problems:
        console.print(Text(f"  skipped {p}"), soft_wrap=True)
    console.print(f"wrote {n} {method} translations to {out_dir}", soft_wrap=True)
    if problems:  # the rest is written; exit 1 says that not every image was translated
        sys.exit(1)


def split_named(v: str) -> tuple[str, str] | None:
    """``NAME=FOLDER`` where either may hold ``=``: the split whose right side is an existing
    folder (the last such), else the first ``=``; None without one.

    >>> split_named("a=b"), split_named("no")
    (('a', 'b'), None)
    """
    cuts = [i for i, ch in enumerate(v) if ch == "="]
    if not cuts:
        return None
    for i in reversed(cuts):
        if Path(v[i + 1 :]).is_dir():
            return v[:i], v[i + 1 :]
    return v[: cuts[0]], v[cuts[0] + 1 :]


def _named(values: tuple[str, ...]) -> dict[str, Path]:
    out = {}
    for v in values:
        cut = split_named(v)
        if cut is None or not cut[0].strip() or not cut[1]:
            raise click.BadParameter(f"{v!r}: give NAME=FOLDER", param_hint="--translated")
        out[cut[0].strip()] = Path(cut[1])
    return out


def _from_runs(path: Path, domain: str) -> dict[str, Path]:
    """Team -> output folder of each translated run of ``domain`` in the ledger's listing."""
    from adaptor_score.jsonfiles import read_json
    from adaptor_score.safefiles import BadFile

    try:
        rows = read_json(path)
        return {str(r["team"]): Path(r["output_dir"]) for r in rows
                if r["domain"] == domain and r["status"] in ("translated", "incomplete")}  # fmt: skip
    except (BadFile, ValueError, KeyError, TypeError) as e:
        fatal(f"{path}: not the JSON of `adaptor-leaderboard translations --json` ({e})")


@click.command("translation-measures")
@click.option("--weights", required=True, type=click.Path(path_type=Path),
              help="The reference detector (model.pt or a run folder).")  # fmt: skip
@click.option("--source", "source_gt", required=True, type=FOLDER,
              help="The labelled source frames that were translated.")  # fmt: skip
@click.option("--real", "real_dir", required=True, type=FOLDER,
              help="Real frames of the target domain (realism).")  # fmt: skip
@click.option("--translated", multiple=True, metavar="NAME=FOLDER",
              help="A translation folder and the name to report it under; repeatable.")
@click.option("--runs", "runs_json", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The JSON of `adaptor-leaderboard translations --json`: each team's"
              " translation of --domain, named after the team.")
@click.option("--domain", type=click.Choice(["sim", "intraop"]), default="sim", show_default=True,
              help="The domain of --source (translated into the other).")
@click.option("--out", "json_out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--bootstrap", "replicates", type=click.IntRange(0, 10_000), default=200,
              show_default=True)  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
def measures_cmd(weights, source_gt, real_dir, translated, runs_json, domain, json_out, replicates,
                 seed):  # fmt: skip
    """Label consistency (the reference detector on the translations, scored against the source
    labels, beside the untranslated sources) and realism (Fréchet distance on its encoder
    features to real target frames, with a bootstrap interval) of each translation."""
    from adaptor_baseline.checkpoints import CheckpointError
    from adaptor_baseline.translation import measure
    from adaptor_score.groundtruth import GroundTruthError
    from adaptor_score.outputs import write_json

    named = {**(_from_runs(runs_json, domain) if runs_json else {}), **_named(translated)}
    if not named:
        fatal("nothing to measure: give --translated NAME=FOLDER or --runs FILE")
    check_outputs({"--source": source_gt, "--real": real_dir,
                   **{f"--translated {k}": v for k, v in named.items()}}, {"--out": json_out})  # fmt: skip
    try:
        doc = measure(weights, source_gt, named, real_dir, replicates, seed)
    except (CheckpointError, GroundTruthError, InputFileError, ValueError) as e:
        fatal(e)
    doc["domain"] = domain
    doc["target"] = "intraop" if domain == "sim" else "sim"
    write_json(json_out, doc)
    for p in doc["problems"]:
        console.print(Text(f"  left out {p}"), soft_wrap=True)
    for name, e in doc["translations"].items():
        for p in e["problems"]:
            console.print(Text(f"  {name}: left out {p}"), soft_wrap=True)
        c, r = e["consistency"], e["realism"]
        f1 = c["translated"]["6"]["f1"]
        fd = "n/a" if r is None else f"{r['frechet']:.2f} [{r['low']:.2f}, {r['high']:.2f}]"
        console.print(f"{name}: F1@6 {f1:.3f} on the translations ({c['source']['6']['f1']:.3f}"
                      f" on the sources), Fréchet distance {fd}", soft_wrap=True)  # fmt: skip
    console.print(f"wrote {json_out}", soft_wrap=True)

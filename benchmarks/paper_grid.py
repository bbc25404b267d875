"""The paper grid's runs kept as small files, and Tables 1-4 rebuilt from them without training.

``collect`` reads finished ``adaptor-baseline cv`` folders (the seeds whose every job has
finished: a seed half done is left for a later collect) and writes, under ``INTO`` (default
``benchmarks/results/paper-grid``), one JSON per (dataset, experiment, seed, fold) run: the
configuration it was trained with (``config.json``) and its table labels, the per-epoch rows of
``metrics.csv``, its held-out and test-set predictions (every frame's points: the tables are
scored again from them, exactly), with the commit and machine; the labels of each dataset once
(``labels/<dataset>.json``), and the folds each cross-validation trained on (``folds/``). No
weights, no images.

``tables`` writes the predictions and labels back into a scratch tree in the release layout,
builds the same manifest ``cv`` writes, and runs ``adaptor-score tables`` (and ``compare``
against ``--reference``) on it: every number comes from the kept predictions.

    python benchmarks/paper_grid.py collect --cv GRID/cv-or=A.1,A.2 --cv GRID/cv-sim=B.1 \
        --labels A.1=GRID/A1 --labels A.2=GRID/A2 --labels B.1=GRID/B1
    python benchmarks/paper_grid.py tables --out paper-grid-output [--reference baseline-g1]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

from paper_grid_record import (
    GridFileError,
    plain_name,
    points_of,
    read_json,
    read_labels,
    read_run,
    relative,
)

from adaptor_score import atomic
from adaptor_score.frames import InputFileError

HERE = Path(__file__).resolve().parent
INTO = HERE / "results" / "paper-grid"
SIZE = {"imageWidth": 512, "imageHeight": 288}  # the synthetic frames' size


def _write(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, json.dumps(doc, separators=(",", ":")) + "\n")


def _machine() -> dict:
    import torch
    from machine_info import cores, cpu_model

    return {"cpu": cpu_model(), "cores": cores(), "torch": torch.__version__}


def _run_doc(cv: Path, job: dict, cv_name: str, test_name: str | None) -> dict:
    """One finished job of a ``cv`` folder as a kept run (without commit and dates)."""
    from adaptor_baseline.cv import saved_config
    from adaptor_baseline.sweep import params_of
    from adaptor_score.safefiles import BadFile, read_text

    run = cv / relative(cv / "jobs.json", "run", job.get("run"))
    cfg = saved_config(run)
    try:
        epochs = list(csv.DictReader(read_text(run / "metrics.csv", 16 << 20).splitlines()))
    except BadFile as e:
        raise GridFileError(run / "metrics.csv", str(e)) from None
    return {"experiment": job["experiment"], "seed": job["seed"], "fold": job["fold"],
            "dataset": cv_name, "test_dataset": test_name,
            "params": params_of(cfg), "config": read_json(run / "config.json"),
            "epochs": epochs, "val": points_of(run / "val_predictions"),
            "test": (points_of(run / "test_predictions")
                     if (run / "test_predictions").exists() else None)}  # fmt: skip


def _jobs(cv: Path) -> list[dict]:
    doc, path = read_json(cv / "jobs.json"), cv / "jobs.json"
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise GridFileError(path, "no list of jobs")
    for j in jobs:
        plain_name(path, "experiment", j.get("experiment"))
        plain_name(path, "fold", j.get("fold"))
        if not isinstance(j.get("seed"), int) or isinstance(j["seed"], bool) or j["seed"] < 0:
            raise GridFileError(path, f"seed {j.get('seed')!r} is not a whole number")
    return jobs


def collect(cvs: list[tuple[Path, list[str]]], into: Path, labels: dict[str, Path],
            commit: str | None = None, problems: list[str] | None = None) -> int:  # fmt: skip
    """Keep every finished run of whole seeds; returns how many. A run whose files cannot be
    read leaves its seed out (``problems`` says which file and why), the rest are kept."""
    from machine_info import git_commit

    from adaptor_baseline.config import ConfigError
    from adaptor_score.groundtruth import load_ground_truth
    from adaptor_score.safefiles import BadFile, read_text

    problems = [] if problems is None else problems
    commit = commit or git_commit()
    machine, n = _machine(), 0
    for cv, names in cvs:
        cv_name = plain_name(cv, "dataset name", names[0])
        test_name = plain_name(cv, "test dataset name", names[1]) if len(names) > 1 else None
        try:
            jobs, folds = _jobs(cv), read_text(cv / "folds.csv", 16 << 20)
            folds = folds.replace("\r\n", "\n")  # csv writes CRLF; the record keeps LF
        except (GridFileError, BadFile) as e:
            problems.append(f"{e if isinstance(e, GridFileError) else f'{cv}: {e}'}"
                            " (nothing of this cv folder kept)")  # fmt: skip
            continue
        finished = {job["job"] for job in jobs
                    if (cv / str(job.get("run")) / "val_score.json").exists()
                    and (cv / str(job.get("run")) / "val_predictions").exists()}  # fmt: skip
        docs = {}
        for job in jobs:
            if job["job"] in finished:
                try:
                    docs[job["job"]] = _run_doc(cv, job, cv_name, test_name)
                except (GridFileError, ConfigError, BadFile, OSError, ValueError) as e:
                    problems.append(f"{e} (seed {job['seed']} of {cv} left out)")
        # whole seeds only: every fold of a comparison then averages the same seeds
        whole = {job["seed"] for job in jobs} - {
            job["seed"] for job in jobs if job["job"] not in docs}  # fmt: skip
        (into / "folds").mkdir(parents=True, exist_ok=True)
        atomic.write_text(into / "folds" / f"{cv_name}.csv", folds)
        for job in jobs:
            if job["job"] not in docs or job["seed"] not in whole:
                continue  # not finished, unreadable, or its seed is not whole: a later collect
            doc = {**docs[job["job"]], "trained_at_commit": commit, "machine": machine,
                   "collected": time.strftime("%Y-%m-%d")}  # fmt: skip
            target = (into / "runs" / cv_name / job["experiment"] / f"seed-{job['seed']}"
                      / f"fold-{job['fold']}.json")  # fmt: skip
            if target.exists():  # a run once kept keeps the commit and date it was kept with
                kept = read_json(target)
                doc["trained_at_commit"] = kept.get("trained_at_commit", commit)
                doc["collected"] = kept.get("collected", doc["collected"])
            _write(target, doc)
            n += 1
    for name, root in labels.items():
        gt = load_ground_truth(root)
        frames = {"/".join(k): [[float(x), float(y)] for x, y in pts]
                  for k, pts in gt.points.items()}  # fmt: skip
        _write(into / "labels" / f"{name}.json", {**SIZE, "frames": frames})
    return n


def materialise(into: Path, scratch: Path):
    """The kept runs as a manifest over a scratch tree: (manifest, reference names)."""
    from adaptor_score.manifest import Dataset, Experiment, Manifest

    data = {}
    for f in sorted((into / "labels").glob("*.json")):
        doc = read_labels(f)
        root = scratch / "data" / f.stem
        for key, pts in doc["frames"].items():
            folder, video, frame = key.split("/")
            p = root / folder / video / "point_labels" / f"{frame}.json"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps({"points": [{"x": x, "y": y} for x, y in pts],
                                     "imageWidth": doc["imageWidth"],
                                     "imageHeight": doc["imageHeight"]}))  # fmt: skip
        data[f.stem] = root
    experiments: dict[str, dict] = {}
    tests: dict[str, str] = {}
    for f in sorted((into / "runs").rglob("fold-*.json")):
        run = read_run(f)
        e = experiments.setdefault(run["experiment"], {"params": run["params"], "results": {}})
        for part in ("val", "test"):
            if not run.get(part):
                continue
            dataset = run["dataset"] if part == "val" else run["test_dataset"]
            if part == "test":
                tests[dataset] = run["dataset"]
            folder = (scratch / "runs" / run["dataset"] / run["experiment"] / f"seed-{run['seed']}"
                      / f"fold-{run['fold']}" / part)  # fmt: skip
            for rel, pts in run[part].items():
                p = folder / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(json.dumps({"points": [{"x": x, "y": y} for x, y in pts]}))
            slot = e["results"].setdefault((dataset, run["seed"], part), {})
            slot[run["fold"]] = folder
    datasets = {}
    for name, root in data.items():
        folds = into / "folds" / f"{name}.csv"
        datasets[name] = Dataset(name, f"{name} (synthetic stand-in)", root,
                                 folds if folds.exists() else None, tests.get(name))  # fmt: skip
    rows = []
    for name, e in experiments.items():
        results = []
        for (d, seed, part), runs in sorted(e["results"].items()):
            ordered = sorted(runs.items())  # by fold; a test set's runs named as cv names them
            named = dict(ordered) if part == "val" else {f"run{i + 1}": path for i, (_, path)
                                                          in enumerate(ordered)}  # fmt: skip
            results.append({"dataset": d, "kind": "folds" if part == "val" else "runs",
                            "runs": named, "seed": seed})  # fmt: skip
        rows.append(Experiment(name, e["params"], results))
    return Manifest(scratch / "manifest.toml", 6.0, [6.0, 8.0, 10.0], datasets, rows)


def tables(into: Path, out: Path, reference: str | None, keep: bool = False) -> None:
    from adaptor_score.manifest import write_manifest
    from adaptor_score.tables import run_manifest, write_tables

    with tempfile.TemporaryDirectory(prefix="paper-grid-") as tmp:
        manifest = materialise(into, Path(tmp))
        write_manifest(manifest)
        results = run_manifest(manifest)
        write_tables(results, out / "tables")
        from paper_beside import beside_markdown

        atomic.write_text(out / "beside.md", beside_markdown(out / "tables" / "results.csv"))
        from paper_claims import claim_rows, claims_markdown, reading_markdown
        from paper_state import state_markdown

        atomic.write_text(out / "state.md", state_markdown(results))
        rows = claim_rows(results)
        atomic.write_text(out / "claims.md", claims_markdown(rows))
        atomic.write_text(out / "reading.md", reading_markdown(rows))
        atomic.write_text(out / "claims.json", json.dumps(rows, indent=1) + "\n")
        if reference:
            from adaptor_score.compare import compare, write_comparison

            frame = compare(results, reference)
            write_comparison(results, frame, reference, out / "compare")
    if keep:  # the tables, the claims and the comparison beside the runs they come from
        for src in (out / "tables" / "tables.md", out / "claims.md", out / "claims.json",
                    out / "reading.md", out / "state.md",
                    out / "compare" / "compare.md", out / "beside.md",
                    out / "tables" / "close_points.svg"):  # fmt: skip
            if src.exists():
                atomic.write_bytes(into / src.name, src.read_bytes())
        write_doc(out)
    print(f"wrote {out / 'tables'}" + (f" and {out / 'compare'}" if reference else ""))


DOC = HERE.parent / "docs" / "tables.md"
DOC_SECTIONS = {"state": "state.md", "beside": "beside.md", "claims": "claims.md",
                "reading": "reading.md", "tables": "tables/tables.md"}  # fmt: skip
DOC_FIGURE = "tables-close-points.svg"  # beside docs/tables.md


def doc_section(page: str, name: str) -> str:
    """The text of docs/tables.md between ``<!-- grid:NAME -->`` and ``<!-- /grid:NAME -->``."""
    return page.split(f"<!-- grid:{name} -->\n", 1)[1].split(f"<!-- /grid:{name} -->", 1)[0]


def write_doc(out: Path, doc: Path = DOC) -> None:
    """Put the rebuilt tables (``out``: what :func:`tables` wrote) into docs/tables.md's marked
    sections, so that the page shows exactly what the kept runs give (a test rebuilds them)."""
    page = doc.read_text(encoding="utf-8")
    for name, rel in DOC_SECTIONS.items():
        old = doc_section(page, name)
        page = page.replace(f"<!-- grid:{name} -->\n{old}", f"<!-- grid:{name} -->\n"
                            + (out / rel).read_text(encoding="utf-8"), 1)  # fmt: skip
    atomic.write_text(doc, page)
    # the close-points figure (the paper's Fig. 4), as drawn
    atomic.write_bytes(doc.parent / DOC_FIGURE, (out / "tables" / "close_points.svg").read_bytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--cv", action="append", required=True, metavar="DIR=NAME[,TEST_NAME]")
    c.add_argument("--labels", action="append", default=[], metavar="NAME=DIR",
                   help="A dataset's labelled folder, kept as labels/NAME.json")
    c.add_argument("--into", type=Path, default=INTO)
    c.add_argument("--commit", help="The commit the runs were trained at (default: HEAD)")
    t = sub.add_parser("tables")
    t.add_argument("--into", type=Path, default=INTO)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--reference", default="baseline-g1")
    t.add_argument("--keep", action="store_true", help="also copy tables.md, claims.md,"
                   " claims.json and compare.md into --into (the committed record)")
    args = ap.parse_args()
    try:
        if args.command == "collect":
            cvs = [(Path(v.rsplit("=", 1)[0]), v.rsplit("=", 1)[1].split(",")) for v in args.cv]
            labels = {v.split("=", 1)[0]: Path(v.split("=", 1)[1]) for v in args.labels}
            problems: list[str] = []
            n = collect(cvs, args.into, labels, args.commit, problems)
            print(f"collected {n} finished run(s) into {args.into}")
            for p in problems:
                print(f"not kept: {p}", file=sys.stderr)
            sys.exit(1 if problems else 0)
        tables(args.into, args.out, args.reference, args.keep)
    except (GridFileError, InputFileError) as e:
        # a kept run, labels or folds file that cannot be used: one left out would change the
        # tables silently, so stop and name it
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

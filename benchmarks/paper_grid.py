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
import tempfile
import time
from pathlib import Path

from adaptor_score import atomic

HERE = Path(__file__).resolve().parent
INTO = HERE / "results" / "paper-grid"
SIZE = {"imageWidth": 512, "imageHeight": 288}  # the synthetic frames' size


def _write(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, json.dumps(doc, separators=(",", ":")) + "\n")


def _points_of(folder: Path) -> dict[str, list]:
    """Every prediction file below ``folder``: relative path -> [[x, y], ...] (our own runs'
    outputs, read with the scorer's point reader)."""
    from adaptor_score.jsonfiles import parse_points

    out = {}
    for p in sorted(folder.rglob("*.json")):
        pts = parse_points(json.loads(p.read_text()))
        out[p.relative_to(folder).as_posix()] = [[float(x), float(y)] for x, y in pts]
    return out


def _machine() -> dict:
    import torch
    from machine_info import cores, cpu_model

    return {"cpu": cpu_model(), "cores": cores(), "torch": torch.__version__}


def collect(cvs: list[tuple[Path, list[str]]], into: Path, labels: dict[str, Path],
            commit: str | None = None) -> int:  # fmt: skip
    from machine_info import git_commit

    from adaptor_baseline.cv import saved_config
    from adaptor_baseline.sweep import params_of
    from adaptor_score.groundtruth import load_ground_truth

    commit = commit or git_commit()
    machine, n = _machine(), 0
    for cv, names in cvs:
        jobs = json.loads((cv / "jobs.json").read_text())
        cv_name, test_name = names[0], (names[1] if len(names) > 1 else None)
        (into / "folds").mkdir(parents=True, exist_ok=True)
        atomic.write_text(into / "folds" / f"{cv_name}.csv", (cv / "folds.csv").read_text())
        finished = {job["job"] for job in jobs["jobs"]
                    if (cv / job["run"] / "val_score.json").exists()
                    and (cv / job["run"] / "val_predictions").exists()}  # fmt: skip
        # whole seeds only: every fold of a comparison then averages the same seeds
        whole = {job["seed"] for job in jobs["jobs"]} - {
            job["seed"] for job in jobs["jobs"] if job["job"] not in finished}  # fmt: skip
        for job in jobs["jobs"]:
            run = cv / job["run"]
            if job["job"] not in finished or job["seed"] not in whole:
                continue  # not finished, or its seed is not: left for a later collect
            cfg = saved_config(run)
            with open(run / "metrics.csv", newline="") as f:
                epochs = list(csv.DictReader(f))
            doc = {"experiment": job["experiment"], "seed": job["seed"], "fold": job["fold"],
                   "dataset": cv_name, "test_dataset": test_name,
                   "params": params_of(cfg), "config": json.loads((run / "config.json").read_text()),
                   "epochs": epochs, "val": _points_of(run / "val_predictions"),
                   "test": (_points_of(run / "test_predictions")
                            if (run / "test_predictions").exists() else None),
                   "trained_at_commit": commit, "machine": machine,
                   "collected": time.strftime("%Y-%m-%d")}  # fmt: skip
            target = (into / "runs" / cv_name / job["experiment"] / f"seed-{job['seed']}"
                      / f"fold-{job['fold']}.json")  # fmt: skip
            if target.exists():  # a run once kept keeps the commit and date it was kept with
                kept = json.loads(target.read_text())
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
        doc = json.loads(f.read_text())
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
        run = json.loads(f.read_text())
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
        rows = claim_rows(results)
        atomic.write_text(out / "claims.md", claims_markdown(rows))
        atomic.write_text(out / "claims.json", json.dumps(rows, indent=1) + "\n")
        if reference:
            from adaptor_score.compare import compare, write_comparison

            frame = compare(results, reference)
            write_comparison(results, frame, reference, out / "compare")
    if keep:  # the tables, the claims and the comparison beside the runs they come from
        for src in (out / "tables" / "tables.md", out / "claims.md", out / "claims.json",
                    out / "compare" / "compare.md", out / "beside.md",
                    out / "tables" / "close_points.svg"):  # fmt: skip
            if src.exists():
                atomic.write_bytes(into / src.name, src.read_bytes())
        write_doc(out)
    print(f"wrote {out / 'tables'}" + (f" and {out / 'compare'}" if reference else ""))


DOC = HERE.parent / "docs" / "tables.md"
DOC_SECTIONS = {"beside": "beside.md", "claims": "claims.md", "tables": "tables/tables.md"}
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


# The comparisons the paper's text makes (section 5, Tables 1 and 2): (dataset, experiment,
# reference, the paper's mean F1 difference from its Table 1/2, where it says so).
PAPER_CLAIMS = [
    ("A.1", "v1-g3-s1", "baseline-g1", 0.0422, "Variant 1 (σ₁ = 3) outperforms the older baseline (σ = 1)"),
    ("A.1", "v1-g3-s1", "baseline-g3", 0.0080, "Variant 1 (σ₁ = 3) outperforms the baseline with the same σ₁"),
    ("A.1", "baseline-g3", "baseline-t10.5", 0.0082, "Gaussian targets (σ₁ = 3) beat Tanh (α = 10.5)"),
    ("A.1", "baseline-g2", "baseline-t7", 0.0226, "Gaussian targets (σ₁ = 2) beat Tanh (α = 7)"),
    ("A.1", "v2-g2-s1", "baseline-g2", -0.0144, "Variant 2 does not outperform its baseline (OR)"),
    ("A.1", "v1-g3-s1", "v1-g3-s2", None, "σ₂ = 1 is best (σ₁ = 3, OR)"),
    ("A.1", "v1-g3-s1", "v1-g3-s3", None, "σ₂ = 1 is best (σ₁ = 3, OR)"),
    ("A.2", "v1-g3-s1", "baseline-g3", 0.0152, "Variant 1 (σ₁ = 3) beats the baseline on the test set"),
    ("B.1", "v1-g2-s1", "baseline-g1", 0.0865, "Variant 1 (σ₁ = 2) outperforms the older baseline (σ = 1)"),
    ("B.1", "v1-g2-s1", "baseline-g2", 0.0354, "Variant 1 (σ₁ = 2) outperforms the baseline with the same σ₁"),
    ("B.1", "v2-g2-s1", "baseline-g2", 0.0324, "Variant 2 outperforms its baseline (simulator)"),
    ("B.1", "v1-g2-s1", "v1-g2-s2", None, "σ₂ = 1 is best (σ₁ = 2, simulator)"),
]


def _row_of(frame, dataset: str, experiment: str, level: str):
    """``compare``'s F1 row of one experiment at one level (empty where there is none)."""
    return frame[(frame.dataset == dataset) & (frame.experiment == experiment)
                 & (frame.level == level) & (frame.metric == "f1")]  # fmt: skip


def claim_rows(results) -> list[dict]:
    """Each of :data:`PAPER_CLAIMS` with our difference and ``compare``'s exact test per fold
    (per model on a test set): reproduces, opposite, or cannot tell at this n."""
    from adaptor_score.compare import compare

    names = {e.name for e in results.manifest.experiments}
    frames = {}
    out = []
    for dataset, exp, ref, paper, text in PAPER_CLAIMS:
        row = {"dataset": dataset, "experiment": exp, "reference": ref, "paper": paper,
               "claim": text}  # fmt: skip
        if exp not in names or ref not in names:
            out.append({**row, "verdict": "not run yet"})
            continue
        if ref not in frames:
            frames[ref] = compare(results, ref)
        f = frames[ref]
        level = "model" if dataset == "A.2" else "fold"
        hit = _row_of(f, dataset, exp, level)
        if hit.empty:
            out.append({**row, "verdict": "not run yet"})
            continue
        per_surgery = _row_of(f, dataset, exp, "surgery")
        if not per_surgery.empty:  # the independent unit: on A.2 the models share the frames
            s = per_surgery.iloc[0]
            row.update({"surgeries": int(s.pairs), "p_surgery": float(s.p_two_sided),
                        "smallest_p_surgery": float(s.smallest_p)})  # fmt: skip
        r = hit.iloc[0]
        d, p, floor = float(r.mean_difference), float(r.p_two_sided), float(r.smallest_p)
        expected = 1 if paper is None or paper > 0 else -1
        same = (d > 0) == (expected > 0) if d != 0 else False
        if floor > 0.05:
            verdict = (f"cannot tell at this n ({int(r.pairs)} {level}s: smallest two-sided p"
                       f" {floor:.3g}); {'same' if same else 'opposite'} direction")  # fmt: skip
        elif p <= 0.05:
            verdict = "reproduces" if same else "opposite (significant)"
        else:
            verdict = f"not significant (p {p:.3g}); {'same' if same else 'opposite'} direction"
        out.append({**row, "level": level, "pairs": int(r.pairs), "difference": d,
                    "hl_estimate": float(r.hl_estimate), "p": p, "smallest_p": floor,
                    "verdict": verdict})  # fmt: skip
    return out


def claims_markdown(rows: list[dict]) -> str:
    lines = ["| dataset | the paper's claim | paper ΔF1 | our ΔF1 (mean) | exact p (unit, n) |"
             " exact p per surgery (n; smallest) | verdict |",
             "|---|---|---:|---:|---|---|---|"]  # fmt: skip
    for r in rows:
        paper = "—" if r["paper"] is None else f"{r['paper']:+.4f}"
        ours = f"{r['difference']:+.4f}" if "difference" in r else "—"
        p = f"{r['p']:.3g} ({r['level']}, {r['pairs']})" if "p" in r else "—"
        ps = (f"{r['p_surgery']:.3g} ({r['surgeries']}; {r['smallest_p_surgery']:.3g})"
              if "p_surgery" in r else "—")  # fmt: skip
        lines.append(f"| {r['dataset']} | {r['claim']}: {r['experiment']} vs {r['reference']} |"
                     f" {paper} | {ours} | {p} | {ps} | {r['verdict']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


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
    if args.command == "collect":
        cvs = [(Path(v.rsplit("=", 1)[0]), v.rsplit("=", 1)[1].split(",")) for v in args.cv]
        labels = {v.split("=", 1)[0]: Path(v.split("=", 1)[1]) for v in args.labels}
        n = collect(cvs, args.into, labels, args.commit)
        print(f"collected {n} finished run(s) into {args.into}")
    else:
        tables(args.into, args.out, args.reference, args.keep)


if __name__ == "__main__":
    main()

"""The tables manifest: its schema, its reader and its writer, in one place.

A TOML file (UTF-8; paths relative to the manifest file)::

    radius = 6                 # ranking radius of Tables 1-3 (default 6)
    radii = [6, 8, 10]         # radii scored; Table 4 shows all of them

    [[dataset]]
    name = "A.1"
    title = "Cross-validation on OR data (A.1)"
    ground_truth = "data/A1"
    folds = "folds.csv"        # optional; default leave-one-folder-out

    [[dataset]]
    name = "A.2"
    ground_truth = "data/A2"
    selected_on = "A.1"        # Table 4 shows, for a test set, the experiment chosen on this
                               # cross-validation dataset (default: the only one there is)

    [[experiment]]
    name = "variant1-g3-s1"    # unique id
    model = "Variant 1"        # the "Experiment" column
    distribution = "gauss"     # gauss | tanh | binary
    sigma1 = 3                 # or alpha = 7 for tanh
    sigma2 = 1
      [[experiment.results]]
      dataset = "A.1"
      folds = { "20190319_aa5346" = "runs/v1/fold1/val", "20190320_aa6528" = "runs/v1/fold2/val" }
      [[experiment.results]]
      dataset = "A.2"
      runs = ["runs/v1/fold1/test", "runs/v1/fold2/test"]   # each scored on all frames

The whole file is checked before anything is scored: every key's type, the required keys, unique
dataset and experiment names, finite radii, known datasets. Any violation raises
:class:`ManifestError` naming the file and the key, e.g.
``manifest.toml: experiment[1].results[0].runs: must be an array of paths, found a string``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from adaptor_score import atomic
from adaptor_score.contract import RANKING_RADIUS
from adaptor_score.frames import InputFileError
from adaptor_score.safefiles import BadFile, read_toml

PARAM_KEYS = ("model", "distribution", "sigma1", "sigma2", "alpha", "variant")
_NUMERIC_PARAMS = ("sigma1", "sigma2", "alpha")
DISTRIBUTIONS = ("gauss", "gaussian", "tanh", "binary")


class ManifestError(InputFileError):
    """A manifest that cannot be used; names the file and the key."""


@dataclass
class Dataset:
    name: str
    title: str
    ground_truth: Path
    folds: Path | None = None
    selected_on: str | None = None  # for a test set: the dataset whose best experiment it shows


@dataclass
class Experiment:
    name: str
    params: dict
    # {"dataset", "kind": "folds" | "runs", "runs": {name: path}, "seed": training seed or None}
    results: list[dict]

    def label(self) -> str:
        return str(self.params.get("model") or self.name)


@dataclass
class Manifest:
    path: Path
    radius: float
    radii: list[float]
    datasets: dict[str, Dataset]
    experiments: list[Experiment]


def manifest_inputs(manifest: Manifest) -> dict[str, Path]:
    """Every tree a manifest reads (ground truths, fold files, run folders), keyed for messages:
    what a command that writes tables must not write into."""
    out: dict[str, Path] = {}
    for d in manifest.datasets.values():
        out[f"dataset {d.name} of {manifest.path}"] = d.ground_truth
        if d.folds is not None:
            out[f"folds of {d.name} in {manifest.path}"] = d.folds
    for e in manifest.experiments:
        for r in e.results:
            for name, run in r["runs"].items():
                out[f"run {e.name}/{r['dataset']}/{name} of {manifest.path}"] = Path(run)
    return out


def _type_name(v) -> str:
    return {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
    }.get(type(v), type(v).__name__)


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str):
        raise ManifestError(self.path, f"{key}: {problem}")

    def table(self, v, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(v, dict):
            self.fail(key, f"must be a table, found {_type_name(v)}")
        unknown = sorted(set(v) - allowed)
        if unknown:
            self.fail(
                key, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
            )
        for r in sorted(required):
            if r not in v:
                self.fail(f"{key}.{r}" if key else r, "is required")
        return v

    def array(self, v, key: str, of: str) -> list:
        if not isinstance(v, list):
            self.fail(key, f"must be an array of {of}, found {_type_name(v)}")
        return v

    def text(self, v, key: str) -> str:
        if not isinstance(v, str) or not v.strip():
            self.fail(key, f"must be a non-empty string, found {_type_name(v)} {v!r}"[:200])
        return v

    def number(self, v, key: str, low: float = 0.0) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(key, f"must be a number, found {_type_name(v)} {v!r}"[:200])
        if not math.isfinite(v) or v < low:
            self.fail(key, f"must be a finite number >= {low:g}, found {v}")
        return float(v)


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest; :class:`ManifestError` names the file and the first bad key."""
    path = Path(path)
    try:
        doc = read_toml(path, 16 << 20)
    except BadFile as e:
        raise ManifestError(path, str(e)) from None
    c = _Checker(path)
    base = path.parent
    c.table(doc, "", {"radius", "radii", "dataset", "experiment"}, {"dataset", "experiment"})
    radius = c.number(doc.get("radius", RANKING_RADIUS), "radius")
    radii = [
        c.number(r, f"radii[{i}]")
        for i, r in enumerate(c.array(doc.get("radii", [radius]), "radii", "numbers"))
    ]
    datasets: dict[str, Dataset] = {}
    for i, d in enumerate(c.array(doc["dataset"], "dataset", "[[dataset]] tables")):
        key = f"dataset[{i}]"
        c.table(
            d,
            key,
            {"name", "title", "ground_truth", "folds", "selected_on"},
            {"name", "ground_truth"},
        )
        name = c.text(d["name"], f"{key}.name")
        if name in datasets:
            c.fail(f"{key}.name", f"dataset {name!r} is defined twice")
        datasets[name] = Dataset(
            name=name,
            title=c.text(d.get("title", name), f"{key}.title"),
            ground_truth=base / c.text(d["ground_truth"], f"{key}.ground_truth"),
            folds=base / c.text(d["folds"], f"{key}.folds") if "folds" in d else None,
            selected_on=c.text(d["selected_on"], f"{key}.selected_on")
            if "selected_on" in d
            else None,
        )
    if not datasets:
        c.fail("dataset", "needs at least one [[dataset]]")
    for i, d in enumerate(datasets.values()):
        if d.selected_on is not None and d.selected_on not in datasets:
            c.fail(f"dataset[{i}].selected_on", f"unknown dataset {d.selected_on!r}")
    experiments: list[Experiment] = []
    seen: set[str] = set()
    for i, e in enumerate(c.array(doc["experiment"], "experiment", "[[experiment]] tables")):
        key = f"experiment[{i}]"
        c.table(e, key, {"name", "results", *PARAM_KEYS}, {"name"})
        name = c.text(e["name"], f"{key}.name")
        if name in seen:
            c.fail(f"{key}.name", f"experiment {name!r} is defined twice")
        seen.add(name)
        params = {}
        for k in PARAM_KEYS:
            if k not in e:
                continue
            if k in _NUMERIC_PARAMS:
                params[k] = c.number(e[k], f"{key}.{k}")
            elif k == "variant" and isinstance(e[k], int) and not isinstance(e[k], bool):
                params[k] = e[k]
            else:
                params[k] = c.text(e[k], f"{key}.{k}")
        if "distribution" in params and params["distribution"].lower() not in DISTRIBUTIONS:
            c.fail(f"{key}.distribution", f"must be one of {', '.join(DISTRIBUTIONS)}")
        results = []
        for j, r in enumerate(c.array(e.get("results", []), f"{key}.results", "tables")):
            rkey = f"{key}.results[{j}]"
            c.table(r, rkey, {"dataset", "folds", "runs", "seed"}, {"dataset"})
            seed = None
            if "seed" in r:  # the training seed of these runs: several seeds, one experiment
                if not isinstance(r["seed"], int) or isinstance(r["seed"], bool):
                    c.fail(f"{rkey}.seed", f"must be an integer, found {_type_name(r['seed'])}")
                seed = r["seed"]
            ds = c.text(r["dataset"], f"{rkey}.dataset")
            if ds not in datasets:
                c.fail(
                    f"{rkey}.dataset", f"unknown dataset {ds!r} (defined: {', '.join(datasets)})"
                )
            if ("folds" in r) == ("runs" in r):
                c.fail(rkey, "give either folds = { fold = path } or runs = [paths]")
            if "folds" in r:
                folds = r["folds"]
                if not isinstance(folds, dict):
                    c.fail(
                        f"{rkey}.folds",
                        f"must be a table {{ fold = path }}, found {_type_name(folds)}",
                    )
                if not folds:
                    c.fail(f"{rkey}.folds", "is empty")
                runs = {str(k): base / c.text(v, f"{rkey}.folds.{k}") for k, v in folds.items()}
                results.append({"dataset": ds, "kind": "folds", "runs": runs, "seed": seed})
            else:
                paths = c.array(r["runs"], f"{rkey}.runs", "paths")
                if not paths:
                    c.fail(f"{rkey}.runs", "is empty")
                runs = {
                    f"run{n + 1}": base / c.text(v, f"{rkey}.runs[{n}]")
                    for n, v in enumerate(paths)
                }
                results.append({"dataset": ds, "kind": "runs", "runs": runs, "seed": seed})
        experiments.append(Experiment(name, params, results))
    if not experiments:
        c.fail("experiment", "needs at least one [[experiment]]")
    radii = sorted(set(radii) | {radius})
    return Manifest(path, radius, radii, datasets, experiments)


def merge_manifests(manifests: list[Manifest], path: str | Path) -> Manifest:
    """One manifest from several (say an intraop sweep with A.1 and A.2 and a simulator sweep
    with B.1), so that one set of tables holds every dataset. Dataset names must differ; an
    experiment that appears in several keeps all its results when its parameters agree; the
    ranking radius must agree; the radii are united.

    Raises :class:`ManifestError` naming the manifests that disagree.
    """
    if not manifests:
        raise ManifestError(path, "no manifest to merge")
    first = manifests[0]
    datasets: dict[str, Dataset] = {}
    source: dict[str, Path] = {}
    experiments: dict[str, Experiment] = {}
    radii: set[float] = set()
    for m in manifests:
        if m.radius != first.radius:
            raise ManifestError(
                m.path, f"radius {m.radius:g} differs from {first.path}'s {first.radius:g}"
            )
        radii |= set(m.radii)
        for name, d in m.datasets.items():
            if name in datasets:
                raise ManifestError(
                    m.path,
                    f"dataset {name!r} is also in {source[name]}: give each a distinct name"
                    " (adaptor-baseline cv --name/--test-name)",
                )
            datasets[name], source[name] = d, m.path
        for e in m.experiments:
            if e.name not in experiments:
                experiments[e.name] = Experiment(e.name, dict(e.params), list(e.results))
            elif experiments[e.name].params != e.params:
                raise ManifestError(
                    m.path,
                    f"experiment {e.name!r} has other parameters than in an earlier manifest",
                )
            else:
                experiments[e.name].results.extend(e.results)
    return Manifest(Path(path), first.radius, sorted(radii), datasets, list(experiments.values()))


# ----------------------------------------------------------------------------- writing


def _q(value) -> str:
    """A TOML basic string (JSON's string escaping is valid TOML)."""
    return json.dumps(str(value))


def _num(v) -> str:
    return repr(float(v)) if isinstance(v, float) else str(v)


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to the manifest's folder when it can be (so the tree can move)."""
    try:
        return os.path.relpath(Path(path).resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())


def manifest_text(manifest: Manifest) -> str:
    """The TOML text of ``manifest``, paths relative to ``manifest.path``'s folder."""
    base = manifest.path.parent
    lines = [
        f"radius = {_num(manifest.radius)}",
        f"radii = [{', '.join(_num(r) for r in manifest.radii)}]",
    ]
    for d in manifest.datasets.values():
        lines += ["", "[[dataset]]", f"name = {_q(d.name)}", f"title = {_q(d.title)}"]
        lines.append(f"ground_truth = {_q(_rel(d.ground_truth, base))}")
        if d.folds is not None:
            lines.append(f"folds = {_q(_rel(d.folds, base))}")
        if d.selected_on is not None:
            lines.append(f"selected_on = {_q(d.selected_on)}")
    for e in manifest.experiments:
        lines += ["", "[[experiment]]", f"name = {_q(e.name)}"]
        for k, v in e.params.items():
            lines.append(f"{k} = {_q(v)}" if isinstance(v, str) else f"{k} = {_num(v)}")
        for r in e.results:
            lines += ["[[experiment.results]]", f"dataset = {_q(r['dataset'])}"]
            if r.get("seed") is not None:
                lines.append(f"seed = {int(r['seed'])}")
            if r["kind"] == "folds":
                folds = ", ".join(f"{_q(k)} = {_q(_rel(v, base))}" for k, v in r["runs"].items())
                lines.append(f"folds = {{ {folds} }}")
            else:
                runs = ", ".join(_q(_rel(v, base)) for v in r["runs"].values())
                lines.append(f"runs = [{runs}]")
    return "\n".join(lines) + "\n"


def write_manifest(manifest: Manifest) -> Path:
    """Write ``manifest`` to ``manifest.path``; it reads back equal (tested)."""
    atomic.write_text(manifest.path, manifest_text(manifest))
    return manifest.path

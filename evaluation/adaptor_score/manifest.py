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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from adaptor_score import atomic
from adaptor_score.contract import MAX_RADIUS, RANKING_RADIUS
from adaptor_score.frames import InputFileError
from adaptor_score.schemas import NonNegative, Radius, Text, decode

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


class _Results(msgspec.Struct, forbid_unknown_fields=True):
    dataset: Text
    folds: dict[str, Text] | None = None
    runs: list[Text] | None = None
    seed: int | None = None


class _Dataset(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    ground_truth: Text
    title: Text | None = None
    folds: Text | None = None
    selected_on: Text | None = None


class _Experiment(msgspec.Struct, forbid_unknown_fields=True):
    name: Text
    results: list[_Results] = []
    model: Text | None = None
    distribution: Literal[DISTRIBUTIONS] | None = None  # type: ignore[valid-type]
    sigma1: NonNegative | None = None
    sigma2: NonNegative | None = None
    alpha: NonNegative | None = None
    variant: Text | int | None = None


class _Manifest(msgspec.Struct, forbid_unknown_fields=True):
    dataset: list[_Dataset]
    experiment: list[_Experiment]
    radius: Radius = RANKING_RADIUS
    radii: list[Radius] | None = None


_HINTS = {
    "runs": "an array of paths",
    "radii": "an array of numbers",
    "radius": f"between 0 and {MAX_RADIUS:g} px (the frame's diagonal)",
    "dataset": "an array of [[dataset]] tables",
    "experiment": "an array of [[experiment]] tables",
    "results": "an array of [[experiment.results]] tables",
    "folds": "a table { fold = path }",
    "distribution": f"one of {', '.join(DISTRIBUTIONS)}",
}


def _result(r: _Results, rkey: str, datasets: dict, base: Path, fail) -> dict:
    """One ``[[experiment.results]]`` table as the scorer reads it."""
    if r.dataset not in datasets:
        fail(f"{rkey}.dataset", f"unknown dataset {r.dataset!r} (defined: {', '.join(datasets)})")
    if (r.folds is None) == (r.runs is None):
        fail(rkey, "give either folds = { fold = path } or runs = [paths]")
    if r.folds is not None:
        if not r.folds:
            fail(f"{rkey}.folds", "is empty")
        runs = {str(k): base / v for k, v in r.folds.items()}
        return {"dataset": r.dataset, "kind": "folds", "runs": runs, "seed": r.seed}
    if not r.runs:
        fail(f"{rkey}.runs", "is empty")
    runs = {f"run{n + 1}": base / v for n, v in enumerate(r.runs)}
    return {"dataset": r.dataset, "kind": "runs", "runs": runs, "seed": r.seed}


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a manifest; :class:`ManifestError` names the file and the first bad key.

    The shape (types, required keys, bounds, no unknown keys) is the declared schema above,
    checked by msgspec (:mod:`adaptor_score.schemas`); unique names and references between
    tables are checked here.
    """
    path = Path(path)
    doc = decode(path, _Manifest, ManifestError, 16 << 20, _HINTS)

    def fail(key: str, problem: str):
        raise ManifestError(path, f"{key}: {problem}")

    base = path.parent
    datasets: dict[str, Dataset] = {}
    for i, d in enumerate(doc.dataset):
        if d.name in datasets:
            fail(f"dataset[{i}].name", f"dataset {d.name!r} is defined twice")
        datasets[d.name] = Dataset(
            d.name, d.title or d.name, base / d.ground_truth,
            base / d.folds if d.folds is not None else None, d.selected_on,
        )  # fmt: skip
    if not datasets:
        fail("dataset", "needs at least one [[dataset]]")
    for i, d in enumerate(datasets.values()):
        if d.selected_on is not None and d.selected_on not in datasets:
            fail(f"dataset[{i}].selected_on", f"unknown dataset {d.selected_on!r}")
    experiments: list[Experiment] = []
    for i, e in enumerate(doc.experiment):
        key = f"experiment[{i}]"
        if any(x.name == e.name for x in experiments):
            fail(f"{key}.name", f"experiment {e.name!r} is defined twice")
        params = {k: getattr(e, k) for k in PARAM_KEYS if getattr(e, k) is not None}
        for k in _NUMERIC_PARAMS:
            if k in params:
                params[k] = float(params[k])
        results = [
            _result(r, f"{key}.results[{j}]", datasets, base, fail) for j, r in enumerate(e.results)
        ]
        experiments.append(Experiment(e.name, params, results))
    if not experiments:
        fail("experiment", "needs at least one [[experiment]]")
    radii = sorted(set(doc.radii if doc.radii is not None else [doc.radius]) | {doc.radius})
    return Manifest(path, float(doc.radius), [float(r) for r in radii], datasets, experiments)


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

"""Experiments and sweep files: what ``adaptor-baseline cv`` trains.

A sweep file (TOML) lists experiments, each a preset plus overrides::

    [[experiment]]
    name = "variant1-g2-s1"
    config = "variant1"        # baseline | variant1 | variant2 | path/to/config.json
    sigma1 = 2
    sigma2 = 1

Every field of the configuration can be set, by the keys of :data:`adaptor_baseline.config.FIELDS`
(the command line's options without the dashes). Options given next to ``--sweep`` apply to every
experiment; a value in the sweep file wins over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adaptor_baseline.config import FIELDS, TrainConfig, overrides_from, preset, with_overrides
from adaptor_score.pathguard import PathError, check_name
from adaptor_score.schemas import Text, decode


@dataclass
class Experiment:
    name: str
    config: TrainConfig
    seed: int | None = None  # set when the sweep runs several training seeds (cv --seeds)

    def with_seed(self, seed: int) -> Experiment:
        """This experiment trained with ``seed`` (its own folder: ``<name>/seed-<seed>``)."""
        return Experiment(self.name, with_overrides(self.config, seed=seed), seed)

    def params(self) -> dict:
        """Columns for the paper's tables."""
        return params_of(self.config)


def params_of(c: TrainConfig) -> dict:
    """The tables' columns (model, distribution, sigma1 or alpha, sigma2) of a configuration."""
    model = {"baseline": "Baseline", "variant1": "Variant 1", "variant2": "Variant 2"}[
        c.model.variant
    ]
    p = {"model": model, "variant": c.model.variant, "distribution": c.target.distribution}
    if c.target.distribution == "tanh":
        from adaptor_baseline.codec import TANH_ALPHA_PER_SIGMA  # the codec's default, not a copy

        p["alpha"] = (
            c.target.alpha if c.target.alpha is not None else TANH_ALPHA_PER_SIGMA * c.target.sigma1
        )
    else:
        p["sigma1"] = c.target.sigma1
    if c.model.variant != "baseline":
        p["sigma2"] = c.model.sigma2
    return p


def experiment_from(name: str, config: str, overrides: dict) -> Experiment:
    """A preset (or config.json) plus ``{key: value}`` overrides by :data:`FIELDS` keys."""
    cfg = TrainConfig.load(config) if config.endswith(".json") else preset(config)
    try:
        cfg = with_overrides(cfg, **overrides_from(overrides))
    except ValueError as e:
        raise ValueError(f"experiment {name}: {e}") from None
    cfg.name = name
    return Experiment(name, cfg)


def _sweep_schema():
    """A sweep file's declared shape: ``[[experiment]]`` tables with a name, a preset or
    ``config.json``, and any field of :data:`FIELDS` by its key, typed from the dataclasses."""
    import msgspec

    fields = [("name", Text), ("config", Text, "variant1")]
    fields += [(k, f.type | None, None) for k, f in FIELDS.items()]
    entry = msgspec.defstruct("SweepExperiment", fields, forbid_unknown_fields=True)
    return msgspec.defstruct("Sweep", [("experiment", list[entry], [])], forbid_unknown_fields=True)


def _sweep_wording(kind: str, key: str, problem: str) -> str:
    if kind == "unknown":
        names = problem.removeprefix("unknown key(s) ").split(" (")[0]
        return f"{key}: unknown setting(s) {names}; settable: {', '.join(FIELDS)}"
    return f"{key}: {problem}" if key else problem


def load_sweep(path: str | Path, defaults: dict | None = None) -> list[Experiment]:
    """Experiments of a sweep file; ``defaults`` (keys of :data:`FIELDS`, e.g. the command line's
    options) apply to every experiment unless the experiment sets the key itself.

    The file's shape is declared (:func:`_sweep_schema`, checked by msgspec): keys, types; the
    ranges are the configuration's own check (:func:`adaptor_baseline.config.validate`), as for
    every other way a configuration enters."""
    doc = decode(path, _sweep_schema(), lambda p, text: ValueError(f"{p}: {text}"),
                 hints={"experiment": "an array of [[experiment]] tables"},
                 wording=_sweep_wording)  # fmt: skip
    out: list[Experiment] = []
    for i, e in enumerate(doc.experiment):
        if any(x.name == e.name for x in out):
            raise ValueError(f"{path}: each [[experiment]] needs a unique name (got {e.name!r})")
        try:
            check_name(e.name, "experiment")  # it becomes a folder under --out
        except PathError as err:
            raise ValueError(f"{path}: experiment[{i}].name: {err}") from None
        given = {k: getattr(e, k) for k in FIELDS if getattr(e, k) is not None}
        try:
            out.append(experiment_from(e.name, e.config, {**(defaults or {}), **given}))
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}: {err}") from None
    if not out:
        raise ValueError(f"{path}: no [[experiment]] entries")
    return out

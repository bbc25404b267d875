"""Typed configurations, saved as JSON next to every checkpoint (timm / nnU-Net style).

Named presets: ``baseline`` (the older model [24]: U-Net alone, MSE + 1 - Dice), ``variant1``
(Gaussian layer and soft-argmax, MSE + 1 - Dice at both stages) and ``variant2`` (second stage
1 - F_beta, beta = 2, against binary masks). Any field can be overridden.

Plain data: this module imports neither torch nor kornia, so reading a config, a sweep or
listing jobs costs no framework start-up. :data:`FIELDS` is the one table of settable fields,
shared by the command line (``--sigma1``) and sweep files (``sigma1 = 3``): every leaf field of
:class:`TrainConfig`, by its short name where that is unique, else by its dotted path.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

from adaptor_score import atomic
from adaptor_score.contract import FRAME_SIZE
from adaptor_score.frames import InputFileError
from adaptor_score.safefiles import BadFile, read_text

Variant = Literal["baseline", "variant1", "variant2"]


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each augmentation (the paper's values by default)."""

    p: float = 0.5
    hflip: bool = True
    vflip: bool = True
    degrees: float = 60.0
    translate: float = 0.1
    shear: float = 0.1
    pixel_shift: float = 0.01  # per-channel offset, fraction of the value range (the paper's 1 %)
    brightness: float = 0.2  # factor 1 +- this, multiplied
    contrast: tuple[float, float] | None = (0.3, 1.5)  # factor range, blended with the grey mean
    saturation: tuple[float, float] | None = (0.5, 2.0)
    hue: float = 0.1


@dataclass
class ModelConfig:
    """The network and its two layers; defaults are the authors' (docs/baseline.md, the fidelity table)."""

    variant: Variant = "variant1"
    architecture: Literal["authors", "symmetric"] = "authors"
    width: int = 16
    depth: int = 4
    dropout: float | None = None  # None: the architecture's own (authors: 0.3-0.5 per level)
    head_prior: float | None = None  # None: zero output bias; e.g. -4: foreground prior 0.018
    sigma2: float = 1.0
    gaussian_size: int = 3  # the authors' 3 x 3 kernel; 0: 2 * ceil(3 sigma2) + 1
    gaussian_border: Literal["reflect", "constant"] = "reflect"
    temperature: float = 1.0
    softargmax_mode: Literal["value", "suppress"] = "value"
    # "centred": (x - 0.5) / 0.25 before the U-Net (ours, every run so far); "raw": the authors'
    # [0, 1] input. Not interchangeable: batch norm follows the first convolution's ReLU, and the
    # same weights' outputs on the two inputs barely correlate (benchmarks/bench_input_scaling.py).
    input_scaling: Literal["centred", "raw"] = "centred"
    # Dice / F_beta per image, averaged ("image", ours so far) or over the whole batch ("batch",
    # the authors' code); model/losses.py says why it matters on crops.
    loss_over: Literal["image", "batch"] = "image"


@dataclass
class TargetConfig:
    distribution: Literal["gaussian", "tanh", "binary"] = "gaussian"
    sigma1: float = 2.0
    alpha: float | None = None  # tanh; default 3.5 * sigma1
    binary_radius: float = 0.0  # Variant 2's stage-2 masks: 0 = the single nearest pixel
    threshold: float = 0.5
    combine: Literal["sum", "max"] = "sum"  # overlapping targets: add and cut at 1 (authors')


@dataclass
class TrainConfig:
    """Everything a training run depends on."""

    name: str = "variant1"
    model: ModelConfig = field(default_factory=ModelConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    input_size: tuple[int, int] = FRAME_SIZE  # (width, height) the network sees
    crop: tuple[int, int] | None = None  # train on random crops of this size (full frames if None)
    crop_foreground: float = 0.0  # share of crops placed around a label (batches.random_crops)
    epochs: int = 30  # the authors' (the paper is silent)
    steps_per_epoch: int | None = None  # None: one pass over the training frames
    # The held-out fold is evaluated for the log after every val_every-th epoch and the last (0:
    # never during training; the run is scored after it either way). Nothing reads the log,
    # so this changes no weight (tested); it only saves time on short runs.
    val_every: int = 1
    batch_size: int = 1  # the authors' (the paper is silent)
    lr: float = 1e-3
    schedule: Literal["plateau", "cosine"] = "plateau"  # the authors'; see optim.py
    plateau_factor: float = 0.1
    plateau_patience: int = 10
    warmup_steps: int = 0  # cosine: batches of linear warm-up
    min_lr_ratio: float = 0.01  # cosine: the last batch's rate as a share of lr
    ema_decay: float | None = None  # keep an average of the weights; None: the last weights
    seed: int = 0
    workers: int = 0
    threads: int | None = None  # CPU threads (None: torch's default); fixed for repeatable runs
    amp: bool = True  # mixed precision, used on CUDA only
    cache_images: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        atomic.write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """A configuration from plain data, checked field by field (:func:`validate`): every way
        a configuration enters (options, presets, sweep tables, JSON files, saved run folders)
        comes through here."""
        if not isinstance(d, dict):
            raise ValueError(f"a configuration is a table of settings, not {type(d).__name__}")
        return validate(_build(cls, d))

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """A ``config.json``; :class:`ConfigError` naming the file when it cannot be used."""
        try:
            doc = json.loads(read_text(path, 1 << 20))
            return cls.from_dict(doc)
        except BadFile as e:
            raise ConfigError(path, str(e)) from None
        except (ValueError, TypeError, RecursionError) as e:  # JSONDecodeError is a ValueError
            raise ConfigError(path, f"not a usable configuration: {e}") from None


class ConfigError(InputFileError):
    """A configuration file that cannot be used; names the file."""


def _build(kind, d: dict):
    if not isinstance(d, dict):
        raise ValueError(f"{kind.__name__} must be a table of settings, not {type(d).__name__}")
    known = {f.name: f for f in fields(kind)}
    unknown = set(d) - set(known)
    if unknown:
        raise ValueError(f"unknown {kind.__name__} fields: {', '.join(sorted(unknown))}")
    kwargs = {}
    for name, value in d.items():
        default = getattr(kind(), name) if name in known else None
        if is_dataclass(default):
            value = _build(type(default), value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return kind(**kwargs)


PRESETS = ("baseline", "variant1", "variant2")


def preset(name: str) -> TrainConfig:
    """A named configuration (see the module docstring)."""
    if name == "baseline":
        return TrainConfig(name="baseline", model=ModelConfig(variant="baseline"))
    if name == "variant1":
        return TrainConfig(name="variant1", model=ModelConfig(variant="variant1"))
    if name == "variant2":
        return TrainConfig(name="variant2", model=ModelConfig(variant="variant2"))
    raise ValueError(f"unknown configuration {name!r}; presets: {', '.join(PRESETS)}")


def config_diff(a: TrainConfig | dict, b: TrainConfig | dict, prefix: str = "") -> list[str]:
    """Dotted paths of the fields that differ between two configurations (lists and tuples
    compare equal when their items do, as JSON round trips turn one into the other).

    >>> config_diff(preset("variant1"), with_overrides(preset("variant1"), **{"target.sigma1": 3}))
    ['target.sigma1']
    """
    a = a.to_dict() if isinstance(a, TrainConfig) else a
    b = b.to_dict() if isinstance(b, TrainConfig) else b
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += config_diff(va, vb, f"{prefix}{k}.")
        elif (list(va) if isinstance(va, (list, tuple)) else va) != (
            list(vb) if isinstance(vb, (list, tuple)) else vb
        ):
            out.append(prefix + k)
    return out


def with_overrides(cfg: TrainConfig, **overrides) -> TrainConfig:
    """Set dotted fields, e.g. ``with_overrides(cfg, **{"target.sigma1": 3, "epochs": 5})``."""
    d = cfg.to_dict()
    for key, value in overrides.items():
        if value is None:
            continue
        node = d
        *path, last = key.split(".")
        for p in path:
            node = node[p]
        if last not in node:
            raise ValueError(f"unknown configuration field {key!r}")
        node[last] = value
    return TrainConfig.from_dict(d)


# ----------------------------------------------------------------------------- the field table


@dataclass(frozen=True)
class Field:
    """One settable leaf field: its key (CLI option and sweep key), dotted path and type."""

    key: str
    path: str
    type: object
    doc: str = ""


def _leaves(kind, prefix: str = "") -> list[tuple[str, object]]:
    hints = get_type_hints(kind)
    out = []
    for f in fields(kind):
        hint = hints[f.name]
        if is_dataclass(hint):
            out += _leaves(hint, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, hint))
    return out


def _field_table() -> dict[str, Field]:
    leaves = _leaves(TrainConfig)
    shorts = [path.rsplit(".", 1)[-1] for path, _ in leaves]
    table = {}
    for (path, hint), short in zip(leaves, shorts):
        if path == "name":
            continue  # the experiment's name, not a setting
        if path.startswith("augment."):
            key = "aug_" + short  # "p", "hue" alone would say nothing on a command line
        else:
            key = short if shorts.count(short) == 1 else path.replace(".", "_")
        table[key] = Field(key, path, hint)
    return table


FIELDS: dict[str, Field] = _field_table()


def base_type(hint):
    """``float`` for ``float | None``, the Literal itself for a Literal, ``tuple`` for tuples."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) is Literal:
        return hint
    if args and get_origin(hint) is not tuple and len(args) == 1:
        return base_type(args[0])
    return hint


# The settable numbers' ranges, by key: the command line's option types and the check of a sweep
# file's values both read them. Other integers are at least 0; other floats only finite.
# Architecture fields have upper bounds too: a model file from a stranger states its own config,
# and width 100000 or depth 60 asked for hundreds of GB before any weight was compared.
BOUNDS: dict[str, tuple[float, float | None]] = {
    "width": (1, 256),
    "depth": (1, 8),  # 2^8 = 256: deeper halves a 512 x 288 frame below one pixel
    "sigma2": (0, 20),  # the Gaussian layer's kernel stays within 2 * ceil(3 * 20) + 1 = 121 px
    "gaussian_size": (0, 129),
    "temperature": (1e-3, 1e3),
    "sigma1": (0, 64),
    "epochs": (1, None),
    "steps_per_epoch": (1, None),
    "batch_size": (1, None),
    "crop_foreground": (0, 1),  # a share of the crops
    "min_lr_ratio": (0, 1),
    "ema_decay": (0, 0.99999),
    "threads": (1, 1024),
}


def bounds(field: Field) -> tuple[float | None, float | None]:
    """``(low, high)`` of a numeric field (``None``: open)."""
    if field.key in BOUNDS:
        return BOUNDS[field.key]
    return (0, None) if base_type(field.type) is int else (None, None)


def _check_range(field: Field, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise ValueError(f"{field.key} must be a finite number (got {value!r})")
    low, high = bounds(field)
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{field.key} must be {span} (got {value!r})")


def overrides_from(values: dict, where: str = "") -> dict:
    """Dotted overrides from ``{key: value}`` (CLI or sweep keys); unknown keys raise. Types and
    :data:`BOUNDS` are checked once, where every configuration is built (:func:`validate`)."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"{where}unknown setting(s) {', '.join(unknown)}; settable: {', '.join(FIELDS)}"
        )
    return {FIELDS[k].path: v for k, v in values.items()}


def _check_type(key: str, hint, value) -> None:
    """``value`` fits the annotation ``hint`` (Optional, Literal, bool, int, float, str, tuples)."""
    args = get_args(hint)
    if get_origin(hint) is Literal:
        if value not in args:
            raise ValueError(f"{key} must be one of {', '.join(map(repr, args))} (got {value!r})")
        return
    if type(None) in args and get_origin(hint) is not tuple:
        if value is None:
            return
        rest = [a for a in args if a is not type(None)]
        return _check_type(key, rest[0] if len(rest) == 1 else hint, value)
    if get_origin(hint) is tuple:
        if not isinstance(value, (tuple, list)) or len(value) != len(args):
            raise ValueError(f"{key} must be {len(args)} numbers (got {value!r})")
        for a, v in zip(args, value):
            _check_type(key, a, v)
        return
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }.get(hint)
    if ok is not None and not ok(value):
        name = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}[hint]
        raise ValueError(f"{key} must be {name} (got {value!r})")
    if hint is float and not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number (got {value!r})")


# Tuple settings whose numbers must be positive (sizes in pixels, factor ranges); sizes in pixels
# at most MAX_SIDE (eight times a frame's width).
_POSITIVE_TUPLES = ("input_size", "crop", "contrast", "saturation")
_SIZES = ("input_size", "crop")
MAX_SIDE = 4096


def validate(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` if every field has its annotated type and lies in its :data:`BOUNDS`; else
    ``ValueError`` naming the field. Seen before this check: a sweep entry's ``config.json`` with
    ``lr = nan`` or ``batch_size = 0`` was accepted while the same values in the sweep were
    refused, and a width of ``"abc"`` ended in a ``TypeError`` deep in the model."""
    if not isinstance(cfg.name, str):
        raise ValueError(f"name must be text (got {cfg.name!r})")
    d = cfg.to_dict()
    for f in FIELDS.values():
        node = d
        for part in f.path.split("."):
            node = node[part]
        _check_type(f.key, f.type, node)
        if isinstance(node, (tuple, list)):
            if f.key in _POSITIVE_TUPLES and any(v <= 0 for v in node):
                raise ValueError(f"{f.key} must be positive numbers (got {node!r})")
            if f.key in _SIZES and any(v > MAX_SIDE for v in node):
                raise ValueError(f"{f.key} must be at most {MAX_SIDE} pixels (got {node!r})")
        elif node is not None:
            _check_range(f, node)
    return cfg

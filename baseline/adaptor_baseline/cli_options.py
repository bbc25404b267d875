"""Command-line options shared by ``adaptor-baseline train`` and ``cv``: a preset plus one
option per configuration field (:data:`adaptor_baseline.config.FIELDS`, the same keys as a sweep
file), typed from the dataclass annotations, and the data, folds and output options."""

from __future__ import annotations

from pathlib import Path

import click

from adaptor_score.cli_common import FiniteFloat

_HELP = {
    "sigma1": "Target spread (Gaussian sigma_1).",
    "alpha": "Tanh spread (default 3.5 sigma_1).",
    "sigma2": "Gaussian layer sigma_2.",
    "temperature": "Soft-argmax temperature.",
    "width": "U-Net channels at the first level.",
    "input_size": "WIDTH HEIGHT the network sees.",
    "crop": "Train on random WIDTH HEIGHT crops.",
    "crop_foreground": "Share of crops placed around a label (0: all uniform).",
    "workers": "DataLoader workers.",
}


def _click_option(field):
    """A click option for one :data:`FIELDS` entry, typed from the dataclass annotation."""
    from typing import Literal, get_args, get_origin

    from adaptor_baseline.config import base_type, bounds

    name = "--" + field.key.replace("_", "-")
    hint = base_type(field.type)
    help_ = _HELP.get(field.key, f"Sets {field.path}.")
    if hint is bool:
        return click.option(f"{name}/--no-{name[2:]}", field.key, default=None, help=help_)
    if get_origin(hint) is Literal:
        return click.option(name, field.key, type=click.Choice(get_args(hint)), help=help_)
    if get_origin(hint) is tuple:
        kinds = tuple(FiniteFloat() if a is float else a for a in get_args(hint))
        return click.option(name, field.key, type=kinds, help=help_)
    low, high = bounds(field)
    if hint is int:
        return click.option(name, field.key, type=click.IntRange(low, high), help=help_)
    return click.option(name, field.key, type=FiniteFloat(low, high), help=help_)


def config_options(f):
    """Options shared by train and cv: a preset plus an override of any of its fields (the same
    keys as a sweep file, see adaptor_baseline.config.FIELDS)."""
    from adaptor_baseline.config import FIELDS

    for field in reversed(list(FIELDS.values())):
        f = _click_option(field)(f)
    return click.option(
        "--config",
        "config_name",
        default="variant1",
        show_default=True,
        help="Preset (baseline, variant1, variant2) or a config.json file.",
    )(f)


def options_given(overrides: dict) -> dict:
    """The options the user gave (click passes None for the others)."""
    return {k: v for k, v in overrides.items() if v is not None}


def build_config(config_name: str, **overrides):
    """The preset (or ``config.json``) ``config_name`` with the options the user gave."""
    from adaptor_baseline.config import TrainConfig, overrides_from, preset, with_overrides

    cfg = TrainConfig.load(config_name) if config_name.endswith(".json") else preset(config_name)
    return with_overrides(cfg, **overrides_from(options_given(overrides)))


DATA_OPTION = click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A labelled dataset in the AdaptOR layout.",
)
FOLDS_OPTION = click.option(
    "--folds",
    "folds_spec",
    help="folder (default), groups:K, preset:published, splits:DIR (the authors' split files,"
    " one *.txt per fold) or a fold CSV.",
)
OUT_OPTION = click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path)
)


def spec_path(spec: str | None) -> str | None:
    """The file or folder a ``--folds`` spec reads (None for generated folds)."""
    if not spec or spec == "folder" or spec.startswith(("groups:", "preset:")):
        return None
    return spec.split(":", 1)[1] if spec.startswith("splits:") else spec


def json_config(config_name: str) -> str | None:
    """The file a ``--config`` names (None for a preset)."""
    return config_name if config_name.endswith(".json") else None


def option_args(config_name: str, options: dict) -> list[str]:
    """The command-line options that reproduce ``--config`` and the given overrides
    (the inverse of :func:`config_options`, for the job lists of ``cv``)."""
    args = [] if config_name == "variant1" else ["--config", config_name]
    for key, value in options.items():
        name = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            args.append(name if value else f"--no-{name[2:]}")
        elif isinstance(value, (tuple, list)):
            args += [name, *(repr(v) if isinstance(v, float) else str(v) for v in value)]
        else:
            args += [name, repr(value) if isinstance(value, float) else str(value)]
    return args

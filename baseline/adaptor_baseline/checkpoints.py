"""Run folders, checkpoints and devices: what training writes and prediction reads.

A run folder holds ``config.json``, ``checkpoint.pt`` (model, optimiser and scheduler state, the
epoch and the config; written atomically every epoch, for ``--resume``) and ``model.pt`` (final
weights and config). Both training and prediction use this module; neither imports the other's
internals.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from adaptor_baseline.config import TrainConfig
from adaptor_baseline.model.detector import SutureDetector
from adaptor_score import atomic
from adaptor_score.frames import InputFileError
from adaptor_score.safefiles import BadFile, open_regular

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given, else CUDA when available, else CPU (CUDA is never touched then)."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a checkpoint."""
    atomic.write_with(path, lambda tmp: torch.save(obj, tmp))


class CheckpointError(InputFileError):
    """A model or checkpoint file that cannot be used; nothing of it was run."""


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """A checkpoint dict with at least ``model`` and ``config``; errors name the file.

    Loaded with ``weights_only=True``: only tensors and plain data (dicts, lists, numbers,
    strings) are rebuilt, so a crafted file cannot run code; a file that needs anything else is
    refused. Every run folder this toolkit has written holds only such data.
    """
    path = Path(path)
    try:
        fd, _ = open_regular(path)  # a FIFO named model.pt is refused, not waited on
    except BadFile as e:
        raise CheckpointError(path, str(e)) from None
    try:
        with os.fdopen(fd, "rb") as f:
            ck = torch.load(f, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        raise CheckpointError(
            path,
            "refused: it holds objects other than tensors and plain data, which could run code"
            f" when loaded ({first})",
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError, AttributeError, KeyError) as e:
        raise CheckpointError(path, f"cannot read the checkpoint ({e})") from None
    if not isinstance(ck, dict) or "model" not in ck or "config" not in ck:
        raise CheckpointError(
            path, "not an adaptor-baseline checkpoint (needs 'model' and 'config')"
        )
    if not isinstance(ck["model"], dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in ck["model"].items()
    ):
        raise CheckpointError(path, "'model' is not a state dict of named tensors")
    if not isinstance(ck["config"], dict):
        raise CheckpointError(path, "'config' is not a table of settings")
    for name, tensor in ck["model"].items():  # NaN weights predict nothing, silently
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(path, f"weight {name!r} holds {bad} value(s) that are not"
                                        " finite (NaN or infinity); not a usable model")  # fmt: skip
    return ck


def check_shapes(path: Path, model_config, state: dict) -> None:
    """The weights' names and shapes against the network ``model_config`` describes, built on
    PyTorch's meta device (no memory) before the real network is: a config claiming another
    network is refused naming the file and the first difference."""
    with torch.device("meta"):
        want = {k: tuple(v.shape) for k, v in SutureDetector(model_config).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing, unexpected = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    if missing or unexpected:
        what = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
        raise CheckpointError(path, f"the weights do not fit its configuration: {what}"
                                    f" ({len(missing)} missing, {len(unexpected)} unexpected)")  # fmt: skip
    for k, shape in want.items():
        if got[k] != shape:
            raise CheckpointError(path, f"the weights do not fit its configuration: {k!r} has"
                                        f" shape {list(got[k])}, the configuration {list(shape)}")  # fmt: skip


def weights_file(weights: str | Path) -> Path:
    """``model.pt``, else ``checkpoint.pt``, of a run folder; a file is itself."""
    path = Path(weights)
    if path.is_dir():
        path = path / MODEL if (path / MODEL).exists() else path / CHECKPOINT
    if not path.exists():
        raise CheckpointError(path, "no weights found (model.pt or checkpoint.pt)")
    return path


def load_model(
    weights: str | Path, device: torch.device | str = "cpu"
) -> tuple[SutureDetector, TrainConfig]:
    """A trained model (eval mode) and its config from ``model.pt``, ``checkpoint.pt`` or a run
    folder."""
    path = weights_file(weights)
    ck = read_checkpoint(path, device)
    try:
        cfg = TrainConfig.from_dict(ck["config"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(path, f"its configuration is not valid: {e}") from None
    check_shapes(path, cfg.model, ck["model"])  # before any real network is built
    model = SutureDetector(cfg.model)
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as e:  # missing, unexpected or mis-shaped weights
        first = str(e).strip().splitlines()[0][:300]
        raise CheckpointError(path, f"the weights do not fit its configuration: {first}") from None
    return model.to(device).eval(), cfg

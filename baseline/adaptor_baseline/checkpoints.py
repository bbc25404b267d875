"""Run folders, checkpoints and devices: what training writes and prediction reads.

A run folder holds ``config.json``, ``checkpoint.pt`` (model, optimiser and scheduler state, the
epoch and the config; written atomically every epoch, for ``--resume``) and ``model.pt`` (final
weights and config). Both training and prediction use this module; neither imports the other's
internals.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from adaptor_baseline.codec import HeatmapCodec
from adaptor_baseline.config import TrainConfig
from adaptor_baseline.model.detector import SutureDetector

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given, else CUDA when available, else CPU (CUDA is never touched then)."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def codec_for(cfg: TrainConfig, size: tuple[int, int] | None = None) -> HeatmapCodec:
    """The heatmap codec a configuration trains and decodes with."""
    t = cfg.target
    return HeatmapCodec(
        t.distribution,
        sigma=t.sigma1,
        alpha=t.alpha,
        radius=t.binary_radius,
        heatmap_size=tuple(size or cfg.input_size),
        threshold=t.threshold,
        combine=t.combine,
    )


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """A checkpoint dict with at least ``model`` and ``config``; errors name the file."""
    path = Path(path)
    try:
        ck = torch.load(path, map_location=device, weights_only=False)
    except (OSError, RuntimeError, EOFError) as e:
        raise ValueError(f"{path}: cannot read the checkpoint ({e})") from None
    if not isinstance(ck, dict) or "model" not in ck or "config" not in ck:
        raise ValueError(f"{path}: not an adaptor-baseline checkpoint (needs 'model' and 'config')")
    return ck


def weights_file(weights: str | Path) -> Path:
    """``model.pt``, else ``checkpoint.pt``, of a run folder; a file is itself."""
    path = Path(weights)
    if path.is_dir():
        path = path / MODEL if (path / MODEL).exists() else path / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"{path}: no weights found")
    return path


def load_model(
    weights: str | Path, device: torch.device | str = "cpu"
) -> tuple[SutureDetector, TrainConfig]:
    """A trained model (eval mode) and its config from ``model.pt``, ``checkpoint.pt`` or a run
    folder."""
    path = weights_file(weights)
    ck = read_checkpoint(path, device)
    cfg = TrainConfig.from_dict(ck["config"])
    model = SutureDetector(cfg.model)
    model.load_state_dict(ck["model"])
    return model.to(device).eval(), cfg

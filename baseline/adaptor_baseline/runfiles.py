"""A run folder's own files: claiming the folder before a run, ``config.json``, ``split.json``
and ``metrics.csv`` (rewritten whole each epoch: complete or absent)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from adaptor_baseline.checkpoints import CHECKPOINT, MODEL
from adaptor_baseline.config import TrainConfig
from adaptor_score import atomic
from adaptor_score.frames import InputFileError

RUN_FILES = (
    "config.json", "split.json", CHECKPOINT, MODEL, "metrics.csv", "val_score.json",
    "val_predictions", "test_predictions",
)  # fmt: skip


def claim_run_folder(out_dir: Path, resume: bool, overwrite: bool) -> None:
    """Make ``out_dir`` ready for a run: refuse one that holds a run unless told what to do.

    Seen before this rule: ``train --out`` on a finished run replaced its config, split,
    checkpoint and metrics, left the old ``model.pt`` beside a config that no longer described
    it, and ``predict`` used it.
    """
    if resume and overwrite:
        raise RunFolderError(out_dir, "--resume and --overwrite contradict each other")
    if out_dir.exists() and not out_dir.is_dir():
        raise RunFolderError(out_dir, "is not a folder")
    held = [n for n in RUN_FILES if (out_dir / n).exists() or (out_dir / n).is_symlink()]
    if held and not resume and not overwrite:
        raise RunFolderError(
            out_dir,
            f"already holds a run ({', '.join(held)}); --resume to continue it, --overwrite to"
            " replace it, or choose a new folder",
        )
    if held and overwrite:
        for n in held:
            p = out_dir / n
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunFolderError(out_dir, f"cannot create the folder: {e.strerror or e}") from None


class RunFolderError(InputFileError):
    """A run folder that training must not write into as it is."""


def write_run_files(out_dir: Path, cfg: TrainConfig, split, data_dir, folds_spec) -> None:
    cfg.save(out_dir / "config.json")
    atomic.write_text(
        out_dir / "split.json",
        json.dumps(
            {
                "data": str(data_dir),
                "fold": split.fold,
                "folds": folds_spec or "folder",
                "train_frames": len(split.train),
                "val_frames": len(split.val),
                "val_keys": [str(r.key) for r in split.val],
            },
            indent=2,
        )
        + "\n",
    )


def append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    columns = [
        "epoch",
        "lr",
        "train_loss",
        "images",
        "seconds",
        "images_per_s",
        "val_loss",
        "val_ppv",
        "val_tpr",
        "val_f1",
        "plateau_on",
    ]
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    if new:
        w.writeheader()
    w.writerow(row)
    old = b"" if new else path.read_bytes()  # rewritten whole, never appended: complete or absent
    atomic.write_bytes(path, old + buf.getvalue().encode("utf-8"))

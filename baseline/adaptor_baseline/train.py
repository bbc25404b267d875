"""Training: Adam, reduce-on-plateau, no early stopping, seeded, resumable, scored at the end.

The plateau scheduler watches the validation loss when the run has a validation fold, else the
mean training loss of the epoch (``metrics.csv`` says which, column ``plateau_on``). The model
of the last epoch is the result: the validation fold is never used to pick an epoch.
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adaptor_baseline.augment import augment_with_points, build_pipeline
from adaptor_baseline.codec import HeatmapCodec
from adaptor_baseline.config import TrainConfig
from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import FrameRecord, index_dataset
from adaptor_baseline.model.detector import SutureDetector

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given, else CUDA when available, else CPU (CUDA is never touched then)."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    # Our own randomness uses explicit generators; these cover Python's and torch's global ones.
    random.seed(seed)
    torch.manual_seed(seed)


def codec_for(cfg: TrainConfig, size: tuple[int, int] | None = None) -> HeatmapCodec:
    t = cfg.target
    return HeatmapCodec(
        t.distribution,
        sigma=t.sigma1,
        alpha=t.alpha,
        radius=t.binary_radius,
        heatmap_size=tuple(size or cfg.input_size),
        threshold=t.threshold,
    )


def random_crops(
    images: torch.Tensor, points: list[torch.Tensor], crop: tuple[int, int], gen: torch.Generator
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A random ``crop = (w, h)`` window per image, points shifted and those outside dropped."""
    b, _, h, w = images.shape
    cw, ch = min(crop[0], w), min(crop[1], h)
    out = torch.empty(b, images.shape[1], ch, cw, dtype=images.dtype)
    moved = []
    for i in range(b):
        x0 = int(torch.randint(0, w - cw + 1, (1,), generator=gen))
        y0 = int(torch.randint(0, h - ch + 1, (1,), generator=gen))
        out[i] = images[i, :, y0 : y0 + ch, x0 : x0 + cw]
        p = points[i] - torch.tensor([x0, y0], dtype=points[i].dtype)
        keep = (p[:, 0] >= 0) & (p[:, 0] <= cw - 1) & (p[:, 1] >= 0) & (p[:, 1] <= ch - 1)
        moved.append(p[keep])
    return out, moved


def make_targets(
    codec: HeatmapCodec,
    points: list[torch.Tensor],
    size: tuple[int, int],
    binary_radius: float,
    binary: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Heatmaps ``(B, 1, H, W)`` (and binary masks for Variant 2) rendered from the points."""
    c = HeatmapCodec(codec.distribution, codec.sigma, codec.alpha, codec.radius, tuple(size))
    heat = np.stack([c.encode(p.numpy()) for p in points])[:, None]
    masks = None
    if binary:
        masks = torch.from_numpy(
            np.stack([c.encode_binary(p.numpy(), radius=binary_radius) for p in points])[:, None]
        )
    return torch.from_numpy(heat), masks


@dataclass
class FoldSplit:
    train: list[FrameRecord]
    val: list[FrameRecord]
    fold: str | None


def split_records(data_dir: str | Path, fold: str | None, folds_spec: str | None) -> FoldSplit:
    """Training and validation frames: the frames of ``fold`` validate, the others train."""
    records = index_dataset(data_dir, require_labels=True)
    if not records:
        raise ValueError(f"{data_dir}: no labelled frames found")
    if fold is None:
        return FoldSplit(records, [], None)
    folds = make_folds([r.key for r in records], folds_spec)
    known = sorted({f for f in folds if f is not None})
    if str(fold) not in known:
        raise ValueError(f"fold {fold!r} not found; folds are: {', '.join(known)}")
    val = [r for r, f in zip(records, folds) if f == str(fold)]
    train = [r for r, f in zip(records, folds) if f != str(fold) and f is not None]
    return FoldSplit(train, val, str(fold))


def _autocast(device: torch.device, enabled: bool):
    if device.type == "cuda" and enabled:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return torch.autocast("cpu", enabled=False)


def _save_atomic(obj, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def evaluate(
    model: SutureDetector,
    cfg: TrainConfig,
    records: list[FrameRecord],
    device: torch.device,
    batch_size: int = 8,
) -> dict:
    """Validation loss and PPV/TPR/F1 at 6 px on full frames (original pixel grid)."""
    from adaptor_score.metrics import DetectionMetric

    if not records:
        return {}
    codec = codec_for(cfg)
    ds = AdaptorFrames(records, cfg.input_size)
    metric = DetectionMetric(radii=(6.0,))
    losses = []
    model.eval()
    with torch.inference_mode():
        for batch in frame_loader(ds, batch_size):
            images = batch["image"].to(device).float() / 255
            out = model(images)
            heat, masks = make_targets(
                codec,
                batch["points"],
                cfg.input_size,
                cfg.target.binary_radius,
                cfg.model.variant == "variant2",
            )
            loss, _ = model.loss(out, heat.to(device), None if masks is None else masks.to(device))
            losses.append(float(loss) * len(images))
            found = codec.decode(out["output"].float().cpu().numpy())
            for pts, label, scale in zip(found, batch["points"], batch["scale"]):
                metric.update(pts / np.array(scale), label.numpy() / np.array(scale))
    s = metric.compute().summary()[0]
    return {
        "val_loss": sum(losses) / len(records),
        "val_ppv": s.ppv,
        "val_tpr": s.tpr,
        "val_f1": s.f1,
    }


def train(
    cfg: TrainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    fold: str | None = None,
    folds_spec: str | None = None,
    resume: bool = False,
    device: str | None = None,
    console: Console | None = None,
    score_validation: bool = True,
) -> dict:
    """Train one configuration on one fold; returns the final metrics.

    Writes ``config.json``, ``checkpoint.pt`` (each epoch, for ``resume``), ``model.pt`` (final
    weights and config), ``metrics.csv`` (one row per epoch) and, when there is a validation fold,
    ``val_predictions/`` and ``val_score.json`` (scored with ``adaptor_score``).
    """
    console = console or Console(highlight=False)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    split = split_records(data_dir, fold, folds_spec)
    seed_everything(cfg.seed)
    cfg.save(out_dir / "config.json")
    (out_dir / "split.json").write_text(
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
        + "\n"
    )

    model = SutureDetector(cfg.model).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
    )
    use_amp = dev.type == "cuda" and cfg.amp
    scaler = (
        torch.amp.GradScaler("cuda", enabled=use_amp and not torch.cuda.is_bf16_supported())
        if use_amp
        else None
    )
    start_epoch = 0
    if resume and (out_dir / CHECKPOINT).exists():
        ck = torch.load(out_dir / CHECKPOINT, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        start_epoch = ck["epoch"]
        before = {**ck["config"], "epochs": None}
        if before != {**cfg.to_dict(), "epochs": None}:
            raise ValueError(
                f"{out_dir / CHECKPOINT} was trained with another configuration; "
                "only epochs may change on --resume"
            )
        console.print(f"resuming after epoch {start_epoch}")
        console.print(f"resumed from epoch {start_epoch}")

    ds = AdaptorFrames(split.train, cfg.input_size)
    if cfg.cache_images:
        items = [ds[i] for i in range(len(ds))]
        ds = _Cached(items)
    loader = frame_loader(ds, cfg.batch_size, shuffle=True, workers=cfg.workers, seed=cfg.seed)
    pipeline = build_pipeline(cfg.augment)
    codec = codec_for(cfg)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    steps = cfg.steps_per_epoch or len(loader)
    plateau_on = "val_loss" if split.val else "train_loss"
    metrics_path = out_dir / "metrics.csv"
    if start_epoch == 0 and metrics_path.exists():
        metrics_path.unlink()

    last: dict = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:.1f} img/s"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        for epoch in range(start_epoch, cfg.epochs):
            # Every epoch's randomness (shuffling, crops, augmentation, dropout) comes from
            # (seed, epoch), so a resumed run repeats a straight run exactly.
            torch.manual_seed(cfg.seed * 100_003 + epoch)
            loader.generator.manual_seed(cfg.seed * 100_003 + epoch)
            gen.manual_seed(cfg.seed * 100_003 + epoch + 1)
            model.train()
            task = progress.add_task(
                f"epoch {epoch + 1}/{cfg.epochs}", total=steps, loss=0.0, rate=0.0
            )
            t0, seen, total_loss, step = time.perf_counter(), 0, 0.0, 0
            batches = iter(loader)
            while step < steps:
                try:
                    batch = next(batches)
                except StopIteration:
                    batches = iter(loader)
                    continue
                images = batch["image"].float() / 255
                points = batch["points"]
                if cfg.crop:
                    images, points = random_crops(images, points, cfg.crop, gen)
                images, points = augment_with_points(pipeline, images, points)
                size = (images.shape[-1], images.shape[-2])
                heat, masks = make_targets(
                    codec, points, size, cfg.target.binary_radius, cfg.model.variant == "variant2"
                )
                images, heat = images.to(dev, non_blocking=True), heat.to(dev, non_blocking=True)
                masks = masks.to(dev) if masks is not None else None
                with _autocast(dev, use_amp):
                    out = model(images)
                loss, _ = model.loss(out, heat, masks)
                opt.zero_grad(set_to_none=True)
                if scaler is not None and scaler.is_enabled():
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                step += 1
                seen += len(images)
                total_loss += float(loss.detach()) * len(images)
                rate = seen / (time.perf_counter() - t0)
                progress.update(task, advance=1, loss=total_loss / seen, rate=rate)
            progress.remove_task(task)
            seconds = time.perf_counter() - t0
            row = {
                "epoch": epoch + 1,
                "lr": opt.param_groups[0]["lr"],
                "train_loss": total_loss / max(seen, 1),
                "images": seen,
                "seconds": round(seconds, 3),
                "images_per_s": round(seen / seconds, 2),
            }
            row.update(evaluate(model, cfg, split.val, dev) if split.val else {})
            row["plateau_on"] = plateau_on
            sched.step(row.get("val_loss", row["train_loss"]))
            _append_csv(metrics_path, row)
            extra = f"  val F1@6 {row['val_f1']:.4f}" if "val_f1" in row else ""
            console.print(
                f"epoch {epoch + 1}/{cfg.epochs}: loss {row['train_loss']:.4f}"
                f"  {row['images_per_s']:.1f} img/s  lr {row['lr']:.0e}{extra}"
            )
            _save_atomic(
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "epoch": epoch + 1,
                    "config": cfg.to_dict(),
                },
                out_dir / CHECKPOINT,
            )
            last = row
    _save_atomic({"model": model.state_dict(), "config": cfg.to_dict()}, out_dir / MODEL)

    if split.val and score_validation:
        from adaptor_baseline.predict import predict_records
        from adaptor_score.scoring import score

        pred_dir = out_dir / "val_predictions"
        predict_records(model, cfg, split.val, Path(data_dir), pred_dir, device=dev)
        report = score(data_dir, pred_dir, (6.0, 8.0, 10.0), frames=[r.key for r in split.val])
        report.write_json(out_dir / "val_score.json")
        s = report.overall()[0]
        console.print(
            f"validation fold {split.fold}: F1@6 {s.f1:.4f} (PPV {s.ppv:.4f}, TPR {s.tpr:.4f},"
            f" {s.tp} TP / {s.fp} FP / {s.fn} FN)"
        )
        last = {**last, "val_score": report.to_dict()["overall"]}
    return last


class _Cached(torch.utils.data.Dataset):
    """Decoded frames kept in memory (small sets; avoids decoding PNGs every epoch)."""

    def __init__(self, items: list[dict]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def _append_csv(path: Path, row: dict) -> None:
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
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)

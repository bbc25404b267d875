"""Training: Adam, a fixed schedule, no early stopping, seeded, resumable, scored at the end.

The schedule (:mod:`adaptor_baseline.optim`) is the authors' reduce-on-plateau on the mean
training loss of the epoch, or a cosine annealing per batch; neither reads a validation fold
(``metrics.csv`` says what the plateau watched, column ``plateau_on``): the held-out fold is only
logged and scored. The model of the last epoch (or the average of its weights, ``ema_decay``) is
the result: the validation fold is never used to pick an epoch.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from adaptor_baseline.augment import augment_with_points, build_pipeline
from adaptor_baseline.batches import CachedFrames, make_targets, random_crops
from adaptor_baseline.checkpoints import (
    CHECKPOINT,
    MODEL,
    check_shapes,
    pick_device,
    read_checkpoint,
    save_atomic,
)
from adaptor_baseline.codec import HeatmapCodec
from adaptor_baseline.config import TrainConfig, config_diff
from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader
from adaptor_baseline.data.folds import make_folds
from adaptor_baseline.data.layout import FrameRecord, index_dataset
from adaptor_baseline.model.detector import SutureDetector
from adaptor_baseline.optim import deterministic, make_average, make_scheduler
from adaptor_baseline.runfiles import append_csv, claim_run_folder, write_run_files
from adaptor_baseline.validation import evaluate, score_fold


def seed_everything(seed: int) -> None:
    # Our own randomness uses explicit generators; these cover Python's and torch's global ones.
    random.seed(seed)
    torch.manual_seed(seed)


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


def train(
    cfg: TrainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    fold: str | None = None,
    folds_spec: str | None = None,
    resume: bool = False,
    device: str | None = None,
    console: Console | None = None,
    overwrite: bool = False,
) -> dict:
    """Train one configuration on one fold; returns the final metrics.

    ``out_dir`` must be new or empty, or hold a run to continue (``resume``) or to replace
    (``overwrite``: its files are removed first, so no old ``model.pt`` outlives its config).

    Writes ``config.json``, ``checkpoint.pt`` (each epoch, for ``resume``), ``model.pt`` (final
    weights and config), ``metrics.csv`` (one row per epoch) and, when there is a validation fold,
    ``val_predictions/`` and ``val_score.json`` (scored with ``adaptor_score``).

    The held-out fold never steers training: the learning-rate schedule steps on the training
    loss or per batch, there is no early stopping, and the last epoch (or the weight average) is
    the model. Its loss and F1 are only logged in ``metrics.csv``.
    """
    console = console or Console(highlight=False, markup=False)
    out_dir = Path(out_dir)
    claim_run_folder(out_dir, resume, overwrite)
    dev = pick_device(device)
    split = split_records(data_dir, fold, folds_spec)
    with deterministic(cfg.threads):
        return _train(cfg, data_dir, out_dir, split, dev, folds_spec, resume, console)


def _train(cfg, data_dir, out_dir: Path, split, dev, folds_spec, resume, console) -> dict:
    seed_everything(cfg.seed)
    state = _State.create(cfg, dev, total_steps(cfg, len(split.train)))
    if resume and (out_dir / CHECKPOINT).exists():
        state.resume(out_dir / CHECKPOINT, cfg)
        console.print(f"resumed after epoch {state.epoch}")
    write_run_files(out_dir, cfg, split, data_dir, folds_spec)
    metrics_path = out_dir / "metrics.csv"
    if state.epoch == 0 and metrics_path.exists():
        metrics_path.unlink()

    last = _epochs(state, cfg, split, out_dir, console)
    save_atomic({"model": state.result().state_dict(), "config": cfg.to_dict()}, out_dir / MODEL)
    if split.val:
        last = {
            **last,
            "val_score": score_fold(state.result(), cfg, split, Path(data_dir), out_dir, console),
        }
    return last


def total_steps(cfg: TrainConfig, frames: int) -> int:
    """Batches in the whole run: what a per-batch schedule anneals over."""
    per_epoch = cfg.steps_per_epoch or max(math.ceil(frames / cfg.batch_size), 1)
    return cfg.epochs * per_epoch


def _epochs(state: _State, cfg: TrainConfig, split, out_dir: Path, console: Console) -> dict:
    """Train from ``state.epoch`` to ``cfg.epochs``: after each epoch the plateau steps on the
    training loss, the held-out fold is evaluated for the log only, a row goes to
    ``metrics.csv`` and a checkpoint is saved. Returns the last epoch's row."""
    ds = AdaptorFrames(split.train, cfg.input_size)
    if cfg.cache_images:
        ds = CachedFrames([ds[i] for i in range(len(ds))])
    loader = frame_loader(ds, cfg.batch_size, shuffle=True, workers=cfg.workers, seed=cfg.seed)
    steps = cfg.steps_per_epoch or len(loader)
    metrics_path = out_dir / "metrics.csv"
    last: dict = {}
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}  {task.fields[rate]:.1f} img/s"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        for epoch in range(state.epoch, cfg.epochs):
            task = progress.add_task(
                f"epoch {epoch + 1}/{cfg.epochs}", total=steps, loss="…", rate=0.0
            )
            report = _within_epoch(partial(progress.update, task), console, epoch, cfg.epochs,
                                   steps)  # fmt: skip
            row = _train_epoch(state, cfg, loader, epoch, steps, report)
            progress.remove_task(task)
            row["lr"] = state.opt.param_groups[0]["lr"]
            if not state.per_step:
                row["plateau_on"] = "train_loss"
                state.sched.step(row["train_loss"])
            due = cfg.val_every and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs)
            if split.val and due:  # logged for the reader only; nothing above or below reads it
                row.update(evaluate(state.result(), cfg, split.val, state.device))
            append_csv(metrics_path, row)
            extra = f"  val F1@6 {row['val_f1']:.4f}" if "val_f1" in row else ""
            console.print(
                f"epoch {epoch + 1}/{cfg.epochs}: loss {row['train_loss']:.4f}"
                f"  {row['images_per_s']:.1f} img/s  lr {row['lr']:.0e}{extra}"
            )
            state.epoch = epoch + 1
            save_atomic(state.checkpoint(cfg), out_dir / CHECKPOINT)
            last = row
    return last


PLAIN_EVERY = 10.0  # seconds between the plain progress lines within an epoch (logs, CI)


def _within_epoch(update, console: Console, epoch: int, epochs: int, steps: int,
                  every: float = PLAIN_EVERY):  # fmt: skip
    """The per-step report: rich's bar on a terminal; elsewhere (a log, CI, a SLURM job, where
    the bar shows nothing and an epoch can be a minute of silence) a plain line at most every
    ``every`` seconds with the step, the loss so far, the rate and the time left in the epoch."""
    if console.is_terminal:
        return update
    t0 = last = time.perf_counter()
    done, loss = 0, "…"

    def report(**fields):
        nonlocal last, done, loss
        update(**fields)
        done += fields.get("advance", 0)
        loss = fields.get("loss", loss)
        now = time.perf_counter()
        if now - last >= every and done < steps:
            last = now
            left = (now - t0) / done * (steps - done)
            console.print(f"epoch {epoch + 1}/{epochs}: step {done}/{steps}, loss {loss},"
                          f" {fields.get('rate', 0.0):.1f} img/s, about {left:.0f} s left in the"
                          " epoch")  # fmt: skip

    return report


@dataclass
class _State:
    """What a run carries from epoch to epoch (and a checkpoint restores)."""

    model: SutureDetector
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau
    per_step: bool  # the scheduler steps after every batch (else once per epoch, on the loss)
    average: torch.optim.swa_utils.AveragedModel | None
    scaler: torch.amp.GradScaler | None
    device: torch.device
    use_amp: bool
    epoch: int = 0

    @classmethod
    def create(cls, cfg: TrainConfig, dev: torch.device, steps: int) -> _State:
        model = SutureDetector(cfg.model).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        sched, per_step = make_scheduler(opt, cfg, steps)
        average = make_average(model, cfg.ema_decay)
        use_amp = dev.type == "cuda" and cfg.amp
        scaler = (
            torch.amp.GradScaler("cuda", enabled=not torch.cuda.is_bf16_supported())
            if use_amp
            else None
        )
        return cls(model, opt, sched, per_step, average, scaler, dev, use_amp)

    def result(self) -> SutureDetector:
        """The model a run leaves: the weight average if there is one, else the last weights."""
        return self.model if self.average is None else self.average.module

    def resume(self, path: Path, cfg: TrainConfig) -> None:
        """Continue from ``path``; a checkpoint of another configuration (anything but the
        number of epochs differs) is refused before any weight is touched."""
        ck = read_checkpoint(path, self.device)
        before = {**TrainConfig.from_dict(ck["config"]).to_dict(), **_MAY_CHANGE}
        now = {**cfg.to_dict(), **_MAY_CHANGE}
        if before != now:
            changed = config_diff(before, now)
            raise ValueError(
                f"{path} was trained with another configuration ({', '.join(changed)} differ);"
                " only epochs, threads, workers and val_every may change on --resume: use a new output"
                " folder"
            )
        check_shapes(path, cfg.model, ck["model"])
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        if self.average is not None:
            self.average.load_state_dict(ck["average"])
        self.epoch = ck["epoch"]

    def checkpoint(self, cfg: TrainConfig) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            **({} if self.average is None else {"average": self.average.state_dict()}),
            "epoch": self.epoch,
            "config": cfg.to_dict(),
        }


# Settings a resumed run may change: the length, and how this machine runs it.
_MAY_CHANGE = {"epochs": None, "threads": None, "workers": None, "val_every": None}

# The running loss stays on the device and is read every this many steps: reading it every step
# would wait for the device each time.
_SYNC_EVERY = 20


def _train_epoch(state: _State, cfg: TrainConfig, loader, epoch: int, steps: int, report) -> dict:
    """One epoch of ``steps`` batches; every random draw comes from (seed, epoch), so a resumed
    run repeats a straight run exactly."""
    torch.manual_seed(cfg.seed * 100_003 + epoch)
    loader.generator.manual_seed(cfg.seed * 100_003 + epoch)
    gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch + 1)
    pipeline = build_pipeline(cfg.augment)
    codec = HeatmapCodec.from_config(cfg)
    model, dev = state.model, state.device
    model.train()
    t0, seen, step = time.perf_counter(), 0, 0
    loss_sum = torch.zeros((), device=dev)
    batches = iter(loader)
    while step < steps:
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            continue
        images, points = batch["image"].float() / 255, batch["points"]
        if cfg.crop:
            images, points = random_crops(images, points, cfg.crop, gen, cfg.crop_foreground)
        images, points = augment_with_points(pipeline, images, points)
        size = (images.shape[-1], images.shape[-2])
        heat, masks = make_targets(codec, points, size)
        images, heat = images.to(dev, non_blocking=True), heat.to(dev, non_blocking=True)
        masks = masks.to(dev) if masks is not None else None
        with _autocast(dev, state.use_amp):
            out = model(images)
        loss, _ = model.loss(out, heat, masks)
        state.opt.zero_grad(set_to_none=True)
        if state.scaler is not None and state.scaler.is_enabled():
            state.scaler.scale(loss).backward()
            state.scaler.step(state.opt)
            state.scaler.update()
        else:
            loss.backward()
            state.opt.step()
        if state.per_step:
            state.sched.step()
        if state.average is not None:
            state.average.update_parameters(model)
        step += 1
        seen += len(images)
        loss_sum += loss.detach() * len(images)
        fields = {"advance": 1, "rate": seen / (time.perf_counter() - t0)}
        if step % _SYNC_EVERY == 0 or step == steps or step == 1:
            fields["loss"] = f"{float(loss_sum) / seen:.4f}"
        report(**fields)
    seconds = time.perf_counter() - t0
    return {
        "epoch": epoch + 1,
        "train_loss": float(loss_sum) / max(seen, 1),
        "images": seen,
        "seconds": round(seconds, 3),
        "images_per_s": round(seen / seconds, 2),
    }

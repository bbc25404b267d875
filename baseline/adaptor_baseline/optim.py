"""The learning-rate schedule, the weight average and the determinism switches of a run.

Two schedules (``TrainConfig.schedule``):

* ``plateau`` (the authors'): Adam at ``lr``, divided by ``plateau_factor`` when the epoch's mean
  training loss has not fallen for ``plateau_patience`` epochs. It steps once per epoch.
* ``cosine`` (ours, the demo's): a linear warm-up over ``warmup_steps`` batches, then a half
  cosine from ``lr`` down to ``lr * min_lr_ratio`` at the last batch. It steps every batch.

A short run stopped at a fixed step under the plateau schedule keeps the learning rate it had at
that step: where the weights stop depends on the last few batches, and the held-out F1@6 of the
demo moved from 0.58 to 0.84 with the training seed alone (benchmarks/results/demo-seeds.json).
Annealing to a small rate and keeping an exponential moving average of the weights
(``ema_decay``, kept with ``torch.optim.swa_utils.AveragedModel``, buffers included) take the
last batches' noise out of the result.

Determinism (:func:`deterministic`): ``torch.use_deterministic_algorithms`` plus a fixed
intra-op thread count. On one machine type a run then repeats bit for bit; another CPU's
floating point (AVX2 against AVX-512, another BLAS kernel) still changes the result, by as much
as the benchmark in docs/reproducibility.md states.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def make_scheduler(opt: torch.optim.Optimizer, cfg, total_steps: int):
    """The scheduler ``cfg.schedule`` names, for a run of ``total_steps`` batches.

    Returns ``(scheduler, per_step)``: ``per_step`` says whether it steps after every batch
    (``cosine``) or once per epoch on the training loss (``plateau``).

    >>> import torch
    >>> from adaptor_baseline.config import TrainConfig
    >>> p = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.Adam([p], lr=1e-3)
    >>> cfg = TrainConfig(schedule="cosine", warmup_steps=2, min_lr_ratio=0.0)
    >>> sched, per_step = make_scheduler(opt, cfg, total_steps=6)
    >>> rates = []
    >>> for _ in range(6):
    ...     rates.append(round(opt.param_groups[0]["lr"] * 1e3, 3)); opt.step(); sched.step()
    >>> per_step, rates
    (True, [0.5, 1.0, 1.0, 0.75, 0.25, 0.0])
    """
    if cfg.schedule == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
        )
        return sched, False
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: cosine_factor(step, total_steps, cfg.warmup_steps, cfg.min_lr_ratio)
    ), True


def cosine_factor(step: int, total: int, warmup: int, floor: float) -> float:
    """The learning rate of batch ``step`` (from 0) as a share of ``lr``: ``(step + 1) / warmup``
    during the warm-up, then a half cosine from 1 at the first batch after it to ``floor`` at
    the last batch (``total - 1``)."""
    if step < warmup:
        return (step + 1) / warmup
    span = max(total - 1 - warmup, 1)
    t = min(max(step - warmup, 0) / span, 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))


def make_average(model: torch.nn.Module, decay: float | None) -> AveragedModel | None:
    """An exponential moving average of ``model``'s weights and batch-norm buffers
    (``decay`` per batch), or ``None`` when ``decay`` is ``None``."""
    if decay is None:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


@contextmanager
def deterministic(threads: int | None):
    """Within the block: torch's deterministic kernels and, if given, a fixed number of
    intra-op threads; both are put back afterwards (a caller's process keeps its settings).

    ``warn_only``: an operation without a deterministic kernel warns instead of stopping a run
    (none of the CPU path's operations needs it; CUDA's scatter-add in soft-argmax may).
    """
    before = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.set_num_threads(before[1])

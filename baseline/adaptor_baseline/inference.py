"""The network as prediction runs it: channels-last memory, a frozen TorchScript graph and an
allocator that reuses freed memory on the CPU, ``torch.compile`` on request, and the plain module
elsewhere.

First measured (2026-11-25) on 2 CPU cores with the authors' network at 288 x 512, the forward
pass alone, batch 1: eager fp32 7.5 frames/s, channels-last 9.9, frozen TorchScript +
channels-last 13.0 for a 1.2 s freeze, ``torch.compile`` 16.2 for 28.5 s of compilation (it pays
for itself only past about a thousand frames, so it stays an option); batches of 2 or 4 were
slower. On the CPU the C allocator is set to reuse freed blocks (:func:`reuse_freed_memory`):
without it, whether a process page-faults every frame's activations afresh was a matter of its
history, and the speed-up above came and went with it (``benchmarks/bench_forward_history.py``,
``bench_predict.py``; docs/benchmarks.md gives the figures). Outputs differ from the
eager ones by at most 5e-7, so the points written (2 decimals) can differ in their last digit
where a centre falls on a rounding boundary (measured: 2 of 120 files, at most 0.01 px, the same
number of points in each): ``benchmarks/bench_predict.py`` compares every file on every run and
measures ``predict`` end to end (``results/predict-cpu.json``). On a GPU (an H100) channels-last was slower than eager, so there
the module runs as it is.
"""

from __future__ import annotations

import copy
import ctypes
import warnings
from collections.abc import Callable

import torch
from torch import nn


def default_channels_last(device: torch.device) -> bool:
    """Channels-last memory on CPU only: measured 1.04-1.38x faster there, 0.83-0.91x on an H100
    (benchmarks/results/baseline-cpu.json, baseline-cuda.json)."""
    return device.type == "cpu"


# glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
# Blocks up to this size come from the heap and are reused; 32 MB is the most that glibc before
# 2.35 accepts, and holds a 288 x 512 frame's largest activation (32 channels: 18.9 MB).
REUSE_UP_TO = (256 << 20, 32 << 20)


def reuse_freed_memory() -> bool:
    """Let the C allocator keep freed blocks for reuse instead of handing them back to the system
    (glibc only; elsewhere nothing happens and ``False`` is returned). Process-wide, once.

    Why: glibc returns a freed block above its mmap threshold to the system and zeroes fresh
    pages for the next one. It raises that threshold as large blocks are freed, so whether a
    process's full-frame activations (9-19 MB each) are reused or page-faulted afresh every
    frame is a matter of its allocation history: the same frozen graph ran with no page fault in
    one process and thousands per frame, a fifth slower, in the next
    (``benchmarks/bench_predict.py`` counts them per mode: ``results/predict-cpu.json``).
    Fixing the thresholds makes every process the fast one. The cost is memory held for reuse
    (up to the frame's working set, released at exit)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    for limit in REUSE_UP_TO:
        if mallopt(_M_MMAP_THRESHOLD, limit) == 1:
            return mallopt(_M_TRIM_THRESHOLD, 2 * limit) == 1
    return False


def default_freeze(device: torch.device) -> bool:
    """A frozen TorchScript graph on CPU only (measured there; 1.2 s start-up)."""
    return device.type == "cpu"


class _OutputMap(nn.Module):
    """The detector's ``output`` map alone: a traceable forward returning one tensor."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)["output"]


def _frozen(net: nn.Module, device: torch.device, input_size, fmt) -> nn.Module:
    """A frozen TorchScript graph of ``net``; the module itself when that cannot be made.

    TorchScript is deprecated in recent PyTorch (it still works in the pinned 2.13 and was the
    fastest measured CPU path with a short start-up); a PyTorch without it loses the speed-up,
    never the prediction."""
    w, h = input_size
    example = torch.zeros(1, 3, h, w, device=device).contiguous(memory_format=fmt)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            # the padding arithmetic in the up path becomes constants of this input size
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.freeze(torch.jit.trace(net, example))
    except Exception as e:  # noqa: BLE001 - any failure of the optional speed-up
        warnings.warn(
            f"prediction runs without a frozen graph ({type(e).__name__}: {e})", stacklevel=3
        )
        return net


def inference_fn(
    model: nn.Module,
    device: torch.device,
    input_size: tuple[int, int],
    channels_last: bool | None = None,
    freeze: bool | None = None,
    compile: bool = False,
    reuse_memory: bool | None = None,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``images (B, 3, H, W)`` float in [0, 1] -> ``(B, 1, H, W)`` output map, run the fastest
    measured way for ``device`` (see the module docstring). ``input_size`` is ``(W, H)``; the
    frozen graph is traced at that size (prediction resizes every frame to it).

    The caller's ``model`` keeps its memory format and its train/eval mode: channels-last and
    eval mode are set on a copy. (Setting them on the module itself once left a caller, and
    ``benchmarks/bench_forward_history.py``, timing "eager" on channels-last weights: 12.1
    frames/s where the untouched module gives 8.6.)"""
    channels_last = default_channels_last(device) if channels_last is None else channels_last
    freeze = default_freeze(device) if freeze is None else freeze
    reuse_memory = device.type == "cpu" if reuse_memory is None else reuse_memory
    if reuse_memory:  # the CPU's full-frame activations: see reuse_freed_memory
        reuse_freed_memory()
    if channels_last or model.training:
        model = copy.deepcopy(model)
    net = _OutputMap(model.to(device).eval()).eval()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    if compile:
        run = torch.compile(net, dynamic=False)
    elif freeze:
        run = _frozen(net, device, input_size, fmt)
    else:
        run = net

    def forward(images: torch.Tensor) -> torch.Tensor:
        return run(images.contiguous(memory_format=fmt))

    return forward

"""Prediction: images in, one submission JSON per image out (official format, folder structure kept,
points in the original image's pixel grid)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from adaptor_baseline.checkpoints import load_model, pick_device
from adaptor_baseline.codec import HeatmapCodec
from adaptor_baseline.config import TrainConfig
from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader
from adaptor_baseline.data.layout import FrameRecord, index_dataset, unscale_points
from adaptor_baseline.inference import inference_fn
from adaptor_baseline.model.detector import SutureDetector
from adaptor_score import atomic
from adaptor_score.submission import write_prediction


def _names(record: FrameRecord, root: Path) -> tuple[str, str]:
    """folderName / subfolderName for the output file; shallow inputs use the parent folders."""
    if record.key.folder:
        return record.key.folder, record.key.video
    parents = record.image.relative_to(root).parent.parts
    return (parents[-2] if len(parents) > 1 else root.name), (parents[-1] if parents else root.name)


def default_batch_size(device: torch.device) -> int:
    """1 on CPU (larger batches were slower there: benchmarks/bench_baseline.py), 8 on GPUs."""
    return 8 if device.type == "cuda" else 1


def _write_batch(
    codec: HeatmapCodec, out: np.ndarray, records: list[FrameRecord], scales: list, root: Path,
    out_dir: Path, heatmap_dir: str | Path | None,
) -> int:  # fmt: skip
    """Decode a batch of output maps into points in each original image's grid and write one
    submission file per image (and its map as a PNG with ``heatmap_dir``); returns the points."""
    n = 0
    for hm, pts, rec, scale in zip(out, codec.decode(out), records, scales):
        pts = unscale_points(pts, *scale)
        folder, video = _names(rec, root)
        rel = rec.image.relative_to(root)
        write_prediction(
            out_dir / rel.with_name(rel.name.split(".")[0] + ".json"),
            folder, video, rec.image.name, pts,
        )  # fmt: skip
        n += len(pts)
        if heatmap_dir is not None:
            target = Path(heatmap_dir) / rel.with_suffix(".png")
            heat = Image.fromarray((np.clip(hm[0], 0, 1) * 255).astype(np.uint8))
            atomic.write_with(target, lambda tmp, heat=heat: heat.save(tmp, "PNG"))
    return n


def predict_records(
    model: SutureDetector,
    cfg: TrainConfig,
    records: list[FrameRecord],
    root: Path,
    out_dir: str | Path,
    device: torch.device | str = "cpu",
    batch_size: int | None = None,
    heatmap_dir: str | Path | None = None,
    channels_last: bool | None = None,
    compile: bool = False,
    freeze: bool | None = None,
    progress=None,
) -> dict:
    """Predict ``records`` (images below ``root``) into ``out_dir``; returns timing and counts.

    The network runs as :func:`adaptor_baseline.inference.inference_fn` sets it up (channels-last
    and a frozen graph on CPU by default; ``compile`` on request): the points of a plain fp32
    forward up to the last digit written (0.01 px), measured faster. The time reported includes
    that set-up.
    """
    device = torch.device(device)
    batch_size = batch_size or default_batch_size(device)
    out_dir, root = Path(out_dir), Path(root)
    codec = HeatmapCodec.from_config(cfg)
    ds = AdaptorFrames([FrameRecord(r.key, r.image, None) for r in records], cfg.input_size)
    t0 = time.perf_counter()
    run = inference_fn(model, device, tuple(cfg.input_size), channels_last, freeze, compile)
    by_key = {str(r.key): r for r in records}

    def finish(out: np.ndarray, keys: list[str], scales: list) -> int:
        """Decode one batch's maps and write its files (on the writer thread)."""
        return _write_batch(
            codec, out, [by_key[k] for k in keys], scales, root, out_dir, heatmap_dir
        )

    # Decoding and writing the last frame (a thread) overlap with the network. Reading ahead on
    # another thread was slower on 2 cores (median 9.4 against 10.9 frames/s, bench_predict.py,
    # 5 paired repeats each), and a loader process no faster at the cost of a process start.
    pending = []
    with torch.inference_mode(), ThreadPoolExecutor(max_workers=1) as writer:
        for batch in frame_loader(ds, batch_size):
            images = batch["image"].to(device).float().div_(255)
            out = run(images).float().cpu().numpy()
            pending.append(writer.submit(finish, out, list(batch["key"]), list(batch["scale"])))
            if progress is not None:
                progress(len(images), len(records))
        n_points = sum(f.result() for f in pending)
    seconds = time.perf_counter() - t0
    return {
        "images": len(records),
        "points": n_points,
        "seconds": seconds,
        "images_per_s": len(records) / seconds if seconds else float("inf"),
    }


def predict_dir(
    weights: str | Path,
    input_dir: str | Path,
    output_dir: str | Path,
    batch_size: int | None = None,
    device: str | None = None,
    heatmap_dir: str | Path | None = None,
    compile: bool = False,
    progress=None,
) -> dict:
    """Predict every image below ``input_dir`` (any depth) into ``output_dir``; with
    ``heatmap_dir``, also save each output map as an 8-bit PNG there. ``progress(n, total)`` is
    called after every batch with the number of frames it held."""
    dev = pick_device(device)
    model, cfg = load_model(weights, dev)
    records = index_dataset(input_dir)
    if not records:
        raise ValueError(f"{input_dir}: no images found")
    return predict_records(
        model, cfg, records, Path(input_dir), output_dir, dev, batch_size, heatmap_dir,
        compile=compile, progress=progress,
    )  # fmt: skip


class ArrayPredictor:
    """Points for images already in memory: the form a container's entrypoint calls.

    Args:
        weights: ``model.pt``, ``checkpoint.pt`` or a run folder.
        device: default CUDA when available, else CPU.

    ``predictor([image, ...])`` takes ``(H, W, 3)`` uint8 RGB arrays of any size and returns, per
    image, ``(N, 2)`` float ``(x, y)`` in that image's pixels.
    """

    def __init__(
        self,
        weights: str | Path,
        device: str | None = None,
        channels_last: bool | None = None,
        freeze: bool | None = None,
    ):
        self.device = pick_device(device)
        self.model, self.cfg = load_model(weights, self.device)
        self.run = inference_fn(
            self.model, self.device, tuple(self.cfg.input_size), channels_last, freeze
        )
        self.codec = HeatmapCodec.from_config(self.cfg)

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        size = tuple(self.cfg.input_size)
        batch, scales = [], []
        for im in images:
            h, w = im.shape[:2]
            if (w, h) != size:
                im = np.asarray(Image.fromarray(im).resize(size, Image.BILINEAR))
            batch.append(torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1))))
            scales.append((size[0] / w, size[1] / h))
        x = torch.stack(batch).to(self.device).float().div_(255)
        with torch.inference_mode():
            out = self.run(x).float().cpu().numpy()
        return [unscale_points(p, *s) for p, s in zip(self.codec.decode(out), scales)]

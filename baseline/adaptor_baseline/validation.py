"""The held-out fold: logged while training (loss, PPV/TPR/F1 at 6 px) and scored at the end.

Nothing here steers training: the numbers are written to ``metrics.csv`` and ``val_score.json``
for the reader; the schedule, the stopping point and the model kept never depend on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from adaptor_baseline.batches import make_targets
from adaptor_baseline.codec import HeatmapCodec
from adaptor_baseline.config import TrainConfig
from adaptor_baseline.data.dataset import AdaptorFrames, frame_loader
from adaptor_baseline.data.layout import FrameRecord
from adaptor_baseline.model.detector import SutureDetector
from adaptor_score.contract import RANKING_RADIUS, REPORT_RADII


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
    codec = HeatmapCodec.from_config(cfg)
    ds = AdaptorFrames(records, cfg.input_size)
    metric = DetectionMetric(radii=(RANKING_RADIUS,))
    losses = []
    model.eval()
    with torch.inference_mode():
        for batch in frame_loader(ds, batch_size):
            images = batch["image"].to(device).float() / 255
            out = model(images)
            heat, masks = make_targets(codec, batch["points"], cfg.input_size)
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


def score_fold(model, cfg, split, data_dir: Path, out_dir: Path, console) -> list[dict]:
    """Predict the held-out fold with the final model and score it (``val_score.json``)."""
    from adaptor_baseline.predict import predict_records
    from adaptor_score.scoring import score

    pred_dir = out_dir / "val_predictions"
    predict_records(
        model, cfg, split.val, data_dir, pred_dir, device=next(model.parameters()).device
    )
    report = score(data_dir, pred_dir, REPORT_RADII, keys=[r.key for r in split.val])
    report.write_json(out_dir / "val_score.json")
    s = report.overall()[0]
    console.print(
        f"validation fold {split.fold}: F1@6 {s.f1:.4f} (PPV {s.ppv:.4f}, TPR {s.tpr:.4f},"
        f" {s.tp} TP / {s.fp} FP / {s.fn} FN)"
    )
    return report.to_dict()["overall"]

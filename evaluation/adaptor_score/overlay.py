"""Draw matches on frames like the paper's Fig. 5, in a colour-blind-safe palette: TP blue, FN orange,
FP vermillion, radius circles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from adaptor_score import atomic
from adaptor_score.contract import FRAME_SIZE, IMAGE_FOLDER, RANKING_RADIUS
from adaptor_score.frames import FrameKey, Problem
from adaptor_score.groundtruth import GroundTruth, load_ground_truth
from adaptor_score.imagefile import ImageError, read_image
from adaptor_score.matching import match_frames
from adaptor_score.pathguard import child
from adaptor_score.predictions import load_predictions

# Okabe & Ito's blue, orange and vermillion: told apart with any common colour-vision deficiency
# (the earlier green and red are the pair many readers cannot); shapes differ too (circle
# around a label, cross on a prediction).
TP_COLOUR = (0, 114, 178)
FN_COLOUR = (230, 159, 0)
FP_COLOUR = (213, 94, 0)


BAND = 44  # px of caption and legend under the frame


def draw_overlay(
    image: Image.Image,
    preds: np.ndarray,
    labels: np.ndarray,
    radius: float = RANKING_RADIUS,
    scale: int = 2,
    caption: str = "",
) -> Image.Image:
    """Return a copy of ``image`` (upscaled ``scale`` times for legibility) with the matches drawn,
    and a band underneath with ``caption``, the TP/FP/FN counts, the radius and a legend.

    Labels get a circle of the match radius (green when found, orange when missed); predictions a
    cross (green when matched, red when false positive). Markers are drawn on a dark halo so they
    show on bright tissue and dark background alike.
    """
    m = match_frames([preds], [labels], radius)
    tp_pred = np.zeros(len(preds), dtype=bool)
    tp_label = np.zeros(len(labels), dtype=bool)
    tp_pred[m.pred] = True
    tp_label[m.label] = True
    frame = image.convert("RGB").resize((image.width * scale, image.height * scale), Image.NEAREST)
    im = Image.new("RGB", (frame.width, frame.height + BAND), (25, 25, 25))
    im.paste(frame, (0, 0))
    draw = ImageDraw.Draw(im)
    r = radius * scale
    for (x, y), hit in zip(labels * scale, tp_label):
        colour = TP_COLOUR if hit else FN_COLOUR
        draw.ellipse([x - r - 1, y - r - 1, x + r + 1, y + r + 1], outline=(0, 0, 0), width=4)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=2)
        draw.point((x, y), fill=colour)
    d = 2.5 * scale
    for (x, y), hit in zip(preds * scale, tp_pred):
        colour = TP_COLOUR if hit else FP_COLOUR
        for width, c in ((5, (0, 0, 0)), (2, colour)):
            draw.line([x - d, y - d, x + d, y + d], fill=c, width=width)
            draw.line([x - d, y + d, x + d, y - d], fill=c, width=width)
    for a, b in zip(m.pred, m.label):
        draw.line([*(preds[a] * scale), *(labels[b] * scale)], fill=TP_COLOUR, width=1)
    tp, fp, fn = int(tp_pred.sum()), int((~tp_pred).sum()), int((~tp_label).sum())
    y0 = frame.height + 6
    draw.text(
        (8, y0),
        f"{caption}   TP {tp}   FP {fp}   FN {fn}   radius {radius:g} px",
        fill=(240, 240, 240),
    )
    x = 8
    for text, colour in (("O found label (TP)", TP_COLOUR), ("O missed label (FN)", FN_COLOUR),
                         ("x false positive (FP)", FP_COLOUR), ("x matched prediction", TP_COLOUR)):  # fmt: skip
        draw.text((x, y0 + 18), text, fill=colour)
        x += 8 + int(draw.textlength(text)) + 14
    return im


def find_image(images_root: Path, key: FrameKey) -> Path | None:
    for sub in (IMAGE_FOLDER, ""):
        for ext in (".png", ".jpg", ".jpeg"):
            p = images_root / key.folder / key.video / sub / f"{key.frame}{ext}"
            if p.is_file():
                return p
    return None


def render_overlays(
    gt_dir: str | Path | GroundTruth,
    pred_dir: str | Path,
    out_dir: str | Path,
    frames: Sequence[FrameKey] | None = None,
    radius: float = RANKING_RADIUS,
    images_dir: str | Path | None = None,
    worst: int | None = None,
    limit: int | None = 20,
    problems: list[Problem] | None = None,
) -> list[Path]:
    """Write ``<out>/<folder>/<video>/<frame>.png`` overlays and return their paths.

    Frames: those given, else the ``worst`` frames by FP + FN, else the first ``limit`` frames.
    Frames without an image, or whose image cannot be read, are drawn on a grey canvas; the
    unreadable images and prediction files are appended to ``problems`` when it is given.
    """
    gt = gt_dir if isinstance(gt_dir, GroundTruth) else load_ground_truth(gt_dir)
    images_root = Path(images_dir) if images_dir else gt.root
    if frames:
        missing = [k for k in frames if k not in gt.points]
        if missing:
            raise KeyError(f"frame {missing[0]} is not in the ground truth")
        keys = list(frames)
    else:
        keys = gt.keys
    preds = load_predictions(pred_dir, keys, ignore=set(gt.keys) - set(keys))
    if not frames:
        if worst:
            m = match_frames([preds.get(k) for k in keys], [gt.points[k] for k in keys], radius)
            tp = np.bincount(m.frame, minlength=len(keys))
            errors = np.array([len(preds.get(k)) + len(gt.points[k]) for k in keys]) - 2 * tp
            keys = [keys[i] for i in np.argsort(-errors, kind="stable")[:worst]]
        elif limit:
            keys = keys[:limit]
    out_dir = Path(out_dir)
    written = []
    for key in keys:
        path = find_image(images_root, key)
        image = None
        if path is not None:
            try:
                image = Image.fromarray(read_image(path))
            except ImageError as e:  # drawn on grey like a missing image, and said
                if problems is not None:
                    problems.append(Problem(e.file, e.problem, key))
        if image is None:
            image = Image.new("RGB", gt.sizes.get(key, FRAME_SIZE), (90, 90, 90))
        target = child(out_dir, key.folder, key.video, f"{key.frame}.png", what="frame")
        overlay = draw_overlay(image, preds.get(key), gt.points[key], radius, caption=str(key))
        atomic.write_with(target, lambda tmp, im=overlay: im.save(tmp, "PNG"))
        written.append(target)
    if problems is not None:
        problems[:0] = preds.problems
    return written

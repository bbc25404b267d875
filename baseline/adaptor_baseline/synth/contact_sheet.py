"""A contact sheet: a grid of frames with their labelled points drawn, for a person to look at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from adaptor_baseline.data.layout import index_dataset, load_image, read_labels
from adaptor_score import atomic


def spread_over_videos(records: list, n: int, seed: int = 0) -> list:
    """``n`` records taken round-robin over the videos (each video's frames in a random order),
    so a sheet shows as many videos as it can instead of whichever are most frequent."""
    rng = np.random.default_rng(seed)
    by_video: dict[tuple, list] = {}
    for r in records:
        by_video.setdefault((r.key.folder, r.key.video), []).append(r)
    queues = [list(rng.permutation(len(v))) for v in by_video.values()]
    videos = list(by_video.values())
    picks = []
    while len(picks) < n and any(queues):
        for v, q in zip(videos, queues):
            if q and len(picks) < n:
                picks.append(v[q.pop()])
    return picks


def contact_sheet(
    data_dir: str | Path,
    out: str | Path,
    n: int = 12,
    columns: int = 3,
    scale: float = 0.75,
    seed: int = 0,
    predictions: str | Path | None = None,
) -> Path:
    """Draw ``n`` frames, spread over the videos, with their labels as green circles and, with
    ``predictions`` (a prediction folder), the predicted points as red crosses; write a PNG. Each
    tile has a caption band (frame, label and prediction counts) under it."""
    from adaptor_score.predictions import load_predictions

    records = [r for r in index_dataset(data_dir) if r.labels is not None]
    if not records:
        raise ValueError(f"{data_dir}: no labelled frames found")
    picks = spread_over_videos(records, n, seed)
    preds = load_predictions(predictions, [r.key for r in picks]) if predictions else None
    tiles = []
    for rec in picks:
        img = Image.fromarray(load_image(rec.image))
        pts = read_labels(rec.labels)
        draw = ImageDraw.Draw(img)
        for x, y in pts:
            draw.ellipse([x - 6, y - 6, x + 6, y + 6], outline=(0, 0, 0), width=3)
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=(0, 255, 0), width=1)
        caption = f"{rec.key}   {len(pts)} labels"
        if preds is not None:
            found = preds.get(rec.key)
            for x, y in found:
                for w, c in ((4, (0, 0, 0)), (2, (255, 40, 40))):
                    draw.line([x - 4, y - 4, x + 4, y + 4], fill=c, width=w)
                    draw.line([x - 4, y + 4, x + 4, y - 4], fill=c, width=w)
            caption += f"   {len(found)} predicted"
        tile = img.resize((int(img.width * scale), int(img.height * scale)))
        framed = Image.new("RGB", (tile.width, tile.height + 22), (20, 20, 20))
        framed.paste(tile, (0, 0))
        ImageDraw.Draw(framed).text((6, tile.height + 5), caption, fill=(240, 240, 240))
        tiles.append(framed)
    w, h = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * w, rows * h), (20, 20, 20))
    for k, tile in enumerate(tiles):
        sheet.paste(tile, ((k % columns) * w, (k // columns) * h))
    out = Path(out)
    atomic.write_with(out, lambda tmp: sheet.save(tmp, "PNG"))
    return out

"""A contact sheet: a grid of frames with their labelled points drawn, for a person to look at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from adaptor_baseline.data.layout import index_dataset, load_image, read_labels


def contact_sheet(
    data_dir: str | Path,
    out: str | Path,
    n: int = 12,
    columns: int = 3,
    scale: float = 0.75,
    seed: int = 0,
) -> Path:
    """Draw ``n`` frames (spread over the dataset) with labels as green circles; write a PNG."""
    records = [r for r in index_dataset(data_dir) if r.labels is not None]
    if not records:
        raise ValueError(f"{data_dir}: no labelled frames found")
    rng = np.random.default_rng(seed)
    picks = sorted(rng.choice(len(records), size=min(n, len(records)), replace=False))
    tiles = []
    for i in picks:
        rec = records[i]
        img = Image.fromarray(load_image(rec.image))
        pts = read_labels(rec.labels)
        draw = ImageDraw.Draw(img)
        for x, y in pts:
            draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=(0, 255, 0), width=1)
        draw.text((6, 4), f"{rec.key}  ({len(pts)} pts)", fill=(255, 255, 0))
        tiles.append(img.resize((int(img.width * scale), int(img.height * scale))))
    w, h = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * w, rows * h), (20, 20, 20))
    for k, tile in enumerate(tiles):
        sheet.paste(tile, ((k % columns) * w, (k // columns) * h))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out

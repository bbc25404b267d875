"""The domain-transformation gallery: for a fixed, seeded sample of frames of each direction, the
source frame (its labels drawn, optionally) and every translation side by side, as thumbnails
the page loads lazily and as one PNG contact sheet per direction.

Input: the measures files of ``adaptor-baseline translation-measures`` (one per direction), which
name the labelled source folder and each translation folder (teams and reference points). File
names in the site are numbers, never a team's name; every image goes through the one reader
(:func:`adaptor_score.imagefile.read_image`), and a translation that cannot be read shows as a
grey tile marked "unreadable" instead of stopping the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from adaptor_score import atomic
from adaptor_score.frames import key_from_relative_path
from adaptor_score.imagefile import ImageError, read_image

THUMB = (256, 144)  # half a frame: legible, and 40 of them stay near 1 MB
SAMPLE = 4  # frames per direction
LABEL_COLOUR = (0, 114, 178)  # Okabe-Ito blue, as TP in the overlays


@dataclass
class Direction:
    source_domain: str
    target_domain: str
    names: list[str]  # the columns after the source: each translation's name
    rows: list[dict] = field(default_factory=list)  # frame, source thumb, translation thumbs
    sheet: str = ""  # the contact sheet's file, relative to the site
    measures: dict = field(default_factory=dict)


def _thumb(image: np.ndarray | None, points=None) -> np.ndarray:
    from PIL import Image, ImageDraw

    if image is None:
        tile = Image.new("RGB", THUMB, (200, 200, 200))
        ImageDraw.Draw(tile).text((8, 8), "unreadable", fill=(60, 60, 60))
        return np.asarray(tile)
    h, w = image.shape[:2]
    tile = Image.fromarray(image).resize(THUMB, Image.BILINEAR)
    if points is not None and len(points):
        draw = ImageDraw.Draw(tile)
        sx, sy = THUMB[0] / w, THUMB[1] / h
        for x, y in points:
            cx, cy = x * sx, y * sy
            draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], outline=LABEL_COLOUR, width=2)
    return np.asarray(tile)


def _read(path: Path) -> np.ndarray | None:
    try:
        return read_image(path)
    except ImageError:
        return None


def _save_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    atomic.write_with(path, lambda tmp: Image.fromarray(array).save(tmp, "PNG"))


def build_gallery(measures: list[dict], site: Path, labels: bool = True, seed: int = 0,
                  sample: int = SAMPLE) -> list[Direction]:  # fmt: skip
    """Thumbnails and contact sheets in ``site/gallery/`` for each measures document; returns
    what the page shows."""
    from adaptor_score.groundtruth import load_ground_truth
    from adaptor_score.translation import translation_path
    from adaptor_score.validate import find_images

    directions = []
    for d, doc in enumerate(measures):
        source = Path(doc["source"])
        gt = load_ground_truth(source)
        images, _ = find_images(source)
        images = sorted(images)
        rng = np.random.default_rng([seed, d])
        pick = sorted(rng.choice(len(images), size=min(sample, len(images)), replace=False))
        names = list(doc["translations"])
        direction = Direction(doc.get("domain", "?"), doc.get("target", "?"), names,
                              measures=doc)  # fmt: skip
        tiles = []
        for row, i in enumerate(pick):
            image = images[i]
            key = key_from_relative_path(image.relative_to(source))
            points = gt.points.get(key) if labels and key is not None else None
            cells = [_thumb(_read(image), points)]
            for name in names:
                folder = Path(doc["translations"][name]["folder"])
                target = translation_path(folder, source, image)
                cells.append(_thumb(_read(target) if target.is_file() else None, points))
            files = []
            for c, cell in enumerate(cells):
                rel = f"gallery/{d}-{row}-{c}.png"
                _save_png(site / rel, cell)
                files.append(rel)
            direction.rows.append({"frame": str(key or image.name), "files": files})
            tiles.append(np.concatenate(cells, axis=1))
        if tiles:
            direction.sheet = f"gallery/sheet-{d}.png"
            _save_png(site / direction.sheet, _sheet(tiles, ["source", *names]))
        directions.append(direction)
    return directions


def _sheet(rows: list[np.ndarray], names: list[str]) -> np.ndarray:
    """The contact sheet: a header row naming the columns, then one row of tiles per frame."""
    from PIL import Image, ImageDraw

    width = rows[0].shape[1]
    header = Image.new("RGB", (width, 24), (255, 255, 255))
    draw = ImageDraw.Draw(header)
    for c, name in enumerate(names):
        draw.text((c * THUMB[0] + 6, 6), name[:40], fill=(20, 20, 20))
    return np.concatenate([np.asarray(header), *rows], axis=0)

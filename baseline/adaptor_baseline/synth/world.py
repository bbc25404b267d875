"""The world canvas of a surgery: tissue, annulus, blood, spots, and the stitches placed so far.

The canvas is drawn in world px and the camera maps it to each frame (``render.py``), so the
scene stays put on the tissue while the view moves. Threads are drawn at twice the resolution
and reduced, so they are anti-aliased; a new canvas is drawn only when a stitch appears
(:class:`WorldCache`), which keeps the cost per frame low.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from adaptor_baseline.synth.plan import WORLD, Surgery

SS = 2  # supersampling of the drawn layer
FELT = (226, 222, 208)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    coarse = rng.random((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, mode="F").resize((w, h), Image.BICUBIC))


def _ellipse_polygon(s: Surgery, scale: float, radial: float = 0.0) -> list[tuple[float, float]]:
    a = np.linspace(0, 2 * np.pi, 160)
    local = np.stack([s.axes[0] * scale * np.cos(a), s.axes[1] * scale * np.sin(a)], 1)
    norm = local / np.linalg.norm(local, axis=1, keepdims=True)
    c, si = np.cos(s.tilt), np.sin(s.tilt)
    pts = (local + radial * norm) @ np.array([[c, -si], [si, c]]).T + s.centre
    return [tuple(p) for p in pts]


def _mask(polys_fill: list[tuple[list, int]], blur: float) -> np.ndarray:
    m = Image.new("L", WORLD, 0)
    d = ImageDraw.Draw(m)
    for poly, fill in polys_fill:
        d.polygon(poly, fill=fill)
    return np.asarray(m.filter(ImageFilter.GaussianBlur(blur)), np.float32)[..., None] / 255


def draw_base(s: Surgery) -> tuple[np.ndarray, np.ndarray]:
    """``(canvas (H, W, 3) float32 0-1, blood opacity (H, W) float32)`` of a surgery."""
    rng = np.random.default_rng([s.seed, 3])
    w, h = WORLD
    style = s.style
    n = (
        0.5 * _smooth_noise(rng, h, w, 96)
        + 0.3 * _smooth_noise(rng, h, w, 24)
        + 0.2 * _smooth_noise(rng, h, w, 6)
    )
    n = (n - n.mean()) / (n.std() + 1e-6)
    tint = 1 + style.tissue_var * n[..., None] * np.array([1.0, 1.3, 1.3], np.float32)
    tex = s.tissue.astype(np.float32) * tint
    ridge = np.abs(_smooth_noise(rng, h, w, 30) - 0.5) < 0.015  # vessels, folds, mould seams
    tex[ridge] *= 0.8 if style.tissue_var > 0.1 else 0.93
    ring = _mask([(_ellipse_polygon(s, 1, 12), 255), (_ellipse_polygon(s, 1, -12), 0)], 5)
    tex = tex * (1 - 0.6 * ring) + np.asarray(style.annulus, np.float32) * 0.6 * ring
    hole = _mask([(_ellipse_polygon(s, 0.8), 255)], 14)
    tex *= 1 - 0.5 * hole
    blood = np.zeros((h, w), np.float32)
    yy, xx = np.ogrid[:h, :w]
    for bx, by, br in s.blood:
        blood = np.maximum(blood, np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * br * br)))
    blood = np.clip(blood * 1.3, 0, 1).astype(np.float32)
    tex = tex * (1 - 0.85 * blood[..., None]) + np.array([0.3, 0.02, 0.03], np.float32) * (
        0.85 * blood[..., None]
    )
    img = Image.fromarray((np.clip(tex, 0, 1) * 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for x, y, r in s.spots:  # dark, puncture-sized: the commonest false friend of a suture point
        shade = tuple(int(c * rng.uniform(0.25, 0.55)) for c in img.getpixel((int(x), int(y))))
        d.ellipse([x - r, y - r, x + r, y + r], fill=shade)
    return np.asarray(img, np.float32) / 255, blood


def _thread(d, line, colour, width, shadow=True):
    pts = [tuple(p * SS) for p in line]
    if shadow:
        shade = [(x + 1.5 * SS, y + 1.5 * SS) for x, y in pts]
        d.line(shade, fill=(20, 8, 8), width=round(width * SS * 1.3), joint="curve")
    d.line(pts, fill=colour, width=round(width * SS), joint="curve")
    light = tuple(min(255, int(c * 1.15 + 25)) for c in colour)
    shine = [(x - 0.4 * SS, y - 0.4 * SS) for x, y in pts]
    d.line(shine, fill=light, width=max(1, round(width * SS / 3)), joint="curve")


def thread_line(bite: np.ndarray, far: np.ndarray, bend: float, n: int = 18) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    d = far - bite
    normal = np.array([-d[1], d[0]])
    return bite + d * t + normal * bend * t * (1 - t)


def _pledget(d, centre, angle, length, breadth=6.0):
    u = np.array([np.cos(angle), np.sin(angle)])
    v = np.array([-u[1], u[0]])
    corners = [
        centre + a * u * length / 2 + b * v * breadth / 2
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    d.polygon([tuple(c * SS) for c in corners], fill=FELT, outline=(150, 140, 130))


def draw_stage(s: Surgery, base: np.ndarray, placed: int) -> np.ndarray:
    """The canvas with the first ``placed`` stitches and all distractors, uint8 ``(H, W, 3)``."""
    big = Image.fromarray((base * 255).astype(np.uint8)).resize(
        (WORLD[0] * SS, WORLD[1] * SS), Image.BILINEAR
    )
    d = ImageDraw.Draw(big)
    for x, y, angle, length in s.pledgets:
        _pledget(d, np.array([x, y]), angle, length)
        stub = np.array([np.cos(angle), np.sin(angle)]) * 2
        _thread(d, np.stack([np.array([x, y]) - stub, np.array([x, y]) + stub]), FELT, 1.5, False)
    for line, colour, width in s.loose_threads + s.thread_ends:
        _thread(d, line, colour, width)
    for st in s.stitches[:placed]:
        if st.pledget:
            a, b = st.bites
            delta = b - a
            _pledget(d, (a + b) / 2, np.arctan2(delta[1], delta[0]), np.linalg.norm(delta) + 6)
        holes = []
        for bite in st.bites:  # the puncture: a raised, lit rim of tissue around a dark hole
            x, y = bite * SS
            under = big.getpixel((int(x), int(y)))
            r = 3.2 * SS
            rim = tuple(min(255, int(c * (1 + 0.25 * st.dimple) + 12)) for c in under)
            d.ellipse([x - r, y - r, x + r, y + r], fill=rim)
            holes.append((x, y, tuple(int(c * (1 - 0.8 * st.dimple)) for c in under)))
        for bite, bend in zip(st.bites, st.bend):
            _thread(d, thread_line(bite, st.far, bend), st.colour, st.width)
        for x, y, hole in holes:  # the thread vanishes into the hole, drawn over its end
            r = 2.3 * SS
            d.ellipse([x - r, y - r, x + r, y + r], fill=hole)
        line = thread_line(st.bites[0], st.far, st.bend[0], 60)
        for f in st.knots:
            x, y = line[int(f * 59)] * SS
            r = st.width * 1.7 * SS
            d.ellipse([x - r, y - r, x + r, y + r], fill=st.colour, outline=(40, 30, 30), width=SS)
    return np.asarray(big.reduce(SS))


class WorldCache:
    """Canvases by number of placed stitches, drawn on first use."""

    def __init__(self, surgery: Surgery):
        self.surgery = surgery
        self.base, self.blood = draw_base(surgery)
        self._stages: dict[int, Image.Image] = {}

    def at(self, time: float) -> tuple[Image.Image, int]:
        placed = sum(st.placed <= time for st in self.surgery.stitches)
        if placed not in self._stages:
            self._stages = {placed: Image.fromarray(draw_stage(self.surgery, self.base, placed))}
        return self._stages[placed], placed

"""The world canvas of a surgery: tissue, annulus, blood, spots, and the stitches placed so far
(with the needle marks beside their bites).

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
    # Tissue spots (petechiae, cautery marks; ink on silicone): puncture-sized and dark, but soft
    # and reddish-brown, without the crisp dark centre and lit rim a needle leaves; the crisp
    # look-alikes are the needle marks beside the bites (plan.py), where the surgeon worked.
    for x, y, r in s.spots:
        x0, y0 = max(0, int(x - 3 * r)), max(0, int(y - 3 * r))
        x1, y1 = int(x + 3 * r) + 1, int(y + 3 * r) + 1
        g = np.exp(-((xx[:, x0:x1] - x) ** 2 + (yy[y0:y1] - y) ** 2) / (2 * (r / 1.5) ** 2))
        depth = rng.uniform(0.35, 0.6) * np.array([0.7, 1.0, 1.0], np.float32)
        tex[y0:y1, x0:x1] *= 1 - g[..., None].astype(np.float32) * depth
    return np.clip(tex, 0, 1).astype(np.float32), blood


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


def knot_points(st) -> np.ndarray:
    """World positions ``(n, 2)`` of a stitch's knots, along its first thread."""
    line = thread_line(st.bites[0], st.far, st.bend[0], 60)
    return np.array([line[int(f * 59)] for f in st.knots]).reshape(-1, 2)


def _pledget(d, centre, angle, length, breadth=6.0):
    u = np.array([np.cos(angle), np.sin(angle)])
    v = np.array([-u[1], u[0]])
    corners = [
        centre + a * u * length / 2 + b * v * breadth / 2
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    d.polygon([tuple(c * SS) for c in corners], fill=FELT, outline=(150, 140, 130))


def _dot(d, x: float, y: float, r: float, fill) -> None:
    d.ellipse([x - r, y - r, x + r, y + r], fill=fill)


def _puncture(d, big: Image.Image, at: np.ndarray, dimple: float, scale: float = 1.0):
    """Draw a puncture's raised, lit rim at world ``at``; returns the colour of its dark hole."""
    x, y = at * SS
    under = big.getpixel((int(x), int(y)))
    rim = tuple(min(255, int(c * (1 + 0.25 * dimple) + 12)) for c in under)
    _dot(d, x, y, 3.2 * SS * scale, rim)
    return tuple(int(c * (1 - 0.8 * dimple)) for c in under)


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
        for x, y, r, kind in st.marks:  # needle marks beside the bites: never labelled
            if kind:
                hole = _puncture(d, big, np.array([x, y]), st.dimple, r / 2.3)
                _dot(d, x * SS, y * SS, r * SS, hole)
            else:
                under = big.getpixel((int(x * SS), int(y * SS)))
                _dot(d, x * SS, y * SS, r * SS, tuple(int(c * 0.4) for c in under))
        holes = [(*(bite * SS), _puncture(d, big, bite, st.dimple)) for bite in st.bites]
        for bite, bend in zip(st.bites, st.bend):
            _thread(d, thread_line(bite, st.far, bend), st.colour, st.width)
        for x, y, hole in holes:  # the thread vanishes into the hole, drawn over its end
            _dot(d, x, y, 2.3 * SS, hole)
        for x, y in knot_points(st) * SS:
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

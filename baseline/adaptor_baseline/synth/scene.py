"""Procedural endoscopic frames of mitral-annulus suturing, with exact point labels.

A video is one :class:`VideoPlan`: an elliptical annulus on textured tissue, a set of sutures
placed along it (mattress pairs a few px to ~15 px apart plus isolated stitches), instruments,
and a camera that drifts smoothly. Sutures appear one after another as the video goes on, so
early frames may have none. Each frame is rendered from the plan at its time step.

Labelling rule (documented in the README): a suture point is labelled when its centre lies inside
the round endoscope field, at least 2 px inside the frame, and not under an instrument shaft.
Occluded points are not labelled, since annotators label what they can see.

Domains: ``sim`` is a clean, bright silicone valve (beige/pink, sharp, few specular highlights,
no blood); ``intraop`` is darker and redder, blurred, with more texture, specular highlights,
blood, white-balance and lighting changes and more instruments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from adaptor_score.contract import FRAME_SIZE

WIDTH, HEIGHT = FRAME_SIZE


@dataclass(frozen=True)
class DomainStyle:
    tissue: tuple[float, float, float]  # base RGB 0-1
    tissue_var: float  # texture amplitude
    annulus: tuple[float, float, float]
    brightness: tuple[float, float]
    blur: tuple[float, float]  # gaussian blur radius range (px)
    highlights: tuple[int, int]
    instruments: float  # expected instruments per video
    blood: float  # probability of blood patches per video
    wb_jitter: float
    vignette: float
    noise: float
    thread_colours: tuple[tuple[int, int, int], ...]


STYLES = {
    "sim": DomainStyle(
        tissue=(0.86, 0.66, 0.58),
        tissue_var=0.05,
        annulus=(0.93, 0.76, 0.68),
        brightness=(0.95, 1.1),
        blur=(0.0, 0.4),
        highlights=(0, 3),
        instruments=0.6,
        blood=0.0,
        wb_jitter=0.03,
        vignette=0.35,
        noise=0.01,
        thread_colours=((245, 245, 240), (40, 70, 200), (230, 230, 235)),
    ),
    "intraop": DomainStyle(
        tissue=(0.62, 0.24, 0.20),
        tissue_var=0.14,
        annulus=(0.74, 0.38, 0.30),
        brightness=(0.55, 0.95),
        blur=(0.4, 1.6),
        highlights=(3, 14),
        instruments=1.3,
        blood=0.6,
        wb_jitter=0.10,
        vignette=0.6,
        noise=0.025,
        thread_colours=((235, 235, 225), (35, 60, 170), (215, 215, 205)),
    ),
}


@dataclass
class Suture:
    """One stitch: one point (isolated) or two points (mattress), appearing at ``appear``."""

    points: np.ndarray  # (k, 2) in annulus-local coordinates (before the camera transform)
    colour: tuple[int, int, int]
    appear: int
    thread_dir: np.ndarray  # (k, 2) unit direction the thread leaves in (local)
    thread_len: np.ndarray  # (k,)
    bend: np.ndarray  # (k,)


@dataclass
class VideoPlan:
    domain: str
    seed: int
    frames: int
    texture: np.ndarray  # (H2, W2, 3) float32 tissue texture, larger than a frame
    centre: np.ndarray
    axes: np.ndarray
    tilt: float
    sutures: list[Suture]
    camera: np.ndarray  # (frames, 4): dx, dy, rotation (rad), zoom
    instruments: list[dict]
    blood: list[tuple[float, float, float]]
    field_radius: float
    field_centre: np.ndarray
    wb: np.ndarray
    brightness: float
    blur: float
    extras: dict = field(default_factory=dict)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Value noise: a coarse random grid upsampled bicubically (fast, smooth, tileable enough)."""
    coarse = rng.random((max(2, h // scale), max(2, w // scale))).astype(np.float32)
    img = Image.fromarray(coarse, mode="F").resize((w, h), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32)


def _tissue_texture(rng, style: DomainStyle, h: int, w: int) -> np.ndarray:
    n = (
        0.5 * _smooth_noise(rng, h, w, 64)
        + 0.3 * _smooth_noise(rng, h, w, 16)
        + 0.2 * _smooth_noise(rng, h, w, 5)
    )
    n = (n - n.mean()) / (n.std() + 1e-6)
    base = np.asarray(style.tissue, dtype=np.float32)
    tint = 1 + style.tissue_var * n[..., None] * np.array([1.0, 1.3, 1.3], dtype=np.float32)
    tex = base * tint
    # faint vessels / folds: thin darker ridges from a second noise field
    ridge = np.abs(_smooth_noise(rng, h, w, 24) - 0.5) < 0.02
    tex[ridge] *= 0.85 if style.tissue_var > 0.1 else 0.95
    return np.clip(tex, 0, 1)


def plan_video(domain: str, seed: int, frames: int, max_points: int = 30) -> VideoPlan:
    """Draw everything about one video that stays fixed or drifts smoothly over its frames."""
    style = STYLES[domain]
    rng = np.random.default_rng(seed)
    tex = _tissue_texture(rng, style, HEIGHT + 96, WIDTH + 160)
    centre = np.array([WIDTH / 2 + rng.uniform(-40, 40), HEIGHT / 2 + rng.uniform(-25, 25)])
    axes = np.array([rng.uniform(120, 190), rng.uniform(70, 110)])
    tilt = rng.uniform(-0.35, 0.35)

    # Sutures along the annulus: angles spread around the ring, with mattress pairs.
    n_points = int(rng.integers(0, max_points + 1)) if rng.random() > 0.05 else 0
    sutures: list[Suture] = []
    angles = np.sort(rng.uniform(0, 2 * np.pi, max(1, n_points)))
    used = 0
    order = rng.permutation(len(angles))
    colour_choice = style.thread_colours
    for k in order:
        if used >= n_points:
            break
        a = angles[k]
        mattress = used + 2 <= n_points and rng.random() < 0.6
        radial = rng.uniform(-6, 6)
        p0 = _ellipse_point(axes, a, radial)
        if mattress:
            gap = rng.uniform(4, 15)
            tangent = _ellipse_tangent(axes, a)
            p1 = p0 + gap * tangent + rng.normal(0, 1.2, 2)
            pts = np.stack([p0, p1])
        else:
            pts = p0[None]
        out = pts / np.maximum(np.linalg.norm(pts, axis=1, keepdims=True), 1e-6)
        # threads leave roughly outward and upward (towards the camera side of the scene)
        direction = out + np.array([0.0, -0.8]) + rng.normal(0, 0.25, (len(pts), 2))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        sutures.append(
            Suture(
                points=pts,
                colour=colour_choice[int(rng.integers(len(colour_choice)))],
                appear=int(rng.integers(0, max(1, frames // 2))) if rng.random() < 0.5 else 0,
                thread_dir=direction,
                thread_len=rng.uniform(30, 120, len(pts)),
                bend=rng.uniform(-0.5, 0.5, len(pts)),
            )
        )
        used += len(pts)

    # Camera: smooth random walk in translation, rotation and zoom.
    steps = rng.normal(0, 1, (frames, 4)) * np.array([0.8, 0.6, 0.004, 0.002])
    cam = np.cumsum(steps, axis=0)
    kernel = np.ones(7) / 7
    cam = np.stack([np.convolve(cam[:, i], kernel, mode="same") for i in range(4)], axis=1)
    cam[:, 3] += 1.0 + rng.uniform(-0.08, 0.08)

    instruments = []
    for _ in range(rng.poisson(style.instruments)):
        side = rng.integers(0, 3)
        start = {
            0: (rng.uniform(-40, 0), rng.uniform(0, HEIGHT)),
            1: (rng.uniform(WIDTH, WIDTH + 40), rng.uniform(0, HEIGHT)),
            2: (rng.uniform(0, WIDTH), HEIGHT + rng.uniform(0, 40)),
        }[int(side)]
        target = centre + rng.normal(0, 60, 2)
        instruments.append(
            {
                "start": np.array(start),
                "target": target,
                "width": rng.uniform(14, 34),
                "reach": rng.uniform(0.3, 0.95),
                "wobble": rng.uniform(0, 2 * np.pi),
                "shade": rng.uniform(0.25, 0.55),
            }
        )
    blood = []
    if rng.random() < style.blood:
        for _ in range(rng.integers(1, 5)):
            blood.append((rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT), rng.uniform(8, 40)))

    return VideoPlan(
        domain=domain,
        seed=seed,
        frames=frames,
        texture=tex,
        centre=centre,
        axes=axes,
        tilt=tilt,
        sutures=sutures,
        camera=cam,
        instruments=instruments,
        blood=blood,
        field_radius=rng.uniform(0.52, 0.62) * WIDTH,
        field_centre=np.array([WIDTH / 2 + rng.uniform(-10, 10), HEIGHT / 2 + rng.uniform(-6, 6)]),
        wb=1 + rng.uniform(-style.wb_jitter, style.wb_jitter, 3),
        brightness=rng.uniform(*style.brightness),
        blur=rng.uniform(*style.blur),
    )


def _ellipse_point(axes, angle, radial=0.0):
    p = np.array([axes[0] * math.cos(angle), axes[1] * math.sin(angle)])
    n = p / max(np.linalg.norm(p), 1e-6)
    return p + radial * n


def _ellipse_tangent(axes, angle):
    t = np.array([-axes[0] * math.sin(angle), axes[1] * math.cos(angle)])
    return t / max(np.linalg.norm(t), 1e-6)


def _frame_transform(plan: VideoPlan, t: int):
    """Map annulus-local points to image pixels at frame ``t``."""
    dx, dy, rot, zoom = plan.camera[t]
    ang = plan.tilt + rot
    c, s = math.cos(ang), math.sin(ang)
    mat = zoom * np.array([[c, -s], [s, c]])
    offset = plan.centre + np.array([dx, dy])
    return lambda p: np.asarray(p, dtype=np.float64) @ mat.T + offset


def _thread_polyline(p, direction, length, bend, n=12):
    t = np.linspace(0, 1, n)[:, None]
    normal = np.array([-direction[1], direction[0]])
    return p + direction * length * t + normal * bend * length * t * t


def render_frame(
    plan: VideoPlan, t: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Render frame ``t``: ``(image (H, W, 3) uint8, points (N, 2) float64 labels)``."""
    style = STYLES[plan.domain]
    to_img = _frame_transform(plan, t)
    dx, dy = plan.camera[t, :2]
    ox = int(np.clip(80 - dx * 0.6, 0, plan.texture.shape[1] - WIDTH))
    oy = int(np.clip(48 - dy * 0.6, 0, plan.texture.shape[0] - HEIGHT))
    base = plan.texture[oy : oy + HEIGHT, ox : ox + WIDTH].copy()

    # Annulus ridge: a band drawn in a mask and blended in.
    ring = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(ring)
    angles = np.linspace(0, 2 * np.pi, 120)
    outer = to_img(np.stack([_ellipse_point(plan.axes, a, 9) for a in angles]))
    inner = to_img(np.stack([_ellipse_point(plan.axes, a, -9) for a in angles]))
    draw.polygon([tuple(p) for p in outer], fill=255)
    draw.polygon([tuple(p) for p in inner], fill=0)
    ring = ring.filter(ImageFilter.GaussianBlur(4))
    ring_a = np.asarray(ring, dtype=np.float32)[..., None] / 255.0
    base = base * (1 - 0.6 * ring_a) + np.asarray(style.annulus, dtype=np.float32) * 0.6 * ring_a
    # the valve orifice: darker inside the ring
    hole = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(hole).polygon(
        [tuple(p) for p in to_img(np.stack([_ellipse_point(plan.axes * 0.82, a) for a in angles]))],
        fill=255,
    )
    hole_a = (
        np.asarray(hole.filter(ImageFilter.GaussianBlur(10)), dtype=np.float32)[..., None] / 255
    )
    base = base * (1 - 0.45 * hole_a)

    for bx, by, br in plan.blood:
        yy, xx = np.ogrid[:HEIGHT, :WIDTH]
        blob = np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * br * br))[..., None].astype(
            np.float32
        )
        base = base * (1 - 0.5 * blob) + np.array([0.35, 0.02, 0.03], np.float32) * 0.5 * blob

    img = Image.fromarray((np.clip(base, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)

    # Sutures visible at this time: puncture marks, then threads leaving them.
    points = []
    linear = to_img(np.eye(2)) - to_img(np.zeros((1, 2)))  # rows: images of the unit vectors
    for s in plan.sutures:
        if s.appear > t:
            continue
        pts = to_img(s.points)
        dirs = s.thread_dir @ linear
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        for p, d, length, bend in zip(pts, dirs, s.thread_len, s.bend):
            line = _thread_polyline(p, d, length, bend)
            shadow = tuple(int(c * 0.45) for c in s.colour)
            draw.line([tuple(q + 1.2) for q in line], fill=shadow, width=3)
            draw.line([tuple(q) for q in line], fill=s.colour, width=2)
            r = 2.2
            draw.ellipse(
                [p[0] - r, p[1] - r, p[0] + r, p[1] + r],
                fill=tuple(int(c * 0.35) for c in s.colour),
            )
            points.append(p)
    pts = np.array(points, dtype=np.float64).reshape(-1, 2)

    # Instruments: metallic shafts that occlude whatever is below them.
    occluded = np.zeros(len(pts), dtype=bool)
    for ins in plan.instruments:
        wob = 0.15 * math.sin(ins["wobble"] + 0.07 * t)
        reach = np.clip(ins["reach"] + wob, 0.1, 1.0)
        a = ins["start"]
        b = a + (ins["target"] - a) * reach
        w = ins["width"]
        shade = int(255 * ins["shade"])
        draw.line([tuple(a), tuple(b)], fill=(shade, shade, int(shade * 1.05)), width=int(w))
        draw.line([tuple(a), tuple(b)], fill=(min(255, shade + 70),) * 3, width=max(2, int(w / 6)))
        if len(pts):
            ab = b - a
            tt = np.clip(((pts - a) @ ab) / max(ab @ ab, 1e-6), 0, 1)
            dist = np.linalg.norm(pts - (a + tt[:, None] * ab), axis=1)
            occluded |= dist <= w / 2 + 1

    arr = np.asarray(img, dtype=np.float32) / 255.0
    # Specular highlights.
    for _ in range(int(rng.integers(style.highlights[0], style.highlights[1] + 1))):
        hx, hy = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        hr = rng.uniform(1.5, 6)
        x0, x1 = int(max(0, hx - 4 * hr)), int(min(WIDTH, hx + 4 * hr + 1))
        y0, y1 = int(max(0, hy - 4 * hr)), int(min(HEIGHT, hy + 4 * hr + 1))
        yy, xx = np.mgrid[y0:y1, x0:x1]
        spot = np.exp(-((xx - hx) ** 2 + (yy - hy) ** 2 * 2.5) / (2 * hr * hr))[..., None]
        arr[y0:y1, x0:x1] = arr[y0:y1, x0:x1] * (1 - spot) + spot

    # Lighting, white balance, vignetting, round endoscope field, blur, sensor noise.
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rr = np.hypot(xx - plan.field_centre[0], yy - plan.field_centre[1]) / plan.field_radius
    flicker = 1 + 0.03 * math.sin(0.3 * t + plan.seed)
    light = plan.brightness * flicker * (1 - style.vignette * np.clip(rr, 0, 1) ** 2)
    arr = arr * light[..., None] * plan.wb[None, None, :].astype(np.float32)
    field_mask = np.clip((1.0 - rr) * 40, 0, 1)
    arr *= field_mask[..., None]
    out = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
    if plan.blur > 0.05:
        out = out.filter(ImageFilter.GaussianBlur(plan.blur))
    arr = np.asarray(out, dtype=np.float32)
    arr += rng.normal(0, style.noise * 255, arr.shape).astype(np.float32)
    image = np.clip(arr, 0, 255).astype(np.uint8)

    if len(pts):
        inside = (
            (pts[:, 0] >= 2)
            & (pts[:, 0] <= WIDTH - 3)
            & (pts[:, 1] >= 2)
            & (pts[:, 1] <= HEIGHT - 3)
        )
        in_field = (
            np.hypot(pts[:, 0] - plan.field_centre[0], pts[:, 1] - plan.field_centre[1])
            < plan.field_radius * 0.97
        )
        pts = pts[inside & in_field & ~occluded]
    return image, np.round(pts, 2)

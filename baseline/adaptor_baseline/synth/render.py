"""One frame of a video: the camera's view of the world canvas, then what lies between the
camera and the tissue (tissue flap, instruments), then light, optics and sensor.

Order, each step with why:

1. **camera**: an affine map (zoom, roll, obliquity) of the world canvas; a jerk frame averages
   the views along the motion during the exposure (motion blur), and its labels sit at the
   middle of the exposure;
2. **tissue flap** and **instruments** (shafts with jaws, shadows and a specular stripe): what
   they cover is occluded, and occluded points are not labelled, as annotators label what they
   see;
3. **light**: exposure drifting in time, an off-centre light source with its fall-off, the
   surgery's and the video's white balance; then **saturated specular reflections** on wet
   tissue (values far above white, clipped to 255 in every channel);
4. **optics and sensor**: the round endoscope field, defocus that varies in time, noise, and the
   video codec (JPEG) for intra-operative frames.

:func:`render_frame` returns the image and the true position of every visible bite, with the
bite's identity; the annotator (``annotate.py``) turns those into labels.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from adaptor_baseline.synth.plan import Video
from adaptor_baseline.synth.world import WorldCache
from adaptor_score.contract import FRAME_SIZE

WIDTH, HEIGHT = FRAME_SIZE
_CENTRE = np.array([WIDTH / 2, HEIGHT / 2])


def camera_matrix(video: Video, k: int) -> np.ndarray:
    """World-to-image linear part ``(2, 2)`` at frame ``k`` (translation: see :func:`to_image`)."""
    c, s = math.cos(video.squash_angle), math.sin(video.squash_angle)
    rot_sq = np.array([[c, -s], [s, c]])
    squash = rot_sq @ np.diag([1.0, video.squash]) @ rot_sq.T
    r = video.roll[k]
    roll = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    return video.zoom[k] * roll @ squash


def to_image(video: Video, k: int, world: np.ndarray) -> np.ndarray:
    return (np.asarray(world) - video.look[k]) @ camera_matrix(video, k).T + _CENTRE


def _view(canvas: Image.Image, mat: np.ndarray, look: np.ndarray) -> np.ndarray:
    inv = np.linalg.inv(mat)
    off = look - inv @ _CENTRE
    data = (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1])
    out = canvas.transform((WIDTH, HEIGHT), Image.AFFINE, data, resample=Image.BILINEAR)
    return np.asarray(out, np.float32)


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def shaft(ins: dict, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An instrument's shaft at frame ``k``: ``(entry, tip, unit normal)`` in image px."""
    a = ins["entry"]
    direction = ins["target"] - a
    normal = np.array([-direction[1], direction[0]]) / max(np.linalg.norm(direction), 1e-6)
    return a, a + direction * ins["reach"][k] + normal * ins["sway"][k] * 3, normal


def _instruments(img: Image.Image, video: Video, k: int, pts: np.ndarray) -> np.ndarray:
    """Draw the instruments in view at frame ``k``; returns which ``pts`` they cover."""
    covered = np.zeros(len(pts), bool)
    d = ImageDraw.Draw(img)
    for ins in video.instruments:
        if not ins["present"][k]:
            continue
        a, b, normal = shaft(ins, k)
        w = ins["width"]
        g = int(255 * ins["shade"])
        d.line([tuple(a + 6), tuple(b + 6)], fill=(25, 10, 10), width=int(w))  # shadow
        d.line([tuple(a), tuple(b)], fill=(g, g, int(g * 1.05)), width=int(w))
        d.line(
            [tuple(a - normal * w / 4), tuple(b - normal * w / 4)],
            fill=(min(255, g + 60),) * 3,
            width=max(2, int(w / 5)),
        )
        d.line(
            [tuple(a + normal * w / 5), tuple(b + normal * w / 5)],
            fill=(250, 250, 250),
            width=max(1, int(w / 12)),
        )
        u = (b - a) / max(np.linalg.norm(b - a), 1e-6)
        covered |= _segment_distance(pts, a, b) <= w / 2 + 1
        for sign in (-1, 1):  # two jaws, opening and closing: small, pointed, point-like tips
            ang = sign * ins["open"][k]
            rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
            tip = b + rot @ u * ins["jaw"]
            jw = max(2, int(w / 4))
            d.line([tuple(b), tuple(tip)], fill=(int(g * 0.7),) * 3, width=jw)
            d.ellipse([tip[0] - 1.5, tip[1] - 1.5, tip[0] + 1.5, tip[1] + 1.5], fill=(40, 40, 45))
            covered |= _segment_distance(pts, b, tip) <= jw / 2 + 1
    return covered


def _flap(arr: np.ndarray, video: Video, k: int, pts: np.ndarray) -> np.ndarray:
    f = video.flap
    centre = f["centre"] + f["speed"] * k
    poly = [tuple(p) for p in f["outline"] + centre]
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(mask).polygon(poly, fill=255)
    m = np.asarray(mask.filter(ImageFilter.GaussianBlur(1.5)), np.float32)[..., None] / 255
    shifted = np.roll(arr, (int(f["outline"][0, 1]) // 2 + 40, 60), axis=(0, 1)) * f["shade"]
    rim = np.asarray(mask.filter(ImageFilter.GaussianBlur(6)), np.float32)[..., None] / 255
    arr[:] = arr * (1 - 0.35 * rim * (1 - m)) * (1 - m) + shifted * m
    inside = np.zeros(len(pts), bool)
    for i, (x, y) in enumerate(pts):
        if 0 <= x < WIDTH and 0 <= y < HEIGHT:
            inside[i] = m[int(y), int(x), 0] > 0.5
    return inside


def render_frame(video: Video, k: int, cache: WorldCache, rng: np.random.Generator):
    """Frame ``k``: ``(image (H, W, 3) uint8, points (N, 2) true positions, ids [(stitch, bite)])``
    of the bites that are placed, in the frame, inside the field and not occluded."""
    s = video.surgery
    canvas, placed = cache.at(video.time(k))
    mat = camera_matrix(video, k)
    jerk = video.jerk[k]
    n_views = int(min(16, math.ceil(np.linalg.norm(jerk) / 0.75)))  # views <= 0.75 px apart
    if n_views > 1:
        inv = np.linalg.inv(mat)
        arr = sum(
            _view(canvas, mat, video.look[k] - inv @ (jerk * f))
            for f in np.linspace(-0.5, 0.5, n_views)
        )
        arr /= n_views
    else:
        arr = _view(canvas, mat, video.look[k])
    arr /= 255.0

    ids = [(i, j) for i, st in enumerate(s.stitches[:placed]) for j in range(len(st.bites))]
    world_pts = np.array([s.stitches[i].bites[j] for i, j in ids]).reshape(-1, 2)
    pts = to_image(video, k, world_pts) if len(ids) else np.zeros((0, 2))
    occluded = np.zeros(len(pts), bool)
    if len(pts):
        wx = np.clip(world_pts[:, 0].astype(int), 0, cache.blood.shape[1] - 1)
        wy = np.clip(world_pts[:, 1].astype(int), 0, cache.blood.shape[0] - 1)
        occluded |= cache.blood[wy, wx] > 0.6  # under pooled blood
    if video.flap is not None:
        occluded |= _flap(arr, video, k, pts)
    if video.instruments:
        img = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
        occluded |= _instruments(img, video, k, pts)
        arr = np.asarray(img, np.float32) / 255

    # light: exposure, off-centre source with fall-off, white balance
    falloff, field = _light_and_field(video)
    arr *= (video.exposure[k] * falloff)[..., None] * video.wb[None, None, :].astype(np.float32)
    _speculars(arr, video, k, rng)
    arr *= field[..., None]

    out = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
    if video.defocus[k] > 0.15:
        out = out.filter(ImageFilter.GaussianBlur(float(video.defocus[k])))
    arr = np.asarray(out, np.float32) + rng.standard_normal((HEIGHT, WIDTH, 3), np.float32) * (
        video.noise * 255
    )
    image = np.clip(arr, 0, 255).astype(np.uint8)
    if video.jpeg:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "JPEG", quality=video.jpeg)
        image = np.asarray(Image.open(buf).convert("RGB"))

    if len(pts):
        inside = (
            (pts[:, 0] >= 2)
            & (pts[:, 0] <= WIDTH - 3)
            & (pts[:, 1] >= 2)
            & (pts[:, 1] <= HEIGHT - 3)
        )
        in_field = np.hypot(*(pts - video.field_centre).T) < video.field_radius * 0.97
        keep = inside & in_field & ~occluded
        pts = pts[keep]
        ids = [i for i, kept in zip(ids, keep) if kept]
    return image, pts, ids


def _light_and_field(video: Video) -> tuple[np.ndarray, np.ndarray]:
    """The video's light fall-off and round field mask, ``(H, W)`` each (fixed per video)."""
    if video.cache.get("light") is None:
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        hot = video.field_centre + video.hotspot
        rl = np.hypot(xx - hot[0], yy - hot[1]) / video.field_radius
        falloff = 1 - video.vignette * np.clip(rl, 0, 1.4) ** 2 / 1.4
        rr = np.hypot(xx - video.field_centre[0], yy - video.field_centre[1]) / video.field_radius
        video.cache["light"] = (falloff.astype(np.float32), np.clip((1.0 - rr) * 40, 0, 1))
    return video.cache["light"]


def _speculars(arr: np.ndarray, video: Video, k: int, rng: np.random.Generator) -> None:
    """Saturated reflections: on the surgery's wet places when the light catches them, and a few
    anywhere; peak values far above 1 so their cores clip to white in every channel."""
    style = video.surgery.style
    n = int(rng.integers(style.speculars[0], style.speculars[1] + 1))
    wet = to_image(video, k, video.surgery.wet)
    lit = rng.random(len(wet)) < n / max(1, 2 * len(wet))
    spots = np.vstack(
        [wet[lit], rng.uniform((0, 0), (WIDTH, HEIGHT), (max(0, n - int(lit.sum())), 2))]
    )
    for hx, hy in spots:
        r = rng.uniform(*style.specular_size)
        elong = rng.uniform(1, 2.5)
        ang = rng.uniform(0, np.pi)
        x0, x1 = int(max(0, hx - 4 * r * elong)), int(min(WIDTH, hx + 4 * r * elong + 1))
        y0, y1 = int(max(0, hy - 4 * r * elong)), int(min(HEIGHT, hy + 4 * r * elong + 1))
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        u = (xx - hx) * math.cos(ang) + (yy - hy) * math.sin(ang)
        v = -(xx - hx) * math.sin(ang) + (yy - hy) * math.cos(ang)
        spot = np.exp(-((u / elong) ** 2 + v**2) / (2 * r * r))[..., None]
        arr[y0:y1, x0:x1] += rng.uniform(1.5, 4.0) * spot

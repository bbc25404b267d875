"""Everything about a surgery and its videos that is drawn once and then only moves.

A **surgery** is one valve (one folder of the release): an elliptical annulus on textured tissue,
the stitches placed around it in order (each at a time ``placed`` in ``[0, 1]`` of the surgery)
with the needle marks each leaves beside its bites, and the distractors that stay on the tissue
(cut thread ends, knots, spots, loose pledgets and threads, blood). A **video** is a window ``[t0, t1]`` of the surgery's time seen by a camera of
its own (view, scale, roll, obliquity, light, white balance, focus), looking where the surgeon is
working, with its own instruments and tissue flap. Frame ``k`` of a video is at surgery time
``t0 + (t1 - t0) k / (frames - 1)``, so the number of stitches grows during a surgery, video
after video, as stitches are placed. Everything is drawn from one seed, so a surgery looks the
same in all of its videos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from adaptor_baseline.synth.style import STYLES, DomainStyle, Range

WORLD = (1152, 768)  # world canvas (width, height)


@dataclass
class Stitch:
    """One stitch: one or two bites (labelled points) and their threads."""

    bites: np.ndarray  # (k, 2) world px
    far: np.ndarray  # (2,) where the threads are pulled to (outside the annulus)
    bend: np.ndarray  # (k,) thread curvature
    colour: tuple[int, int, int]
    width: float
    placed: float  # surgery time at which it appears
    pledget: bool
    dimple: float  # how dark the puncture looks (0 invisible .. 1)
    knots: list[float] = field(default_factory=list)  # positions along the first thread (0..1)
    # needle marks the stitch left beside its bites (unlabelled): (m, 4) x, y, radius, kind
    # (kind 1: an empty puncture with its rim, a bite without a thread; 0: a dark drop)
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))


@dataclass
class Surgery:
    domain: str
    seed: int
    style: DomainStyle
    centre: np.ndarray  # (2,) world px
    axes: np.ndarray  # (2,) annulus semi-axes
    tilt: float
    tissue: np.ndarray  # (3,) RGB 0-1 (the domain's colour, varied per surgery)
    wb: np.ndarray  # (3,) white-balance gains of this surgery's light source
    stitches: list[Stitch]
    thread_ends: list[tuple[np.ndarray, tuple[int, int, int], float]]  # polyline, colour, width
    loose_threads: list[tuple[np.ndarray, tuple[int, int, int], float]]
    spots: np.ndarray  # (n, 3): x, y, radius
    pledgets: np.ndarray  # (n, 4): x, y, angle, length (loose, unlabelled)
    blood: np.ndarray  # (n, 3): x, y, radius
    wet: np.ndarray  # (n, 2): world places of specular reflections (wet, curved tissue)


@dataclass
class Video:
    surgery: Surgery
    index: int
    frames: int
    seed: int
    t0: float
    t1: float
    look: np.ndarray  # (frames, 2) world point at the frame centre
    zoom: np.ndarray  # (frames,)
    roll: np.ndarray  # (frames,)
    squash: float
    squash_angle: float
    jerk: np.ndarray  # (frames, 2) image px the view moves during the exposure
    exposure: np.ndarray  # (frames,)
    wb: np.ndarray  # (3,) this video's gains (surgery's times the video's change)
    hotspot: np.ndarray  # (2,) light centre offset in image px from the field centre
    vignette: float
    defocus: np.ndarray  # (frames,)
    field_centre: np.ndarray
    field_radius: float
    instruments: list[dict]
    flap: dict | None
    jpeg: int
    noise: float
    missed: set = field(default_factory=set)  # (stitch, bite) an annotator never labels here
    # (stitch, bite) -> (dx, dy) image px: where this video's annotator clicks instead
    offsets: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # per-video arrays the renderer computes once

    def time(self, k: int) -> float:
        return self.t0 + (self.t1 - self.t0) * (k / max(1, self.frames - 1))


def _ellipse(axes, angle, radial=0.0):
    p = np.array([axes[0] * math.cos(angle), axes[1] * math.sin(angle)])
    return p + radial * p / max(np.linalg.norm(p), 1e-6)


def _tangent(axes, angle):
    t = np.array([-axes[0] * math.sin(angle), axes[1] * math.cos(angle)])
    return t / max(np.linalg.norm(t), 1e-6)


def _rot(a: float) -> np.ndarray:
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _count(rng, lo_hi) -> int:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1))


def _place_stitches(rng, style, axes, world) -> list[Stitch]:
    """Stitches round the annulus in order from a start angle, as a surgeon places them: each a
    single bite or a pair, with its thread, colour, placement time, pledget and dimple."""
    n = _count(rng, style.stitches)
    start, direction = rng.uniform(0, 2 * np.pi), rng.choice([-1.0, 1.0])
    arc = rng.uniform(0.55, 0.95) * 2 * np.pi
    n_before = int(round(n * rng.uniform(*style.placed_before)))
    times = np.concatenate([np.zeros(n_before), np.sort(rng.uniform(0.02, 1.0, n - n_before))])
    stitches = []
    for k in range(n):
        a = start + direction * arc * (k + rng.uniform(-0.25, 0.25)) / max(1, n - 1)
        p = _ellipse(axes, a, rng.uniform(-5, 5))
        if rng.random() < style.single_share:
            local = p[None]
        else:
            gap = rng.uniform(*style.pair_gap)
            t = _tangent(axes, a)
            local = np.stack([p - t * gap / 2, p + t * gap / 2]) + rng.normal(0, 0.8, (2, 2))
        out = p / np.linalg.norm(p)
        far = p + out * rng.uniform(150, 350) + rng.normal(0, 50, 2)
        stitches.append(
            Stitch(
                bites=world(local),
                far=world(far),
                bend=rng.uniform(-0.35, 0.35, len(local)),
                colour=style.thread_colours[int(rng.integers(len(style.thread_colours)))],
                width=rng.uniform(*style.thread_width),
                placed=float(times[k]),
                pledget=len(local) == 2 and rng.random() < style.pledget_share,
                dimple=rng.uniform(*style.dimple),
            )
        )
    return stitches


class _Distractors:
    """What is never labelled, drawn near the annulus: thread ends and loose threads, tissue
    spots, free pledgets, blood and wet highlights (in this order: the draws are the seed's)."""

    def __init__(self, rng, style, axes, world):
        self.rng, self.style, self.axes, self.world = rng, style, axes, world

    def near_annulus(self, count, spread):
        rng = self.rng
        a = rng.uniform(0, 2 * np.pi, count)
        r = rng.normal(0, spread, count)
        return np.array([self.world(_ellipse(self.axes, ai, ri)) for ai, ri in zip(a, r)]).reshape(
            -1, 2
        )

    def thread_piece(self, lo, hi):
        rng, style = self.rng, self.style
        p = self.near_annulus(1, 25)[0]
        d = _rot(rng.uniform(0, 2 * np.pi)) @ np.array([1.0, 0.0])
        length = rng.uniform(lo, hi)
        line = p + np.linspace(0, 1, 10)[:, None] * d * length
        line += np.sin(np.linspace(0, np.pi, 10))[:, None] * rng.normal(0, length / 8, 2)
        colour = style.thread_colours[int(rng.integers(len(style.thread_colours)))]
        return line, colour, rng.uniform(*style.thread_width)

    def draw(self) -> dict:
        rng, style, near = self.rng, self.style, self.near_annulus
        ends = [self.thread_piece(15, 70) for _ in range(_count(rng, style.thread_ends))]
        loose = [self.thread_piece(150, 400) for _ in range(_count(rng, style.loose_threads))]
        n_spots = _count(rng, style.spots)
        spots = np.column_stack([near(n_spots, 45), rng.uniform(1.2, 2.8, n_spots)])
        n_pl = _count(rng, style.free_pledgets)
        pledgets = np.column_stack(
            [near(n_pl, 30), rng.uniform(0, np.pi, n_pl), rng.uniform(10, 18, n_pl)]
        )
        n_blood = int(rng.integers(1, 6)) if rng.random() < style.blood else 0
        blood = np.column_stack([near(n_blood, 60), rng.uniform(10, 45, n_blood)])
        wet = near(int(rng.integers(30, 80)), 40)
        return {
            "thread_ends": ends,
            "loose_threads": loose,
            "spots": spots.reshape(-1, 3),
            "pledgets": pledgets.reshape(-1, 4),
            "blood": blood.reshape(-1, 3),
            "wet": wet,
        }


def plan_surgery(domain: str, seed: int, max_points: int | None = None) -> Surgery:
    """A surgery of ``domain`` from ``seed``; ``max_points`` caps its bites (whole stitches)."""
    style = STYLES[domain]
    rng = np.random.default_rng([seed, 1])
    centre = np.array(WORLD, dtype=float) / 2 + rng.uniform(-30, 30, 2)
    axes = np.array([rng.uniform(125, 165), rng.uniform(85, 115)])
    tilt = rng.uniform(-0.4, 0.4)
    rot = _rot(tilt)

    def world(local):
        return centre + np.asarray(local) @ rot.T

    stitches = _place_stitches(rng, style, axes, world)
    if max_points is not None:
        total = np.cumsum([len(st.bites) for st in stitches])
        stitches = [st for st, t in zip(stitches, total) if t <= max_points]
    for _ in range(_count(rng, style.knots) if stitches else 0):
        stitches[int(rng.integers(len(stitches)))].knots.append(rng.uniform(0.08, 0.6))
    _needle_marks(np.random.default_rng([seed, 4]), style, stitches)

    scene = _Distractors(rng, style, axes, world).draw()
    tissue = np.clip(np.asarray(style.tissue) * (1 + rng.normal(0, style.tissue_var / 2, 3)), 0, 1)
    return Surgery(
        domain=domain,
        seed=seed,
        style=style,
        centre=centre,
        axes=axes,
        tilt=tilt,
        tissue=tissue,
        wb=1 + rng.uniform(-style.wb, style.wb, 3),
        stitches=stitches,
        **scene,
    )


def _needle_marks(rng, style: DomainStyle, stitches: list[Stitch]) -> None:
    """Give each stitch the needle marks it leaves beside its bites: a Poisson number per bite
    (``style.marks``), each ``style.mark_gap`` world px from the bite in a random direction, at
    least that far from every bite of the stitch. They appear with the stitch, so they lie where
    the labels are, as the look-alikes of a real valve do (see ``DomainStyle.marks``)."""
    for st in stitches:
        marks = []
        for bite in st.bites:
            for _ in range(rng.poisson(style.marks)):
                a, r = rng.uniform(0, 2 * np.pi), rng.uniform(*style.mark_gap)
                p = bite + r * np.array([math.cos(a), math.sin(a)])
                if np.linalg.norm(st.bites - p, axis=1).min() >= style.mark_gap[0]:
                    marks.append((*p, rng.uniform(1.2, 2.4), float(rng.random() < 0.5)))
        st.marks = np.array(marks, dtype=float).reshape(-1, 4)


def _walk(rng, frames: int, scale: float, smooth: int = 9) -> np.ndarray:
    """A smooth random walk, ``(frames,)``."""
    x = np.cumsum(rng.normal(0, scale, frames + 2 * smooth))
    x = np.convolve(x, np.ones(smooth) / smooth, mode="same")[smooth : smooth + frames]
    return x - x[0]


def _camera_path(rng, surgery: Surgery, frames: int, mid: float):
    """Where the camera looks and its zoom, per frame: near the stitch placed around the time
    ``mid`` (where the surgeon works), drifting, now and then looking away, kept on the canvas."""
    style = surgery.style
    placed = [s for s in surgery.stitches if s.placed <= mid] or surgery.stitches[:1]
    work = placed[-1].bites.mean(axis=0) if placed else surgery.centre
    towards = (work - surgery.centre) * rng.uniform(*style.look_offset)
    look0 = surgery.centre + towards + rng.normal(0, 15, 2)
    drift = style.drift
    look = look0 + np.stack([_walk(rng, frames, drift), _walk(rng, frames, drift)], axis=1)
    if rng.random() < 0.3:  # the camera looks away from the valve for a moment (few empty frames)
        a = int(rng.integers(0, frames))
        away = np.exp(-0.5 * ((np.arange(frames) - a) / rng.uniform(1, 3)) ** 2)
        look += away[:, None] * (
            _rot(rng.uniform(0, 2 * np.pi)) @ np.array([rng.uniform(250, 400), 0])
        )
    zoom = rng.uniform(*style.zoom) * np.exp(_walk(rng, frames, 0.006))
    # Keep the view on the canvas: half the frame's diagonal, in world px, from every edge.
    reach = np.hypot(256, 144) / zoom[:, None]
    look = np.clip(look, reach, np.array(WORLD, dtype=float) - reach)
    return look, zoom


def _annotator_errors(rng, surgery: Surgery):
    """The bites this video's annotator misses, and those marked beside the puncture."""
    style = surgery.style
    missed = {
        (i, j)
        for i, s in enumerate(surgery.stitches)
        for j in range(len(s.bites))
        if rng.random() < style.miss_point
    }
    offsets = {
        (i, j): _away(rng, style.label_offset)
        for i, s in enumerate(surgery.stitches)
        for j in range(len(s.bites))
        if rng.random() < style.offset_share
    }
    return missed, offsets


def plan_video(surgery: Surgery, index: int, videos: int, frames: int, seed: int) -> Video:
    """Video ``index`` of ``videos`` of a surgery: its share of the surgery's time and its camera."""
    style = surgery.style
    rng = np.random.default_rng([seed, 2])
    # Videos cover consecutive windows of the surgery with small gaps and overlaps.
    t0 = (index + rng.uniform(-0.1, 0.2)) / videos
    t1 = (index + 1 + rng.uniform(-0.2, 0.1)) / videos
    t0, t1 = float(np.clip(t0, 0, 1)), float(np.clip(max(t1, t0 + 0.05), 0, 1))
    look, zoom = _camera_path(rng, surgery, frames, 0.5 * (t0 + t1))
    roll = rng.uniform(-style.roll, style.roll) + _walk(rng, frames, 0.004)
    jerky = rng.random(frames) < style.motion_blur_rate
    length = rng.uniform(*style.motion_blur_len, frames) * jerky
    angle = rng.uniform(0, 2 * np.pi, frames)
    jerk = np.stack([length * np.cos(angle), length * np.sin(angle)], axis=1)
    exposure = rng.uniform(*style.exposure) * np.exp(_walk(rng, frames, style.exposure_drift / 3))
    jumps = rng.random(frames) < 0.03  # auto-exposure steps
    exposure *= np.exp(np.cumsum(jumps * rng.normal(0, style.exposure_drift, frames)))
    defocus = np.clip(rng.uniform(*style.defocus) + _walk(rng, frames, 0.03), 0, 3)
    instruments = [_instrument(rng, frames) for _ in range(rng.poisson(style.instruments))]
    flap = _flap(rng) if rng.random() < style.flap_rate else None
    missed, offsets = _annotator_errors(rng, surgery)
    return Video(
        surgery=surgery,
        index=index,
        frames=frames,
        seed=seed,
        t0=t0,
        t1=t1,
        look=look,
        zoom=zoom,
        roll=roll,
        squash=rng.uniform(*style.squash),
        squash_angle=rng.uniform(0, np.pi),
        jerk=jerk,
        exposure=np.clip(exposure, 0.25, 1.6),
        wb=surgery.wb * (1 + rng.uniform(-style.wb_video, style.wb_video, 3)),
        hotspot=_rot(rng.uniform(0, 2 * np.pi)) @ np.array([style.light_offset * 150, 0.0]),
        vignette=rng.uniform(*style.vignette),
        defocus=defocus,
        field_centre=np.array([256 + rng.uniform(-10, 10), 144 + rng.uniform(-6, 6)]),
        field_radius=rng.uniform(0.52, 0.64) * 512,
        instruments=instruments,
        flap=flap,
        jpeg=int(rng.integers(style.jpeg[0], style.jpeg[1] + 1)) if style.jpeg[1] else 0,
        noise=style.noise,
        missed=missed,
        offsets=offsets,
    )


def _away(rng, distance: Range) -> tuple[float, float]:
    """A displacement of a length in ``distance`` in a random direction."""
    r, a = rng.uniform(*distance), rng.uniform(0, 2 * np.pi)
    return (r * np.cos(a), r * np.sin(a))


def _instrument(rng, frames: int) -> dict:
    """A shaft entering from an edge towards the valve, moving in and out and sideways."""
    side = int(rng.integers(0, 4))
    entry = {
        0: (rng.uniform(-30, 0), rng.uniform(0, 288)),
        1: (rng.uniform(512, 542), rng.uniform(0, 288)),
        2: (rng.uniform(0, 512), rng.uniform(288, 318)),
        3: (rng.uniform(0, 512), rng.uniform(-30, 0)),
    }[side]
    return {
        "entry": np.array(entry),
        "target": np.array([256.0, 144.0]) + rng.normal(0, (90, 50)),
        "reach": np.clip(rng.uniform(0.35, 0.9) + _walk(rng, frames, 0.02), 0.1, 1.0),
        "sway": _walk(rng, frames, 0.8),
        "width": rng.uniform(12, 36),
        "shade": rng.uniform(0.3, 0.6),
        "jaw": rng.uniform(10, 22),
        "open": np.clip(0.2 + _walk(rng, frames, 0.03), 0.0, 0.7),
        "present": _presence(rng, frames),
    }


def _presence(rng, frames: int) -> np.ndarray:
    """Instruments come and go: one in-view interval per video, sometimes the whole video."""
    if rng.random() < 0.4:
        return np.ones(frames, bool)
    a, b = np.sort(rng.integers(0, frames + 1, 2))
    mask = np.zeros(frames, bool)
    mask[a : max(b, a + 1)] = True
    return mask


def _flap(rng) -> dict:
    """A fold of tissue (leaflet, atrial wall) over part of the field, moving slowly."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    radius = rng.uniform(25, 70) * (
        1 + 0.25 * np.sin(angles * rng.integers(2, 4) + rng.uniform(0, 6))
    )
    return {
        "outline": np.stack([np.cos(angles), np.sin(angles) * rng.uniform(0.4, 0.9)], 1)
        * radius[:, None],
        "centre": np.array([256.0, 144.0]) + rng.normal(0, (120, 60)),
        "speed": rng.normal(0, 0.6, 2),
        "shade": rng.uniform(1.0, 1.2),
    }

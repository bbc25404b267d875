"""The domain-transformation task measured, not ranked (as the challenge says): reference
translations, label consistency and realism.

* **Reference points**: the identity (no change) and Reinhard et al.'s colour transfer (each
  CIE-Lab channel of the source shifted and scaled to the target domain's mean and standard
  deviation), so every measure has a floor to be read against.
* **Label consistency** (Sharan et al.'s DetCycleGAN measure on this data): a translation that
  keeps the sutures where they were keeps them detectable. A reference detector (the organiser's
  baseline weights) runs on the translated images and its points are scored against the
  *source* frame's labels at 6/8/10 px, beside the same detector on the untranslated source.
* **Realism**: the Fréchet distance between the translated images and real frames of the target
  domain, on the reference detector's encoder features (the global mean of each encoder level's
  channels; nothing is downloaded), with a bootstrap interval (both sets resampled) so that two
  teams' numbers can be compared. With few images the covariances are rank-deficient and the
  distance is biased upwards; compare numbers computed on the same sets only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adaptor_score.frames import InputFileError
from adaptor_score.imagefile import ImageError, read_image

# sRGB (D65) <-> CIE XYZ <-> Lab
_M = np.array([[0.4124564, 0.3575761, 0.1804375],
               [0.2126729, 0.7151522, 0.0721750],
               [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
_WHITE = np.array([0.95047, 1.0, 1.08883])


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 sRGB -> float Lab (L in 0-100).

    >>> [abs(round(float(v), 2)) for v in rgb_to_lab(np.array([[[255, 255, 255]]], np.uint8))[0, 0]]
    [100.0, 0.0, 0.0]
    """
    c = image.astype(np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _M.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)  # fmt: skip


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Float Lab -> ``(H, W, 3)`` uint8 sRGB (out-of-gamut values clipped).

    >>> img = np.array([[[200, 120, 90], [10, 40, 250]]], np.uint8)
    >>> int(np.abs(lab_to_rgb(rgb_to_lab(img)).astype(int) - img).max())
    0
    """
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE
    linear = np.clip(xyz @ np.linalg.inv(_M).T, 0, 1)
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(c * 255), 0, 255).astype(np.uint8)


def lab_statistics(images) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each Lab channel over all pixels of ``images``."""
    total, squares, n = np.zeros(3), np.zeros(3), 0
    for im in images:
        lab = rgb_to_lab(im).reshape(-1, 3)
        total += lab.sum(axis=0)
        squares += (lab**2).sum(axis=0)
        n += len(lab)
    mean = total / n
    return mean, np.sqrt(np.maximum(squares / n - mean**2, 1e-12))


def reinhard(image: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Reinhard et al.'s colour transfer: each Lab channel of ``image`` moved to ``mean`` and
    scaled to ``std`` (the target domain's statistics)."""
    lab = rgb_to_lab(image)
    flat = lab.reshape(-1, 3)
    m, s = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-6)
    return lab_to_rgb((lab - m) / s * std + mean)


METHODS = ("identity", "reinhard")


def readable(paths, problems: list[str]) -> list[tuple[Path, np.ndarray]]:
    """``(path, image)`` for each of ``paths`` that reads as a frame; each one that does not
    (truncated, not an image, too large) is added to ``problems`` as ``"path: why"``, so that one
    broken file never stops the rest."""
    out = []
    for p in paths:
        try:
            out.append((Path(p), read_image(p)))
        except (ImageError, InputFileError, OSError) as e:
            problems.append(f"{p}: {getattr(e, 'problem', None) or e}")
    return out


def translate_folder(input_dir, out_dir, method: str, target_dir=None,
                     problems: list[str] | None = None) -> int:  # fmt: skip
    """Write the reference translation ``method`` of every image below ``input_dir`` where a
    container's ``domain_transformation`` writes it (``<rel>/<stem>.png``); Reinhard's transfer
    takes the target domain's Lab statistics from the images below ``target_dir``. Returns the
    number of images written; an image that cannot be read is left out and named in
    ``problems``."""
    from PIL import Image

    from adaptor_score import atomic
    from adaptor_score.translation import translation_path
    from adaptor_score.validate import find_images

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    images, _ = find_images(input_dir)
    if method == "reinhard":
        if target_dir is None:
            raise ValueError("reinhard needs --target: real frames of the target domain")
        targets, _ = find_images(Path(target_dir))
        if not targets:
            raise ValueError(f"{target_dir}: no images of the target domain")
        usable = readable(sorted(targets), problems if problems is not None else [])
        if not usable:
            raise ValueError(f"{target_dir}: no readable image of the target domain")
        mean, std = lab_statistics(im for _, im in usable)
    written = 0
    for path in sorted(images):
        got = readable([path], problems if problems is not None else [])
        if not got:
            continue
        image = got[0][1]
        out = image if method == "identity" else reinhard(image, mean, std)
        atomic.write_with(translation_path(out_dir, input_dir, path),
                          lambda tmp, out=out: Image.fromarray(out).save(tmp, "PNG"))  # fmt: skip
        written += 1
    return written


# ----------------------------------------------------------------------------- measures


def encoder_features(model, images, size: tuple[int, int], batch: int = 8) -> np.ndarray:
    """``(N, D)``: for each image the global mean of every channel of every encoder level of
    the detector's U-Net (D = width x (2^(depth + 1) - 1)), at the network's input ``size``
    (width, height)."""
    import torch
    import torch.nn.functional as F
    from PIL import Image

    from adaptor_baseline.model.detector import MEAN, STD

    out = []
    device = next(model.parameters()).device
    for start in range(0, len(images), batch):
        chunk = []
        for im in images[start : start + batch]:
            if (im.shape[1], im.shape[0]) != size:
                im = np.asarray(Image.fromarray(im).resize(size, Image.BILINEAR))
            chunk.append(torch.from_numpy(np.ascontiguousarray(im.transpose(2, 0, 1))))
        x = torch.stack(chunk).to(device).float().div_(255)
        x = x if model.cfg.input_scaling == "raw" else (x - MEAN) / STD
        with torch.inference_mode():
            level = model.unet.inc(x)
            pooled = [level.mean(dim=(2, 3))]
            for block in model.unet.down:
                level = block(F.max_pool2d(level, 2))
                pooled.append(level.mean(dim=(2, 3)))
        out.append(torch.cat(pooled, dim=1).float().cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b`` (``(N, D)``):
    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``; the trace of the root from the
    eigenvalues of ``S_a S_b`` (real and non-negative for covariances, up to rounding).

    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(frechet_distance(x, x), 6), round(frechet_distance(x, x + 2), 2)
    (0.0, 12.0)
    """
    mu = a.mean(axis=0) - b.mean(axis=0)
    sa = np.atleast_2d(np.cov(a, rowvar=False))
    sb = np.atleast_2d(np.cov(b, rowvar=False))
    root = np.sqrt(np.clip(np.linalg.eigvals(sa @ sb).real, 0, None)).sum()
    return float(max(mu @ mu + np.trace(sa) + np.trace(sb) - 2 * root, 0.0))


def realism(features: np.ndarray, real: np.ndarray, replicates: int = 200, seed: int = 0) -> dict:
    """The Fréchet distance of ``features`` to ``real`` and its 95 % bootstrap interval (both
    sets resampled with replacement, seeded)."""
    rng = np.random.default_rng(seed)
    reps = [frechet_distance(features[rng.integers(0, len(features), len(features))],
                             real[rng.integers(0, len(real), len(real))])
            for _ in range(replicates)]  # fmt: skip
    lo, hi = (np.quantile(reps, [0.025, 0.975]).tolist() if reps else (None, None))
    return {"frechet": frechet_distance(features, real), "low": lo, "high": hi,
            "images": len(features), "real_images": len(real), "replicates": replicates}  # fmt: skip


def consistency(predictor, gt, pairs: list[tuple[Path, Path]], radii=(6.0, 8.0, 10.0)) -> dict:
    """The detector's F1/PPV/TPR against the source labels, on the untranslated sources and on
    their translations. ``pairs``: (source image, translated image) of frames of ``gt``."""
    from adaptor_score.frames import key_from_relative_path
    from adaptor_score.matching import flatten
    from adaptor_score.metrics import score_flat

    keys, sources, translated = [], [], []
    for source, target in pairs:
        key = key_from_relative_path(source.relative_to(gt.root))
        if key in gt.points:
            keys.append(key)
            sources.append(source)
            translated.append(target)
    labels = flatten([gt.points[k] for k in keys])
    out = {"frames": len(keys)}
    for name, paths in (("source", sources), ("translated", translated)):
        points = []
        for start in range(0, len(paths), 8):  # pairs were read once already: they read
            points += predictor([read_image(p) for p in paths[start : start + 8]])
        frames = score_flat(*flatten(points), *labels, radii, keys=keys)
        out[name] = {f"{s.radius:g}": {"f1": s.f1, "ppv": s.ppv, "tpr": s.tpr}
                     for s in frames.summary()}  # fmt: skip
    return out


def measure(weights, source_gt, translations: dict[str, Path], real_dir, replicates: int = 200,
            seed: int = 0) -> dict:  # fmt: skip
    """Consistency and realism of each named translation folder of the labelled ``source_gt``
    images, against real frames of the target domain under ``real_dir``."""
    from adaptor_baseline.predict import ArrayPredictor
    from adaptor_score.groundtruth import load_ground_truth
    from adaptor_score.translation import translated_pairs
    from adaptor_score.validate import find_images

    predictor = ArrayPredictor(weights, device="cpu")
    model, size = predictor.model, tuple(predictor.cfg.input_size)
    gt = load_ground_truth(source_gt)
    problems: list[str] = []  # files of the source or the real frames that cannot be read
    real_images, _ = find_images(Path(real_dir))
    real_read = readable(sorted(real_images), problems)
    if not real_read:
        raise ValueError(f"{real_dir}: no readable image of the target domain")
    real = encoder_features(model, [im for _, im in real_read], size)
    out = {"weights": str(weights), "source": str(source_gt), "real": str(real_dir),
           "replicates": replicates, "seed": seed, "translations": {},
           "problems": problems}  # fmt: skip
    sources, _ = find_images(Path(gt.root))
    broken_sources = {p for p in sorted(sources) if not readable([p], problems)}
    for name, folder in translations.items():
        own: list[str] = []  # this team's translations that cannot be read: its own problem
        pairs = [(s, t) for s, t in translated_pairs(folder, gt.root) if s not in broken_sources]
        read = {t for t, _ in readable([t for _, t in pairs], own)}
        pairs = [(s, t) for s, t in pairs if t in read]
        feats = encoder_features(model, [read_image(t) for _, t in pairs], size) if pairs else None
        entry = {"folder": str(folder), "images": len(pairs),
                 "consistency": consistency(predictor, gt, pairs), "problems": own}  # fmt: skip
        entry["realism"] = realism(feats, real, replicates, seed) if len(pairs) > 1 else None
        out["translations"][name] = entry
    return out

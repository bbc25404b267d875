"""Checking a ``domain_transformation`` output: one translated image per input image.

The contract (``submission_template/entrypoint.py``): for each input image
``<rel>/<stem>.<ext>`` the container writes ``<rel>/<stem>.png``, the image translated to the
other domain, **the same size and three channels** (RGB). :func:`validate_translation` lists,
each naming its file: a missing output, one that cannot be read (through the one image reader,
:func:`adaptor_score.imagefile.read_image`, with its limits), another size, another number of
channels, an output **identical to its input** ("no transformation": the pixels are the
input's, whatever the encoding), and files that answer no input image. Missing or unreadable
folders are an :class:`~adaptor_score.frames.InputFileError` (exit 2), as everywhere.
"""

from __future__ import annotations

from pathlib import Path

from adaptor_score.contract import image_stem
from adaptor_score.frames import InputFileError, Problem
from adaptor_score.imagefile import ImageError, read_image
from adaptor_score.safefiles import BadFile, open_regular, walk_files
from adaptor_score.validate import find_images

IDENTICAL = "no transformation: its pixels are the input image's"
MODES = {  # what PIL's modes are, in words: "1 channel(s) (P)" said nothing of a palette
    "P": "a palette image (colour indices)", "PA": "a palette image with alpha",
    "L": "a greyscale image", "LA": "a greyscale image with alpha", "1": "a 1-bit image",
    "RGBA": "an RGB image with alpha (4 channels)", "I;16": "a 16-bit greyscale image",
    "I": "a 32-bit integer image", "F": "a floating-point image", "CMYK": "a CMYK image",
}  # fmt: skip


def check_translation_folders(out_dir: Path, images_dir: Path) -> None:
    for folder, what in ((images_dir, "image"), (out_dir, "translation")):
        if not folder.is_dir():
            why = "is not a folder" if folder.exists() else "does not exist"
            raise InputFileError(folder, f"the {what} folder {why}; nothing was checked")


def translation_path(out_dir: Path, images_dir: Path, image: Path) -> Path:
    """Where the translation of ``image`` (below ``images_dir``) must be."""
    rel = image.relative_to(images_dir)
    return out_dir / rel.parent / (image_stem(rel.name) + ".png")


def _channels(path: Path) -> tuple[str, int]:
    """The PNG's mode and band count, from its header alone (opened as every input is: a
    regular file, without blocking), as ``validate.image_size`` reads sizes."""
    import os

    from PIL import Image

    fd, _ = open_regular(path)
    with os.fdopen(fd, "rb") as f, Image.open(f) as im:
        return im.mode, len(im.getbands())


def check_one(image: Path, output: Path) -> list[str]:
    """What is wrong with ``output`` as the translation of ``image`` (empty: nothing)."""
    try:
        got = read_image(output)
        mode, bands = _channels(output)
    except (ImageError, BadFile) as e:
        return [f"cannot read the translation: {getattr(e, 'problem', e)}"]
    except Exception as e:  # any decoder error of a stranger's file
        return [f"cannot read the translation: {e}"]
    try:
        source = read_image(image)
    except ImageError:
        return []  # the input's own problem, listed by whoever checks the input
    said = []
    if got.shape[:2] != source.shape[:2]:
        h, w = source.shape[:2]
        said.append(f"size {got.shape[1]} x {got.shape[0]}, the input is {w} x {h}")
    if mode != "RGB":
        said.append(f"{MODES.get(mode, f'{bands} channel(s), mode {mode}')}; a translation is"
                    " an RGB image (three channels, no palette, no alpha)")  # fmt: skip
    if not said and (got == source).all():
        said.append(IDENTICAL)
    return said


def validate_translation(out_dir, images_dir) -> tuple[list[Problem], int]:
    """``(problems, images)`` of the translation folder ``out_dir`` for the input ``images_dir``."""
    out_dir, images_dir = Path(out_dir), Path(images_dir)
    check_translation_folders(out_dir, images_dir)
    images, problems = find_images(images_dir)
    expected = {}
    for image in images:
        target = translation_path(out_dir, images_dir, image)
        if target in expected:
            problems.append(Problem(str(image), f"another input image also maps to {target}"))
            continue
        expected[target] = image
    for target, image in expected.items():
        if not target.exists() and not target.is_symlink():
            rel = image.relative_to(images_dir)
            problems.append(Problem(str(target), f"missing: no translation of image {rel}"))
            continue
        problems += [Problem(str(target), why) for why in check_one(image, target)]
    for path, why in walk_files(out_dir, (".png",)):
        if Path(path) in expected:
            continue  # checked above, once (a FIFO there was listed twice)
        if why is not None:
            problems.append(Problem(path, why))
        else:
            problems.append(Problem(path, "no input image corresponds to this file"))
    return problems, len(images)


def translated_pairs(out_dir, images_dir) -> list[tuple[Path, Path]]:
    """``(input image, its translation)`` for every input whose translation exists as a regular
    file: a symlink (to a host file, say) is no translation, never measured nor published."""
    import os
    import stat

    out_dir, images_dir = Path(out_dir), Path(images_dir)
    images, _ = find_images(images_dir)
    pairs = [(i, translation_path(out_dir, images_dir, i)) for i in sorted(images)]

    def regular(p: Path) -> bool:
        try:
            return stat.S_ISREG(os.lstat(p).st_mode)
        except OSError:
            return False

    return [(i, t) for i, t in pairs if regular(t)]

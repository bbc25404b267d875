"""One image reader for every command and container: ``(H, W, 3)`` uint8 RGB or a named refusal.

Frames come from strangers (a participant's input tree, a downloaded dataset), so an image must
never decode as another picture without a word. Seen before this reader: a 16-bit PNG came back
white (Pillow clips 16-bit values to 255 when converting), a 10 x 10 NaN patch in a float ``.mha``
turned the whole frame black (min-max scaling through NaN), a 5-slice volume came back as
``(5, 288, 3)``, a one-row image as ``(3,)``, a decompression-bomb header took gigabytes. The rules:

* **Only regular files**, opened without blocking (a FIFO named ``*.png`` is refused, not waited
  on), at most :data:`MAX_FILE_BYTES` bytes, :data:`MAX_PIXELS` pixels and
  :data:`MAX_DECODED_BYTES` of decoded samples (pixels x components x bytes per component, all
  checked from the header, before any pixel is decoded; conversions work in at most 4 bytes per
  sample, so reading one image peaks at a few times that bound).
* **A MetaImage header reads its own file only**: ``ElementDataFile`` must be ``LOCAL`` or the
  plain name of a regular file in the header's folder (no path, no ``..``, no list or pattern),
  checked with the same open as every input, so a stranger's ``.mhd`` can neither point at a FIFO
  (a hang) nor read a host file into our pixels.
* **Values by their type, never by their content**: 8-bit as is; unsigned integers scaled by their
  type's full range (16-bit 65535 -> 255); floats in [0, 1] times 255, floats in [0, 255] as they
  are; signed integers in [0, 255] as they are. Anything else (negative or larger values whose
  scale cannot be known) is refused. Non-finite values (NaN, inf) are refused.
* **Layouts we can know**: ``(H, W)`` grey, ``(H, W, C)`` with C = 1, 2 (grey and alpha), 3 or 4
  (alpha dropped), a
  single slice ``(1, H, W[, C])``, and channels first ``(3|4, H, W)`` (as SimpleITK reads a
  3-component image stored as slices). A volume of several slices, an image with a side of 0, or a
  truncated file is refused.

The submission template carries a byte-identical copy of this file (``submission_template/
imagefile.py``; a test keeps them equal), so it needs nothing from the toolkit: only numpy, Pillow
and, for ``.mha``/``.mhd``/``.nii``, SimpleITK.
"""

from __future__ import annotations

import io
import os
import re
import stat
import warnings

import numpy as np

MAX_FILE_BYTES = 256 * 1024 * 1024
# Real frames have 147,456 pixels; 16 M pixels (e.g. 5,300 x 3,000, twice a 4K frame) is far above
# any camera frame. The decoded samples (pixels x components x bytes each) are bounded too, at an
# 8-bit RGB image of that size, 48 MB. Reading one image peaks at about 3.5 times its decoded
# bytes (measured 2026-12-02: a compressed 16-bit RGB .mha of 39.6 MB decoded peaked 0.14 GB above
# the interpreter with numpy and SimpleITK imported), so at about 0.17 GB at the bound.
MAX_PIXELS = 16_000_000
MAX_DECODED_BYTES = 3 * MAX_PIXELS
METAIMAGE_SUFFIXES = (".mha", ".mhd")
ITK_SUFFIXES = (".mha", ".mhd", ".nii", ".nii.gz")


class ImageError(Exception):
    """An image that cannot be read as a frame; ``file`` and ``problem`` say which and why."""

    def __init__(self, file, problem: str):
        self.file, self.problem = str(file), problem
        super().__init__(f"{file}: {problem}")


def read_image(path) -> np.ndarray:
    """The image at ``path`` as ``(H, W, 3)`` uint8 RGB; :class:`ImageError` otherwise.

    >>> import tempfile
    >>> from PIL import Image
    >>> f = tempfile.mkdtemp() + "/a16.png"
    >>> Image.fromarray(np.full((2, 3), 32896, np.uint16)).save(f)
    >>> read_image(f)[0, 0].tolist()
    [128, 128, 128]
    """
    name = os.fspath(path).lower()
    try:
        if name.endswith(ITK_SUFFIXES):
            _check_regular(path)
            return _read_itk(path)  # already (H, W, 3) uint8
        return to_rgb8(_read_pillow(_read_bytes(path)))
    except ImageError:
        raise
    except ValueError as e:
        raise ImageError(path, str(e)) from None
    except (OSError, SyntaxError) as e:  # Pillow raises SyntaxError for some broken headers
        raise ImageError(path, f"cannot read the image: {e.strerror or e}") from None
    except MemoryError:
        raise ImageError(path, "cannot read the image: out of memory") from None


def _open_checked(path) -> tuple[int, int]:
    """``(fd, size)`` of a regular file within the size limit, opened without blocking (a FIFO
    named ``*.png`` is refused, not waited on); the caller closes ``fd``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise ValueError(f"file is {st.st_size:,} bytes, above the limit of {MAX_FILE_BYTES:,}")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def _check_regular(path) -> None:
    fd, _ = _open_checked(path)
    os.close(fd)


def _read_bytes(path) -> bytes:
    fd, size = _open_checked(path)
    try:
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, max(size - total, 0) + 1)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise ValueError(f"file grew above the limit of {MAX_FILE_BYTES:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _check_pixels(width: int, height: int, depth: int = 1, sample_bytes: int = 3) -> None:
    """Refuse, from the header, an image with no pixels, too many, or too many decoded bytes
    (``sample_bytes``: components x bytes per component of one pixel)."""
    if min(width, height, depth) < 1:
        raise ValueError(f"image of size {width} x {height} has no pixels")
    size = f"{width} x {height}{f' x {depth}' if depth > 1 else ''}"
    if width * height * depth > MAX_PIXELS:
        raise ValueError(
            f"image of {size} pixels is above the"
            f" limit of {MAX_PIXELS:,} (a decompression bomb, or not a video frame)"
        )
    if width * height * depth * sample_bytes > MAX_DECODED_BYTES:
        raise ValueError(
            f"image of {size} pixels of {sample_bytes} bytes each decodes to more than the limit of"
            f" {MAX_DECODED_BYTES:,} bytes (too many components or too wide a type for a frame)"
        )


def _read_pillow(data: bytes) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # its warning is ours to give: _check_pixels below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:  # its message names our in-memory buffer, not the file
        raise ValueError(
            "cannot read the image: not in a format this reader knows (or a broken header)"
        ) from None
    except Image.DecompressionBombError:  # Pillow's own check, past twice its warning size
        raise ValueError(
            f"the header claims more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels, above the limit"
            f" of {MAX_PIXELS:,} (a decompression bomb, or not a video frame)"
        ) from None
    with im:
        _check_pixels(*im.size)  # from the header: nothing decoded yet
        if getattr(im, "n_frames", 1) > 1:
            raise ValueError(f"holds {im.n_frames} frames; a frame is one picture")
        im.load()  # a truncated file fails here, not later
        if im.mode in ("RGB", "L", "RGBA", "LA"):
            return np.asarray(im)
        if im.mode.startswith("I;16"):
            return np.asarray(im).astype(np.uint16)
        if im.mode == "I":  # how Pillow opens 16-bit grey PNGs and TIFFs: values are 16-bit
            arr = np.asarray(im)
            if arr.min() < 0 or arr.max() > 65535:
                raise ValueError("32-bit integer pixels outside 0-65535: their scale is unknown")
            return arr.astype(np.uint16)
        if im.mode == "F":
            return np.asarray(im)
        return np.asarray(im.convert("RGB"))  # palette, CMYK, YCbCr, 1-bit: defined conversions


def _read_itk(path) -> np.ndarray:
    try:
        import SimpleITK as sitk
    except ImportError:
        raise ValueError("reading .mha/.mhd/.nii needs SimpleITK (pip install SimpleITK)") from None
    if os.fspath(path).lower().endswith(METAIMAGE_SUFFIXES):
        _check_metaimage_header(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(os.fspath(path))
    try:
        reader.ReadImageInformation()
        size = reader.GetSize()
        kind = sitk.GetPixelIDValueAsString(reader.GetPixelID())
        bits = max([int(b) for b in re.findall(r"(\d+)-bit", kind)] or [64])
        sample = reader.GetNumberOfComponents() * (bits // 8) * (2 if "complex" in kind else 1)
        _check_pixels(size[0], size[1] if len(size) > 1 else 1, int(np.prod(size[2:])) or 1,
                      sample)  # fmt: skip
        image = reader.Execute()
    except RuntimeError as e:  # SimpleITK's error for every unreadable file
        first = str(e).strip().splitlines()[-1][:200] if str(e).strip() else "unknown error"
        raise ValueError(f"cannot read the image: {first}") from None
    # a view of SimpleITK's buffer, converted while ``image`` is alive: no copy of the samples;
    # a result that is still that view (8-bit RGB needs no conversion) is copied before the
    # buffer goes with ``image``
    view = sitk.GetArrayViewFromImage(image)
    out = to_rgb8(_itk_layout(view))
    return out.copy() if np.may_share_memory(out, view) else out


def _check_metaimage_header(path) -> None:
    """The header's ``ElementDataFile``: ``LOCAL`` (the data follows the header), or the plain
    name of a regular file beside the header, checked with the same open as every input."""
    head = _read_bytes(path)[: 64 * 1024]  # the header is text at the start, the data after
    found = re.search(rb"^\s*ElementDataFile\s*=\s*(.*?)\s*$", head, re.M | re.I)
    if found is None:
        raise ValueError("MetaImage header without ElementDataFile")
    value = found.group(1).decode("utf-8", "replace")
    if value.upper() == "LOCAL":
        return
    if value.upper().startswith("LIST") or " " in value or "%" in value:
        raise ValueError(f"ElementDataFile {value!r}: a list or pattern of files is not read")
    if "/" in value or "\\" in value or value in (".", "..") or os.path.isabs(value):
        raise ValueError(
            f"ElementDataFile {value!r} points outside the image's folder; only a file beside"
            " the header is read"
        )
    data = os.path.join(os.path.dirname(os.fspath(path)), value)
    if os.path.islink(data):
        raise ValueError(f"ElementDataFile {value!r} is a symbolic link; not followed")
    try:
        _check_regular(data)
    except ValueError as e:
        raise ValueError(f"ElementDataFile {value!r}: {e}") from None
    except OSError as e:
        raise ValueError(f"ElementDataFile {value!r}: {e.strerror or e}") from None


def _itk_layout(arr: np.ndarray) -> np.ndarray:
    """``(H, W[, C])`` from SimpleITK's ``(Z, H, W[, C])`` or ``(H, W[, C])``; volumes refused."""
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise ValueError(f"a volume of {arr.shape[0]} slices; a frame is one 2D image")
        arr = arr[0]
    elif arr.ndim == 3 and arr.shape[-1] not in (1, 2, 3, 4):
        if arr.shape[0] == 1:
            arr = arr[0]
        elif arr.shape[0] in (3, 4):  # channels stored first, as slices
            arr = np.moveaxis(arr, 0, -1)
        else:
            raise ValueError(f"a volume of {arr.shape[0]} slices; a frame is one 2D image")
    return arr


def to_rgb8(arr: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 from a decoded ``(H, W)`` or ``(H, W, C)`` array (rules above).

    >>> to_rgb8(np.array([[0.0, 0.5, 1.0]]))[0, :, 0].tolist()
    [0, 128, 255]
    >>> to_rgb8(np.zeros((5, 4, 4, 3)))
    Traceback (most recent call last):
    ...
    ValueError: pixel array of shape (5, 4, 4, 3): not a 2D image of 1, 2, 3 or 4 channels
    """
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[-1] in (1, 2):  # grey, or grey and alpha (Pillow's "LA")
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4))):
        raise ValueError(
            f"pixel array of shape {arr.shape}: not a 2D image of 1, 2, 3 or 4 channels"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"pixel array of shape {arr.shape} has no pixels")
    if arr.ndim == 3 and arr.shape[-1] == 4:
        arr = arr[..., :3]
    arr = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        return arr
    if kind == "b":
        return arr.astype(np.uint8) * 255
    if kind == "u":  # integer arithmetic in place: one widened copy, never float64's 8 bytes
        top = int(np.iinfo(arr.dtype).max)
        if top > 0xFFFFFFFF:  # 64-bit: the top 32 bits, so that x * 255 fits 64 bits
            arr, top = (arr >> 32).astype(np.uint64), 0xFFFFFFFF
        wide = arr.astype(np.uint32 if top <= 0xFFFF else np.uint64)
        wide *= 255
        wide += top // 2
        wide //= top
        return wide.astype(np.uint8)
    if kind == "i":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"signed {arr.dtype} pixels from {lo} to {hi}: their scale cannot be known"
            )
        return arr.astype(np.uint8)
    if kind == "f":
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise ValueError(f"{bad} pixel value(s) are not finite (NaN or infinity)")
        lo, hi = float(arr.min()), float(arr.max())
        if lo >= 0 and hi <= 1:
            return np.rint(arr * 255).astype(np.uint8)
        if lo >= 0 and hi <= 255:
            return np.rint(arr).astype(np.uint8)
        raise ValueError(
            f"floating-point pixels from {lo:g} to {hi:g}: neither 0-1 nor 0-255, scale unknown"
        )
    raise ValueError(f"pixels of type {arr.dtype} cannot be read as an image")

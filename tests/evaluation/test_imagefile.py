"""One image reader: never another picture without a word."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from adaptor_score.imagefile import MAX_PIXELS, ImageError, read_image, to_rgb8
from tests.evaluation.helpers import K1, make_tree

ROOT = Path(__file__).resolve().parents[2]


def test_the_template_carries_the_same_reader():
    ours = (ROOT / "evaluation" / "adaptor_score" / "imagefile.py").read_bytes()
    assert (ROOT / "submission_template" / "imagefile.py").read_bytes() == ours


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_grey_is_scaled_not_clipped_white(tmp_path, suffix):
    values = np.array([[0, 20560, 32896, 65535]], dtype=np.uint16)  # 0, 80, 128, 255 at 8 bits
    f = tmp_path / f"a{suffix}"
    Image.fromarray(values).save(f)
    out = read_image(f)
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    assert out[0, :, 0].tolist() == [0, 80, 128, 255]


def test_8_bit_grey_palette_and_rgba_read_as_rgb(tmp_path):
    for mode, size in (("L", (8, 4)), ("P", (8, 4)), ("RGBA", (8, 4)), ("1", (8, 4))):
        f = tmp_path / f"{mode}.png"
        Image.new(mode, size).save(f)
        assert read_image(f).shape == (4, 8, 3)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = b"IDAT" + zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(c) - 4) + c + struct.pack(">I", zlib.crc32(c))
        for c in (chunk, idat, b"IEND")
    )


@pytest.mark.parametrize("side", [100_000, 10_000, 7_000])  # past Pillow's check, and below it
def test_a_decompression_bomb_header_is_refused_before_decoding(tmp_path, side):
    f = tmp_path / "bomb.png"
    f.write_bytes(_png_header(side, side))
    assert side * side > MAX_PIXELS
    with pytest.raises(ImageError, match=r"bomb.png: .*above the limit"):
        read_image(f)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_files_are_refused_with_their_name(tmp_path, keep):
    src = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(src)
    data = src.read_bytes()
    f = tmp_path / "cut.png"
    f.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ImageError, match="cut.png"):
        read_image(f)


def test_a_fifo_named_png_is_refused_without_waiting(tmp_path):
    f = tmp_path / "000000.png"
    os.mkfifo(f)
    with pytest.raises(ImageError, match="not a regular file"):
        read_image(f)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0.0, 0.5, 1.0]]), [0, 128, 255]),  # float in 0-1
        (np.array([[0.0, 80.0, 255.0]]), [0, 80, 255]),  # float in 0-255
        (np.array([[0, 80, 255]], dtype=np.int16), [0, 80, 255]),
        (np.array([[0, 2048, 4095]], dtype=np.uint16), [0, 8, 16]),  # 12-bit data in 16 bits
    ],
)
def test_values_are_scaled_by_type(array, expected):
    assert to_rgb8(array)[0, :, 0].tolist() == expected


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        (np.full((4, 4), np.nan), "not finite"),
        (np.array([[0.0, np.inf]]), "not finite"),
        (np.array([[-1.0, 0.5]]), "scale unknown"),
        (np.array([[0.0, 1000.0]]), "scale unknown"),
        (np.array([[-5, 10]], dtype=np.int16), "scale cannot be known"),
        (np.zeros((5, 4, 4, 3)), "not a 2D image"),
        (np.zeros((4, 4, 5)), "not a 2D image"),
        (np.zeros((0, 4)), "no pixels"),
    ],
)
def test_what_cannot_be_known_is_refused(array, problem):
    with pytest.raises(ValueError, match=problem):
        to_rgb8(array)


sitk = pytest.importorskip("SimpleITK")


def _mha(path: Path, array: np.ndarray, vector: bool = False) -> Path:
    sitk.WriteImage(sitk.GetImageFromArray(array, isVector=vector), str(path))
    return path


def test_a_nan_patch_in_a_float_mha_is_refused_not_a_black_frame(tmp_path):
    a = np.random.default_rng(0).random((288, 512)).astype(np.float32)
    a[10:20, 10:20] = np.nan
    with pytest.raises(ImageError, match=r"nan.mha: 100 pixel value\(s\) are not finite"):
        read_image(_mha(tmp_path / "nan.mha", a))


def test_a_float_mha_in_0_1_keeps_its_grey_levels(tmp_path):
    a = np.full((288, 512), 80 / 255, np.float32)
    assert abs(int(read_image(_mha(tmp_path / "f.mha", a)).mean()) - 80) <= 1


def test_a_volume_of_several_slices_is_refused(tmp_path):
    with pytest.raises(ImageError, match="a volume of 5 slices"):
        read_image(_mha(tmp_path / "vol.mha", np.zeros((5, 288, 512), np.uint8)))


def test_channels_first_and_single_slice_mha_read_as_the_frame(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (288, 512, 3), np.uint8)
    first = read_image(_mha(tmp_path / "cf.mha", np.moveaxis(rgb, -1, 0).copy()))
    assert np.array_equal(first, rgb)
    single = read_image(_mha(tmp_path / "one.mha", rgb[None], vector=True))
    assert np.array_equal(single, rgb)
    vec = read_image(_mha(tmp_path / "vec.mha", rgb, vector=True))
    assert np.array_equal(vec, rgb)


def test_a_one_row_mha_keeps_its_shape(tmp_path):
    row = np.arange(512, dtype=np.uint8)[None] // 2
    out = read_image(_mha(tmp_path / "row.mha", row))
    assert out.shape == (1, 512, 3) and out[0, 10].tolist() == [5, 5, 5]


def test_overlay_draws_an_unreadable_frame_on_grey_and_names_it(tmp_path):
    from adaptor_score.cli import main

    gt, pred = make_tree(tmp_path, {K1: ([(10, 10)], [(11, 10)])})
    img = gt / K1.folder / K1.video / "images" / f"{K1.frame}.png"
    img.parent.mkdir(parents=True)
    img.write_bytes(_png_header(100_000, 100_000))
    r = CliRunner().invoke(main, ["overlay", str(gt), str(pred), "--out", str(tmp_path / "ov")])
    assert r.exit_code == 0, r.output
    assert "000000.png: the header claims more than" in r.output
    assert len(list((tmp_path / "ov").rglob("*.png"))) == 1

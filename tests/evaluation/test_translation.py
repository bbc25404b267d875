"""The domain-transformation validator: each refusal on its own member, and a clean output."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from adaptor_score.cli import main
from adaptor_score.translation import IDENTICAL, validate_translation

RELS = ["s1/v1/images/000000.png", "s1/v1/images/000001.png", "s2/v1/images/000000.jpg"]


@pytest.fixture()
def tree(tmp_path):
    rng = np.random.default_rng(0)
    inp, out = tmp_path / "in", tmp_path / "out"
    for rel in RELS:
        img = rng.integers(0, 255, (36, 64, 3), dtype=np.uint8)
        (inp / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(inp / rel, quality=95) if rel.endswith("jpg") else \
            Image.fromarray(img).save(inp / rel)  # fmt: skip
        target = (out / rel).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - img).save(target)
    return inp, out


def _problems(tree):
    inp, out = tree
    problems, n = validate_translation(out, inp)
    return {os.path.relpath(p.file, out): p.problem for p in problems}, n


def test_a_clean_translation_has_no_problem(tree):
    assert _problems(tree) == ({}, 3)


def _set(out, rel, array=None, raw=None, mode=None):
    path = (out / rel).with_suffix(".png")
    path.unlink(missing_ok=True)
    if raw is not None:
        path.write_bytes(raw)
    elif array is not None:
        Image.fromarray(array, mode).save(path)
    return path


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("missing", "missing: no translation of image"),
        ("not an image", "cannot read the translation"),
        ("smaller", "size 32 x 18, the input is 64 x 36"),
        ("grey", "a greyscale image"),
        ("rgba", "an RGB image with alpha (4 channels)"),
        ("palette", "a palette image (colour indices)"),
        ("identical", IDENTICAL),
        ("fifo", "not a regular file"),
    ],
)
def test_each_refusal_names_the_file(tree, change, said):
    inp, out = tree
    rel = RELS[1]
    source = np.asarray(Image.open(inp / rel).convert("RGB"))
    if change == "missing":
        _set(out, rel)
    elif change == "not an image":
        _set(out, rel, raw=b"not a png at all")
    elif change == "smaller":
        _set(out, rel, source[:18, :32])
    elif change == "grey":
        _set(out, rel, source[..., 0], mode="L")
    elif change == "rgba":
        alpha = np.full(source.shape[:2], 255, np.uint8)
        _set(out, rel, np.dstack([255 - source, alpha]), mode="RGBA")
    elif change == "palette":
        Image.fromarray(255 - source).convert("P").save(_set(out, rel, source))
    elif change == "identical":
        _set(out, rel, source)  # re-encoded: not the same bytes, the same pixels
    elif change == "fifo":
        os.mkfifo(_set(out, rel))
    problems, _ = _problems(tree)
    key = rel[:-4] + ".png"
    assert key in problems and said in problems[key], problems


def test_files_answering_no_input_are_listed(tree):
    inp, out = tree
    Image.fromarray(np.zeros((36, 64, 3), np.uint8)).save(out / "s1" / "v1" / "images" / "x.png")
    problems, _ = _problems(tree)
    assert problems == {"s1/v1/images/x.png": "no input image corresponds to this file"}


def test_the_cli_exits_1_with_problems_and_2_without_a_folder(tree, tmp_path):
    inp, out = tree
    ok = CliRunner().invoke(main, ["validate-translation", str(out), "--images", str(inp)])
    assert ok.exit_code == 0 and "OK: 3 images" in ok.output
    (out / RELS[0]).unlink()
    bad = CliRunner().invoke(main, ["validate-translation", str(out), "--images", str(inp),
                                    "--json", str(tmp_path / "p.json")])  # fmt: skip
    assert bad.exit_code == 1 and "missing" in bad.output and (tmp_path / "p.json").exists()
    gone = CliRunner().invoke(main, ["validate-translation", str(tmp_path / "nope"), "--images",
                                     str(inp)])  # fmt: skip
    assert gone.exit_code == 2 and "does not exist" in gone.output


def test_a_translation_that_is_a_symlink_is_no_translation(tmp_path):
    """A container's output linking to a host file is never measured or published."""
    import numpy as np
    from PIL import Image

    from adaptor_score.translation import translated_pairs

    src = tmp_path / "in" / "s1" / "v1" / "images"
    src.mkdir(parents=True)
    for name in ("000000.png", "000001.png"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src / name)
    out = tmp_path / "out" / "s1" / "v1" / "images"
    out.mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(out / "000000.png")
    secret = tmp_path / "host-secret.png"
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(secret)
    (out / "000001.png").symlink_to(secret)
    pairs = translated_pairs(tmp_path / "out", tmp_path / "in")
    assert [t.name for _, t in pairs] == ["000000.png"]


def test_a_fifo_is_listed_once_and_a_name_with_escapes_prints_as_symbols(tree, tmp_path):
    inp, out = tree
    target = out / (RELS[1][:-4] + ".png")
    target.unlink()
    os.mkfifo(target)
    problems, _ = validate_translation(out, inp)
    assert sum(p.file == str(target) for p in problems) == 1
    odd = out / "s1" / "v1" / "images" / "\x1b[31mred.png"
    Image.fromarray(np.zeros((36, 64, 3), np.uint8)).save(odd)
    r = subprocess.run([sys.executable, "-m", "adaptor_score.cli", "validate-translation",
                        str(out), "--images", str(inp)], capture_output=True)  # fmt: skip
    assert r.returncode == 1 and b"\x1b[31m" not in r.stdout and "␛[31mred".encode() in r.stdout

"""Hostile content: what escapes the fast JSON path, text that looks like markup, encodings the
terminal cannot show, far coordinates, bad option values, manifests of the wrong shape, images
with lying headers, and text that would inject into CSV, Markdown or LaTeX."""

import csv
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adaptor_score.cli import main
from adaptor_score.jsonfiles import BadFile, decode_points_file
from adaptor_score.manifest import ManifestError, load_manifest
from adaptor_score.validate import image_size, validate_submission
from tests.evaluation.helpers import write_points

POINT = b'{"x": 1, "y": 2}'
HOSTILE_CONTENT = {
    "deep nesting in an unknown field": b'{"points": [], "x": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "deep nesting in points": b'{"points": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "invalid UTF-8 in an unknown field": b'{"points": [], "note": "\xff\xfe"}',
    "invalid UTF-8 in a name": b'{"points": [], "folderName": "a\xff", "subfolderName": "b", "imageFileName": "c.png"}',
    "Latin-1 text": '{"points": [], "note": "caf\xe9"}'.encode("latin-1"),
    "UTF-16": '{"points": []}'.encode("utf-16"),
    "lone surrogate in an unknown field": b'{"points": [], "note": "\\udc00"}',
    "lone surrogate in a name": b'{"points": [], "folderName": "a\\ud800", "subfolderName": "b", "imageFileName": "c.png"}',
    "integer of 5000 digits": b'{"points": [{"x": ' + b"9" * 5000 + b', "y": 1}]}',
    "coordinate far away": b'{"points": [{"x": 1e300, "y": 1}]}',
    "coordinate beyond float": b'{"points": [{"x": 1e400, "y": 1}]}',
    "too many points": b'{"points": [' + b",".join([POINT] * 10_001) + b"]}",
    "too many points, one broken": b'{"points": ['
    + b",".join([POINT] * 200_000)
    + b', {"x": "a"}]}',
    "NaN": b'{"points": [{"x": NaN, "y": 1}]}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CONTENT))
def test_every_decoding_failure_is_the_files_problem(name):
    with pytest.raises(BadFile):
        decode_points_file(HOSTILE_CONTENT[name])


@pytest.mark.parametrize(
    "raw",
    [
        b'\xef\xbb\xbf{"points": [{"x": 1, "y": 2}]}',  # a UTF-8 byte-order mark
        b'{"points": [], "note": "\\ud83d\\ude00 caf\\u00e9"}',  # a valid surrogate pair
        b'{"points": [], "note": "\\\\ud800"}',  # an escaped backslash, not a surrogate
        '{"points": [], "note": "café ✓"}'.encode(),  # UTF-8 beyond ASCII
        b'{"points": [{"point": [3, 4, 0]}]}',  # Grand-Challenge "Multiple points"
    ],
)
def test_what_the_policy_accepts(raw):
    decode_points_file(raw)


def test_hostile_files_in_a_run_never_stop_the_scoring(tmp_path):
    gt = tmp_path / "gt"
    names = sorted(HOSTILE_CONTENT)
    for i, _ in enumerate(names):
        write_points(gt / "s" / "v" / "point_labels" / f"{i:06d}.json", [(5, 5)])
    write_points(gt / "s" / "v" / "point_labels" / "ok.json", [(5, 5)])
    for i, name in enumerate(names):
        (tmp_path / "pred" / "s" / "v").mkdir(parents=True, exist_ok=True)
        (tmp_path / "pred" / "s" / "v" / f"{i:06d}.json").write_bytes(HOSTILE_CONTENT[name])
    write_points(tmp_path / "pred" / "s" / "v" / "ok.json", [(5, 5)])
    r = CliRunner().invoke(
        main, ["score", str(gt), str(tmp_path / "pred"), "--json", str(tmp_path / "s.json")]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "s.json").read_text(), parse_constant=pytest.fail)
    assert len(doc["problems"]) == len(names)
    assert (doc["overall"][0]["tp"], doc["overall"][0]["fn"]) == (1, len(names))


MARKUP_NAMES = ["[bold]x[/]", "[/oops]", "[link=https:x]y", ":smile: [red]"]


def test_file_names_that_look_like_markup_are_printed_as_they_are(tmp_path):
    gt = tmp_path / "gt"
    write_points(gt / "s" / "v" / "point_labels" / "000000.json", [(5, 5)])
    for name in MARKUP_NAMES:
        f = tmp_path / "pred" / "s" / "v" / f"{name}.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("not json")
    r = CliRunner().invoke(main, ["score", str(gt), str(tmp_path / "pred")])
    assert r.exit_code == 0, r.output
    for name in MARKUP_NAMES:
        assert f"{name}.json" in r.output
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "pred"), "--images", str(gt)])
    assert "[/oops].json" in r.output


def test_terminal_that_cannot_encode_the_names(tmp_path):
    gt = tmp_path / "gt"
    write_points(gt / "s" / "v" / "point_labels" / "000000.json", [(5, 5)])
    pred = tmp_path / "pred" / "s" / "v"
    pred.mkdir(parents=True)
    (pred / "café ✓.json").write_text("{")
    with open(os.path.join(os.fsencode(pred), b"\xff\xfe.json"), "w") as f:  # not UTF-8
        f.write("{")
    out = tmp_path / "frames.csv"
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    r = subprocess.run(
        [sys.executable, "-m", "adaptor_score.cli", "score", str(gt), str(tmp_path / "pred"),
         "--csv", str(out), "--json", str(tmp_path / "s.json")],
        capture_output=True, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert b"caf\\xe9 \\u2713.json" in r.stdout and b"\\udcff\\udcfe.json" in r.stdout
    json.loads((tmp_path / "s.json").read_text())  # strict JSON, names escaped


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "six"])
def test_bad_option_values_exit_2_with_a_message(tmp_path, value):
    write_points(tmp_path / "s" / "v" / "point_labels" / "0.json", [])
    r = CliRunner().invoke(main, ["score", str(tmp_path), str(tmp_path), "--radius", value])
    assert r.exit_code == 2 and "Invalid value for '--radius'" in r.output
    assert "Traceback" not in r.output


def test_far_predictions_leave_every_number_finite(tmp_path):
    gt = tmp_path / "gt"
    write_points(gt / "s" / "v" / "point_labels" / "0.json", [(5, 5)])
    write_points(gt / "s" / "v" / "point_labels" / "1.json", [(5, 5)])
    write_points(tmp_path / "p" / "s" / "v" / "0.json", [(1e6, -1e6)])  # at the bound: used
    write_points(tmp_path / "p" / "s" / "v" / "1.json", [(1e7, 5)])  # beyond: a problem
    r = CliRunner().invoke(
        main, ["score", str(gt), str(tmp_path / "p"), "--json", str(tmp_path / "s.json")]
    )
    doc = json.loads((tmp_path / "s.json").read_text(), parse_constant=pytest.fail)
    assert doc["overall"][0]["rmse"] == pytest.approx(np.hypot(1e6 - 5, 1e6 + 5))
    assert len(doc["problems"]) == 1 and "within ±1e+06 px" in doc["problems"][0]["problem"]
    assert r.exit_code == 0


# ----------------------------------------------------------------------------- manifests

GOOD_DATASET = '[[dataset]]\nname = "a"\nground_truth = "g"\n'
GOOD_EXPERIMENT = (
    '[[experiment]]\nname = "e"\n[[experiment.results]]\ndataset = "a"\nruns = ["p"]\n'
)
BAD_MANIFESTS = {
    "runs is a string": (
        GOOD_DATASET
        + '[[experiment]]\nname = "e"\n[[experiment.results]]\ndataset = "a"\nruns = "pred"\n',
        r"experiment\[0\].results\[0\].runs: must be an array of paths, found a string",
    ),
    "runs holds a number": (
        GOOD_DATASET
        + '[[experiment]]\nname = "e"\n[[experiment.results]]\ndataset = "a"\nruns = [1]\n',
        r"runs\[0\]: must be a non-empty string",
    ),
    "folds is an array": (
        GOOD_DATASET
        + '[[experiment]]\nname = "e"\n[[experiment.results]]\ndataset = "a"\nfolds = ["x"]\n',
        r"results\[0\].folds: must be a table",
    ),
    "radius is text": (
        'radius = "6"\n' + GOOD_DATASET + GOOD_EXPERIMENT,
        "radius: must be a number",
    ),
    "radius is nan": (
        "radius = nan\n" + GOOD_DATASET + GOOD_EXPERIMENT,
        "radius: must be between 0 and 587 px",
    ),
    "radius is negative": (
        "radius = -6\n" + GOOD_DATASET + GOOD_EXPERIMENT,
        "radius: must be between 0 and 587 px",
    ),
    "radii not an array": (
        "radii = 8\n" + GOOD_DATASET + GOOD_EXPERIMENT,
        "radii: must be an array",
    ),
    "radii holds inf": (
        "radii = [6, inf]\n" + GOOD_DATASET + GOOD_EXPERIMENT,
        r"radii\[1\]: must be a finite",
    ),
    "dataset is a table": (
        '[dataset]\nname = "a"\nground_truth = "g"\n' + GOOD_EXPERIMENT,
        "dataset: must be an array",
    ),
    "duplicate dataset": (
        GOOD_DATASET + GOOD_DATASET + GOOD_EXPERIMENT,
        r"dataset\[1\].name: dataset 'a' is defined twice",
    ),
    "duplicate experiment": (
        GOOD_DATASET + GOOD_EXPERIMENT + GOOD_EXPERIMENT,
        r"experiment\[1\].name: experiment 'e' is defined twice",
    ),
    "unknown key": (
        GOOD_DATASET.replace("name", "nmae", 1) + GOOD_EXPERIMENT,
        r"dataset\[0\]: unknown key\(s\) nmae",
    ),
    "sigma1 is text": (
        GOOD_DATASET + GOOD_EXPERIMENT.replace('name = "e"', 'name = "e"\nsigma1 = "3"'),
        r"experiment\[0\].sigma1: must be a number",
    ),
    "sigma1 is a boolean": (
        GOOD_DATASET + GOOD_EXPERIMENT.replace('name = "e"', 'name = "e"\nsigma1 = true'),
        "sigma1: must be a number",
    ),
    "unknown distribution": (
        GOOD_DATASET + GOOD_EXPERIMENT.replace('name = "e"', 'name = "e"\ndistribution = "cauchy"'),
        "distribution: must be one of",
    ),
    "ground truth is a number": (
        '[[dataset]]\nname = "a"\nground_truth = 3\n' + GOOD_EXPERIMENT,
        r"ground_truth: must be a non-empty string",
    ),
    "unknown dataset": (
        GOOD_DATASET + GOOD_EXPERIMENT.replace('dataset = "a"', 'dataset = "b"'),
        "unknown dataset 'b'",
    ),
    "selected_on unknown": (
        GOOD_DATASET.replace('"g"\n', '"g"\nselected_on = "zz"\n') + GOOD_EXPERIMENT,
        "selected_on: unknown dataset",
    ),
    "empty runs": (GOOD_DATASET + GOOD_EXPERIMENT.replace('["p"]', "[]"), "runs: is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_manifests_are_checked_whole_before_scoring(tmp_path, case):
    text, needle = BAD_MANIFESTS[case]
    f = tmp_path / "m.toml"
    f.write_text(text)
    with pytest.raises(ManifestError, match=needle):
        load_manifest(f)
    r = CliRunner().invoke(main, ["tables", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "m.toml" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()  # nothing scored, nothing written


def test_manifest_in_another_encoding_is_refused(tmp_path):
    f = tmp_path / "m.toml"
    f.write_bytes(("# café\n" + GOOD_DATASET + GOOD_EXPERIMENT).encode("latin-1"))
    with pytest.raises(ManifestError, match="not UTF-8"):
        load_manifest(f)


def test_manifest_writer_round_trips_with_relative_paths(tmp_path):
    from adaptor_score.manifest import write_manifest

    f = tmp_path / "m.toml"
    f.write_text(
        'radii = [6, 8]\n[[dataset]]\nname = "cv \\"x\\""\nground_truth = "data/gt"\nfolds = "f.csv"\n'
        '[[dataset]]\nname = "t"\nground_truth = "/abs/test"\nselected_on = "cv \\"x\\""\n'
        '[[experiment]]\nname = "e"\nmodel = "V1"\nsigma1 = 2.5\nvariant = 1\n'
        '[[experiment.results]]\ndataset = "cv \\"x\\""\nfolds = { "1" = "r/1", "a b" = "r/2" }\n'
        '[[experiment.results]]\ndataset = "t"\nruns = ["r/t1", "r/t2"]\n'
    )
    m = load_manifest(f)
    m.path = tmp_path / "elsewhere" / "copy.toml"
    write_manifest(m)
    text = m.path.read_text()
    assert '"../data/gt"' in text and str(tmp_path) not in text.replace("/abs/test", "")
    again = load_manifest(m.path)
    assert {k: v.resolve() for k, v in again.experiments[0].results[0]["runs"].items()} == {
        "1": (tmp_path / "r/1").resolve(),
        "a b": (tmp_path / "r/2").resolve(),
    }
    assert again.experiments[0].params == {"model": "V1", "sigma1": 2.5, "variant": 1}
    assert again.datasets["t"].selected_on == 'cv "x"' and again.radii == [6.0, 8.0]


# ----------------------------------------------------------------------------- images


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header states ``width x height`` (its pixel data is empty)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"") + _chunk(b"IEND", b"")
    )


def nifti1(width: int, height: int) -> bytes:
    head = bytearray(352)
    struct.pack_into("<i", head, 0, 348)
    struct.pack_into("<8h", head, 40, 2, width, height, 1, 1, 1, 1, 1)
    head[344:348] = b"n+1\0"
    return bytes(head)


def test_image_headers_of_every_contract_type(tmp_path):
    (tmp_path / "big.png").write_bytes(png_header(100_000, 100_000))
    with pytest.raises(Exception, match="pixels|decompression bomb"):
        image_size(tmp_path / "big.png")
    (tmp_path / "a.nii").write_bytes(nifti1(512, 288))
    (tmp_path / "b.nii.gz").write_bytes(gzip.compress(nifti1(640, 360)))
    (tmp_path / "c.mha").write_bytes(b"ObjectType = Image\nNDims = 2\nDimSize = 32 16\n")
    assert image_size(tmp_path / "a.nii") == (512, 288)
    assert image_size(tmp_path / "b.nii.gz") == (640, 360)
    assert image_size(tmp_path / "c.mha") == (32, 16)


def test_validate_lists_a_lying_png_and_reads_nifti_and_same_stem_images(tmp_path):
    images = tmp_path / "in" / "s" / "v" / "images"
    images.mkdir(parents=True)
    (images / "000001.png").write_bytes(png_header(100_000, 100_000))
    (images / "000002.nii.gz").write_bytes(gzip.compress(nifti1(512, 288)))
    (images / "000005.png").write_bytes(png_header(512, 288))
    (images / "000005.jpg").write_bytes(png_header(512, 288))
    out = tmp_path / "out" / "s" / "v" / "images"
    for stem, name in (
        ("000001", "000001.png"),
        ("000002", "000002.nii.gz"),
        ("000005", "000005.jpg"),
    ):
        write_points(out / f"{stem}.json", [(600, 5)], fields=("s", "v", name))
    problems, n = validate_submission(tmp_path / "out", tmp_path / "in")
    text = "\n".join(f"{p.file}: {p.problem}" for p in problems)
    assert n == 4
    assert "000001.png: cannot read the image size" in text
    assert "000002.json: 1 of 1 points lie outside the 512 x 288 image" in text  # NIfTI size read
    assert "000005.png: two images map to the same output" in text


# ----------------------------------------------------------------------------- injection


def test_csv_markdown_and_latex_cannot_be_injected(tmp_path):
    from adaptor_score.tables import run_manifest, write_tables

    gt = tmp_path / "gt"
    write_points(gt / "=cmd()" / "v" / "point_labels" / "0.json", [(5, 5)])
    write_points(tmp_path / "p" / "=cmd()" / "v" / "0.json", [(5, 5)])
    (tmp_path / "m.toml").write_text(
        '[[dataset]]\nname = "@A|B"\ntitle = "A | B_1 & 50%"\nground_truth = "gt"\n'
        '[[experiment]]\nname = "+x|y"\nmodel = "-V1 {x} $\\\\"\n'
        '[[experiment.results]]\ndataset = "@A|B"\nfolds = { "=cmd()" = "p" }\n'
    )
    results = run_manifest(load_manifest(tmp_path / "m.toml"))
    write_tables(results, tmp_path / "o")
    with open(tmp_path / "o" / "results.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["dataset"] == "'@A|B" and row["experiment"] == "'+x|y" and row["run"] == "'=cmd()"
    md = (tmp_path / "o" / "table1.md").read_text()
    assert "| -V1 {x} $\\\\ |" in md and "A \\| B" not in md.split("###")[0]
    tex = (tmp_path / "o" / "table1.tex").read_text()
    assert r"A | B\_1 \& 50\%" in tex and r"-V1 \{x\} \$\textbackslash{}" in tex
    r = CliRunner().invoke(
        main, ["score", str(gt), str(tmp_path / "p"), "--csv", str(tmp_path / "f.csv")]
    )
    assert r.exit_code == 0
    assert (tmp_path / "f.csv").read_text().splitlines()[1].startswith("'=cmd(),v,0,")


_PIECES = [
    "\\ud800",
    "\\udbff",
    "\\udc00",
    "\\udfff",
    "\\\\",
    "\\\\\\",
    "a",
    "\\u00e9",
    "u",
    "d800",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8))
def test_lone_surrogates_are_refused_exactly_when_the_standard_library_finds_one(pieces):
    raw = b'{"points": [], "note": "' + "".join(pieces).encode() + b'"}'
    try:
        note = json.loads(raw)["note"]
    except ValueError:
        assume(False)  # not JSON at all: another rule's business
    lone = re.search("[\ud800-\udfff]", note) is not None
    try:
        decode_points_file(raw)
        refused = False
    except BadFile as e:
        refused = "surrogate" in str(e)
    assert refused == lone

"""The domain-transformation task on the leaderboard: how a run is judged and recorded, the inputs
refused, and the page's measures and gallery (no container needed here; the container runs are in
test_runner_containers.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from adaptor_leaderboard.cli import main
from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.lifecycle import SubmissionInputError
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.runner import score_into_ledger
from adaptor_leaderboard.translations import (
    add_translation,
    check_translation_input,
    judge,
    latest,
)
from tests.leaderboard.conftest import images_only


def _translate(source: Path, out: Path, count: int | None = None) -> Path:
    images = sorted(source.rglob("*.png"))[:count]
    for p in images:
        target = out / p.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - np.asarray(Image.open(p).convert("RGB"))).save(target)
    return out


def test_runs_are_judged_by_what_they_wrote(test_set, tmp_path):
    gt, _ = test_set
    inp = images_only(gt)
    n = check_translation_input(inp)
    full = _translate(inp, tmp_path / "full")
    half = _translate(inp, tmp_path / "half", n // 2)
    (tmp_path / "none").mkdir()
    assert judge(0, "", full, inp, n) == ("translated", "", n, 0)
    status, reason, written, _ = judge(0, "", half, inp, n)
    assert status == "incomplete" and written == n // 2 and f"{n - n // 2} of {n}" in reason
    assert judge(2, "", tmp_path / "none", inp, n)[:2] == ("not offered",
                                                         "exit 2, no translation written")  # fmt: skip
    assert judge(0, "", tmp_path / "none", inp, n)[0] == "not offered"
    assert judge(None, "time limit (5 s)", full, inp, n)[:2] == ("failed", "time limit (5 s)")
    assert judge(3, "", full, inp, n)[:2] == ("translated", "exit 3")


@pytest.mark.parametrize("what", ["labels", "json", "empty", "missing"])
def test_an_input_the_container_must_not_see_is_refused(test_set, tmp_path, what):
    gt, _ = test_set
    bad = tmp_path / "in"
    if what == "labels":
        shutil.copytree(gt, bad, ignore=shutil.ignore_patterns("*.json"))
    elif what == "json":
        shutil.copytree(images_only(gt), bad)
        (bad / "x.json").write_text("{}")
    elif what == "empty":
        bad.mkdir()
    with pytest.raises(SubmissionInputError):
        check_translation_input(bad)
    r = CliRunner().invoke(main, ["run", "img", "--team", "T", "--input", str(gt),
                                  "--ground-truth", str(gt), "--translate", f"sim={bad}",
                                  "--ledger", str(tmp_path / "l.sqlite")])  # fmt: skip
    assert r.exit_code == 2 and "--translate" in r.output
    assert not (tmp_path / "l.sqlite").exists()  # refused before any claim


def _measures(tmp_path, source: Path, folders: dict[str, Path]) -> Path:
    entry = {"images": 8, "consistency": {
        "frames": 8, "source": {r: {"f1": 0.8, "ppv": 0.8, "tpr": 0.8} for r in ("6", "8", "10")},
        "translated": {r: {"f1": 0.5, "ppv": 0.5, "tpr": 0.5} for r in ("6", "8", "10")}},
        "realism": {"frechet": 12.5, "low": 10.0, "high": 15.0, "images": 8, "real_images": 8,
                    "replicates": 20}}  # fmt: skip
    doc = {"source": str(source), "domain": "sim", "target": "intraop",
           "translations": {n: {**entry, "folder": str(f)} for n, f in folders.items()}}
    path = tmp_path / "measures.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_page_shows_measures_and_a_lazy_gallery_and_lists_runs(test_set, tmp_path):
    gt, teams = test_set
    inp = images_only(gt)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        sids = {}
        for t in ("good", "mid"):
            sids[t] = ledger.add_submission(t, "test", "I")
            score_into_ledger(ledger, sids[t], teams[t], gt)
        add_translation(ledger, sids["good"], "sim", inp, _translate(inp, tmp_path / "tr"))
        (tmp_path / "nothing").mkdir()
        add_translation(ledger, sids["mid"], "sim", inp, tmp_path / "nothing")
        rows = latest(ledger, "test")
    assert [(r["team"], r["status"]) for r in rows] == [("good", "translated"),
                                                        ("mid", "not offered")]  # fmt: skip
    m = _measures(tmp_path, gt, {"good": tmp_path / "tr", "<b>Identity</b>": inp})
    site = tmp_path / "site"
    r = CliRunner().invoke(main, ["publish", "--ledger", str(tmp_path / "l.sqlite"), "--out",
                                  str(site), "--bootstrap", "20", "--translation-measures",
                                  str(m)])  # fmt: skip
    assert r.exit_code == 0, r.output
    page = (site / "index.html").read_text()
    assert "Domain transformation (reported, not ranked)" in page and "sim → intraop" in page
    assert page.count('loading="lazy"') == 4 * 3  # 4 frames x (source, good, identity)
    assert "&lt;b&gt;Identity&lt;/b&gt;" in page and "<b>Identity" not in page
    assert "mid, sim: not offered" in page
    tiles = sorted(p.name for p in (site / "gallery").iterdir())
    assert "sheet-0.png" in tiles and len(tiles) == 13
    sheet = Image.open(site / "gallery" / "sheet-0.png")
    assert sheet.size == (3 * 256, 24 + 4 * 144)
    doc = json.loads((site / "leaderboard.json").read_text())["domain_transformation"]
    assert [r["status"] for r in doc["runs"]] == ["translated", "not offered"]


@pytest.mark.parametrize("content", ["[]", '{"source": 3}', "{", '{"source": "x", "translations":'
                                     ' {"a": {"folder": "f", "images": "many"}}}'])
def test_a_measures_file_of_another_shape_is_refused(test_set, tmp_path, content):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        score_into_ledger(ledger, ledger.add_submission("good", "test", "I"), teams["good"], gt)
    bad = tmp_path / "m.json"
    bad.write_text(content)
    r = CliRunner().invoke(main, ["publish", "--ledger", str(tmp_path / "l.sqlite"), "--out",
                                  str(tmp_path / "s"), "--translation-measures", str(bad)])  # fmt: skip
    assert r.exit_code == 2 and "m.json" in r.output and "Traceback" not in r.output


def test_a_board_without_the_task_has_no_section(test_set, tmp_path):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        score_into_ledger(ledger, ledger.add_submission("good", "test", "I"), teams["good"], gt)
        board = build_board(ledger, PhaseRules("test"), replicates=10)
    page = publish(board, tmp_path / "site")[-1].read_text()
    assert "Domain transformation" not in page and not (tmp_path / "site" / "gallery").exists()


@pytest.mark.parametrize("drop", ["10", "6"])
def test_a_measures_file_without_a_radius_the_page_prints_is_refused(test_set, tmp_path, drop):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        score_into_ledger(ledger, ledger.add_submission("good", "test", "I"), teams["good"], gt)
    m = _measures(tmp_path, gt, {"good": images_only(gt)})
    doc = json.loads(m.read_text())
    del doc["translations"]["good"]["consistency"]["translated"][drop]
    m.write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["publish", "--ledger", str(tmp_path / "l.sqlite"), "--out",
                                  str(tmp_path / "s"), "--translation-measures", str(m)])  # fmt: skip
    assert r.exit_code == 2 and "measures.json" in r.output and "Traceback" not in r.output
    assert f'"{drop}"' in r.output or drop in r.output


def test_the_published_files_carry_no_host_paths(test_set, tmp_path):
    gt, teams = test_set
    inp = images_only(gt)
    with Ledger(tmp_path / "l.sqlite") as ledger:
        sid = ledger.add_submission("good", "test", "I")
        score_into_ledger(ledger, sid, teams["good"], gt)
        add_translation(ledger, sid, "sim", inp, _translate(inp, tmp_path / "tr"))
    m = _measures(tmp_path, gt, {"good": tmp_path / "tr"})
    site = tmp_path / "site"
    r = CliRunner().invoke(main, ["publish", "--ledger", str(tmp_path / "l.sqlite"), "--out",
                                  str(site), "--bootstrap", "10", "--translation-measures",
                                  str(m)])  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("leaderboard.json", "leaderboard.md", "leaderboard.csv", "index.html"):
        text = (site / name).read_text()
        assert str(tmp_path) not in text, name


@pytest.mark.parametrize("kind", ["link-to-label", "link-outside", "label-renamed"])
def test_test_input_copies_real_images_only(test_set, tmp_path, kind):
    """An image that is a link (to a label, to a host file) or a label renamed .png never lands
    in the test input reported as "no labels, no JSON"."""
    gt, _ = test_set
    tree = tmp_path / "gt"
    shutil.copytree(gt, tree)
    img = sorted(tree.rglob("images/*.png"))[0]
    label = sorted(tree.rglob("point_labels/*.json"))[0]
    img.unlink()
    if kind == "link-to-label":
        img.symlink_to(Path("..") / "point_labels" / label.name)
    elif kind == "link-outside":
        (tmp_path / "host.png").write_bytes(b"\x89PNG host secret")
        img.symlink_to(tmp_path / "host.png")
    else:
        shutil.copy(label, img)
    r = CliRunner().invoke(main, ["test-input", str(tree), str(tmp_path / "out")])
    assert r.exit_code == 2 and img.name in r.output and "Traceback" not in r.output, r.output
    copied = list((tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else []
    assert not any(b'"points"' in p.read_bytes() for p in copied if p.is_file())

"""The published page in a real headless Chromium: it loads without console errors, and a
screenshot shows the table and the plots. Run by `make test-browser` (which installs Debian's
chromium where it can); skipped with the reason elsewhere."""

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from PIL import Image

from adaptor_leaderboard.ledger import Ledger
from adaptor_leaderboard.publish import build_board, publish
from adaptor_leaderboard.ranking import PhaseRules
from adaptor_leaderboard.runner import score_into_ledger

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=3000",
    "--hide-scrollbars",  # a long page's scrollbar would cover the right edge the tests look at
]


def load(page, screenshot, size=(1200, 1400)):
    """Open ``page``; return the console error lines Chromium logged."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (make test-browser installs Debian's package)")
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                f"--screenshot={screenshot}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    lines = r.stderr.splitlines()
    return [ln for ln in lines if "CONSOLE" in ln and re.search(r"error|uncaught", ln, re.I)]


def test_the_checker_sees_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    assert load(page, tmp_path / "b.png"), "a page with a script error must be flagged"


def test_leaderboard_page_loads_clean_and_shows_table_and_plots(tmp_path, test_set):
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for t in ("good", "mid", "weak"):
            score_into_ledger(
                ledger, ledger.add_submission(t, "test", f"Institute {t}"), teams[t], gt
            )
        board = build_board(ledger, PhaseRules("test"), replicates=200, seed=0)
    page = publish(board, tmp_path / "site")[-1]
    shot = tmp_path / "page.png"
    assert load(page, shot) == []
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (1400, 1200)
    top = img[:300]
    assert (top.sum(axis=2) < 150).mean() > 0.005  # dark text of the heading and table
    for team in ("good", "mid", "weak"):  # each team's own colour appears in the plots
        colour = board.colours[team]
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(img[300:] - rgb).sum(axis=2) < 30).sum() > 20, (team, colour)
    blue_cells = (np.abs(img[300:] - np.array([8, 69, 148])).sum(axis=2) < 40).sum()
    assert blue_cells > 500  # heatmap cells of the per-surgery and rank plots


def test_long_names_keep_the_page_usable_at_desktop_and_phone_width(tmp_path, test_set):
    gt, teams = test_set
    long_name = "Deep Suture Detection Consortium of Very Long Names (University Hospital)"
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for name, t in ((long_name, "good"), ("Team Jitter", "mid"), ("weak", "weak")):
            sid = ledger.add_submission(
                name, "test", "Institute with an even longer name, Cardiac Surgery"
            )
            score_into_ledger(ledger, sid, teams[t], gt)
        board = build_board(ledger, PhaseRules("test"), replicates=50, seed=0)
    page = publish(board, tmp_path / "site")[-1]
    html_text = page.read_text()
    assert "Deep Suture Detection Conso…" in html_text  # shortened in the plots
    assert f"<title>{long_name}</title>" in html_text  # the full name as the tooltip
    # The earlier stylesheet (no wrapping, no scroll box) pushed text past the window's edge:
    # the same page with it is the negative control of the measure below.
    old = tmp_path / "site" / "old.html"
    old.write_text(html_text.replace(_css_of(html_text), OLD_CSS))

    def text_at_right_edge(path, width) -> float:
        shot = tmp_path / f"{path.stem}-{width}.png"
        assert load(path, shot, size=(width, 2000)) == []
        img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
        return float((img[:, -12:].sum(axis=2) < 300).mean())  # dark pixels in the last 12 px

    assert text_at_right_edge(old, 1400) > 0.002  # text cut by the edge: the measure sees it
    for width in (1400, 390):
        assert text_at_right_edge(page, width) < 0.0005, width
    got = measure(page, 1400, tmp_path)  # the longest names still fit their figures
    assert got["overlaps"] == [] and got["outside"] == []


OLD_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) { text-align: left; }
"""


def _css_of(html_text: str) -> str:
    return html_text.split("<style>", 1)[1].split("</style>", 1)[0]


# Injected into a copy of the page (the page itself runs no script): measures every text box in
# each SVG (rotation included: the four corners through the element's transform) and the table's
# columns, and leaves the result in an attribute that --dump-dom prints.
MEASURE = """
<script>
function quad(el) {
  const b = el.getBBox(), m = el.getScreenCTM();
  const i = Math.min(1.5, b.height / 4);  // the box holds ascent and descent: trim a little
  return [[b.x + i, b.y + i], [b.x + b.width - i, b.y + i], [b.x + b.width - i, b.y + b.height - i],
          [b.x + i, b.y + b.height - i]].map(([x, y]) => {
    const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; });
}
function apart(a, b) {  // separating axis test of two convex quadrilaterals
  for (const poly of [a, b]) for (let k = 0; k < 4; k++) {
    const [x1, y1] = poly[k], [x2, y2] = poly[(k + 1) % 4], nx = y2 - y1, ny = x1 - x2;
    const pa = a.map(([x, y]) => nx * x + ny * y), pb = b.map(([x, y]) => nx * x + ny * y);
    if (Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa)) return true;
  }
  return false;
}
const overlaps = [], outside = [];
for (const svg of document.querySelectorAll("svg")) {
  const texts = [...svg.querySelectorAll("text")].filter(t => t.textContent.trim() &&
      t.getBBox().width > 0);
  const quads = texts.map(quad);
  const frame = svg.getBoundingClientRect();  // the figure's canvas: a label past it is cut off
  quads.forEach((q, i) => { if (q.some(([x, y]) => x < frame.left - 0.5 || x > frame.right + 0.5 ||
      y < frame.top - 0.5 || y > frame.bottom + 0.5)) outside.push(texts[i].textContent.trim()); });
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
    if (!apart(quads[i], quads[j]))
      overlaps.push([texts[i].textContent.trim(), texts[j].textContent.trim()]);
}
// The smallest text as rendered, in CSS px: an SVG text's font size times its scale on screen,
// and every HTML element that holds text of its own.
const sizes = [];
for (const t of document.querySelectorAll("svg text")) {
  if (!t.textContent.trim()) continue;
  const m = t.getScreenCTM();
  sizes.push([parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b), t.textContent.trim()]);
}
for (const el of document.body.querySelectorAll("*:not(svg *)")) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (own && el.getClientRects().length) sizes.push([parseFloat(getComputedStyle(el).fontSize),
                                                      el.textContent.trim().slice(0, 40)]);
}
sizes.sort((a, b) => a[0] - b[0]);
const width = document.documentElement.clientWidth;
const heads = [...document.querySelectorAll("#leaderboard th")].map(th => {
  const r = th.getBoundingClientRect();
  return {name: th.textContent, visible: r.width > 0, left: r.left, right: r.right};
});
const wrap = document.querySelector(".tablewrap");
document.body.setAttribute("data-measure", JSON.stringify({overlaps, outside, width, heads,
  tableScrolls: wrap.scrollWidth > wrap.clientWidth + 1,
  pageScrolls: document.documentElement.scrollWidth > width + 1, svgs: document.querySelectorAll("svg").length,
  smallest: sizes.slice(0, 5)}));
</script>
"""


def measure(page, width, tmp_path):
    """Chromium's measurements of ``page`` at ``width`` px (see MEASURE)."""
    import html as html_lib
    import json

    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (make test-browser installs Debian's package)")
    probe = page.with_name(f"{page.stem}-measure-{width}.html")
    probe.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},2000",
             "--dump-dom", probe.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    found = re.search(r'data-measure="([^"]*)"', r.stdout)
    assert found, r.stderr[-2000:]
    return json.loads(html_lib.unescape(found.group(1)))


def _tied_board(tmp_path, test_set):
    """Three teams with the very same output (tied everywhere) and a fourth: the case whose
    labels collided in the precision-recall plot."""
    gt, teams = test_set
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for name, t in (("Tied A", "mid"), ("Tied B", "mid"), ("Tied C", "mid"), ("Best", "good")):
            score_into_ledger(ledger, ledger.add_submission(name, "test", "Inst"), teams[t], gt)
        board = build_board(ledger, PhaseRules("test"), replicates=100, seed=0)
    return publish(board, tmp_path / "site")[-1]


def test_the_font_measure_sees_text_scaled_below_9_px(tmp_path):
    page = tmp_path / "tiny.html"
    page.write_text(
        '<html><body><div class="tablewrap"><table id="leaderboard"><tr><th>Rank</th></tr>'
        '</table></div><svg width="100" height="50" viewBox="0 0 400 200"><text x="10" y="50"'
        ' font-size="12">scaled to a quarter</text></svg></body></html>'
    )
    got = measure(page, 390, tmp_path)
    assert got["smallest"][0] == [3, "scaled to a quarter"]


def test_the_overlap_measure_sees_overlapping_labels(tmp_path):
    page = tmp_path / "overlap.html"
    page.write_text(
        '<html><body><div class="tablewrap"><table id="leaderboard"><tr><th>Rank</th></tr>'
        '</table></div><svg width="300" height="100"><text x="10" y="50">F1 0.2</text>'
        '<text x="20" y="52">Tied B</text><text x="10" y="90" transform="rotate(-40 10 90)">'
        'rotated</text><text x="200" y="90">far</text><text x="270" y="30">cut off</text>'
        '</svg></body></html>'
    )
    got = measure(page, 1200, tmp_path)
    assert ["F1 0.2", "Tied B"] in got["overlaps"]
    assert not any("far" in pair for pair in got["overlaps"])
    assert got["outside"] == ["cut off"]  # past the canvas's right edge; "far" is inside


@pytest.mark.parametrize("width", [1400, 390])
def test_no_label_overlaps_another_and_the_table_fits(tmp_path, test_set, width):
    got = measure(_tied_board(tmp_path, test_set), width, tmp_path)
    assert got["overlaps"] == []
    assert got["outside"] == []  # no label cut off at its figure's edge
    assert got["smallest"][0][0] >= 9, got["smallest"]  # no text below 9 CSS px, phone included
    assert got["svgs"] >= 10  # three board plots, seven robustness figures
    assert not got["pageScrolls"]
    visible = {h["name"]: h for h in got["heads"] if h["visible"]}
    for name in ("Rank", "Team", "F1"):  # in view without scrolling sideways
        assert name in visible and visible[name]["right"] <= got["width"], (width, name)
    if width == 1400:  # every column, none cut
        assert len(visible) == len(got["heads"]) and not got["tableScrolls"]
        assert visible["Submitted (UTC)"]["right"] <= got["width"]


@pytest.mark.parametrize("width", [1400, 390])
def test_the_domain_transformation_gallery_is_legible_and_fits(tmp_path, test_set, width):
    from tests.leaderboard.conftest import images_only
    from tests.leaderboard.test_translations import _measures, _translate

    gt, teams = test_set
    inp = images_only(gt)
    measures = _measures(tmp_path, gt, {"A team with a rather long name": _translate(inp, tmp_path / "tr"),
                                        "Identity (reference)": inp})  # fmt: skip
    import json

    with Ledger(tmp_path / "l.sqlite") as ledger:
        score_into_ledger(ledger, ledger.add_submission("good", "test", "I"), teams["good"], gt)
        board = build_board(ledger, PhaseRules("test"), replicates=20, seed=0,
                            translation_measures=[json.loads(measures.read_text())])  # fmt: skip
    page = publish(board, tmp_path / "site")[-1]
    got = measure(page, width, tmp_path)
    assert got["smallest"][0][0] >= 9, got["smallest"]
    assert not got["pageScrolls"] and got["overlaps"] == []
    shot = tmp_path / f"gallery-{width}.png"
    assert load(page, shot, size=(width, 9000)) == []


def test_a_crowded_board_of_long_names_keeps_every_label_whole(tmp_path, test_set):
    """Fourteen teams, names from one letter to a long consortium's and one that looks like
    markup: the figures grow with them, no label overlaps another or leaves its figure."""
    gt, teams = test_set
    names = [f"Team {i} " + "Very Long Institutional Consortium Name"[: 5 + 3 * i]
             for i in range(12)] + ["x", "$^_ <b>é</b>"]  # fmt: skip
    with Ledger(tmp_path / "l.sqlite") as ledger:
        for i, name in enumerate(names):
            out = teams[("good", "mid", "weak")[i % 3]]
            score_into_ledger(ledger, ledger.add_submission(name, "test", "I"), out, gt)
        board = build_board(ledger, PhaseRules("test"), replicates=60, seed=0)
    page = publish(board, tmp_path / "site")[-1]
    for width in (1400, 390):
        got = measure(page, width, tmp_path)
        assert got["overlaps"] == [] and got["outside"] == [], width
        assert got["smallest"][0][0] >= 9 and not got["pageScrolls"], width

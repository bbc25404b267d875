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
from adaptor_leaderboard.plots import team_colour
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
        colour = team_colour(team)
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(img[300:] - rgb).sum(axis=2) < 30).sum() > 20, (team, colour)
    green_cells = (np.abs(img[300:] - np.array([0, 109, 44])).sum(axis=2) < 40).sum()
    assert green_cells > 500  # heatmap cells of the per-surgery and rank plots


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


OLD_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:nth-child(2), td:nth-child(2), th:nth-child(3), td:nth-child(3) { text-align: left; }
"""


def _css_of(html_text: str) -> str:
    return html_text.split("<style>", 1)[1].split("</style>", 1)[0]

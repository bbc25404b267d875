"""The documentation's bash blocks: every one is marked (fast, slow, or skip with its reason),
and the fast ones run as written, in a copy of the repository (tools/doc_blocks.py; .ci/run runs
the slow ones)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("doc_blocks", ROOT / "tools" / "doc_blocks.py")
doc_blocks = importlib.util.module_from_spec(spec)
sys.modules["doc_blocks"] = doc_blocks  # dataclasses look their module up there
spec.loader.exec_module(doc_blocks)


def test_every_bash_block_is_marked_and_every_skip_says_why():
    assert doc_blocks.check() == []


def test_an_unmarked_block_is_found(tmp_path, monkeypatch):
    """The check can fail: a page with a bare bash block."""
    (tmp_path / "page.md").write_text("text\n```bash\necho hi\n```\n<!-- doc-block: skip -->\n```bash\nx\n```\n")
    monkeypatch.setattr(doc_blocks, "ROOT", tmp_path)
    monkeypatch.setattr(doc_blocks, "PAGES", ["page.md"])
    assert doc_blocks.check() == [
        "page.md:2: a bash block without <!-- doc-block: ... -->",
        "page.md:6: doc-block skip without a reason",
    ]


def test_the_fast_blocks_run_as_written():
    assert doc_blocks.run("fast") == []

"""The documentation cannot rot silently: every relative link of the README and docs/ leads to a
file (and, with an anchor, to a heading of it), and every command in their bash blocks names a
program that exists: our entry points with real subcommands, make targets of the Makefile, the
repository's scripts, or a known external tool."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Programs of other projects that the docs show (installed by users where they need them).
EXTERNAL = {
    "python", "python3", "pip", "docker", "podman", "sbatch", "squeue", "scontrol", "sinfo",
    "parallel", "git", "source", "export", "cd", "ls", "cat", "echo", "mkdir", "chmod", "curl",
    "eval",
}  # fmt: skip


def _cli():
    from adaptor_baseline.cli import main as baseline
    from adaptor_leaderboard.cli import main as leaderboard
    from adaptor_score.cli import main as score

    return {
        "adaptor-score": score,
        "adaptor-baseline": baseline,
        "adaptor-leaderboard": leaderboard,
    }


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _links():
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if not re.match(r"^[a-z]+://|^mailto:|^#", target):
                yield page, target


@pytest.mark.parametrize(("page", "target"), list(_links()), ids=lambda x: str(x)[-40:])
def test_every_relative_link_leads_somewhere(page, target):
    path, _, anchor = target.partition("#")
    dest = (page.parent / path).resolve()
    assert dest.exists(), f"{page.relative_to(ROOT)}: {target} does not exist"
    if anchor:
        headings = [_anchor(h) for h in re.findall(r"^#+ (.*)$", dest.read_text(), re.M)]
        assert anchor in headings, f"{page.relative_to(ROOT)}: no heading #{anchor} in {path}"


SEPARATORS = {"&&", "||", ";", "|"}


def _commands():
    """``(page, words)`` per command of every bash block: quotes respected, continuation lines
    joined, pipelines and lists split at their operators. Synopsis lines such as
    ``[--resume | --overwrite]`` or ``sim|intraop`` stay whole: a segment that starts with an
    option or a bracket continues the one before it."""
    for page in PAGES:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                words, current = [], []
                for tok in shlex.split(line, comments=True):  # operators stand apart in our docs
                    if tok in SEPARATORS:
                        words.append(current)
                        current = []
                    else:
                        current.append(tok)
                words.append(current)
                merged: list[list[str]] = []
                for seg in words:
                    if merged and (
                        not seg
                        or seg[0].startswith(("-", "["))
                        or merged[-1][-1:]
                        and merged[-1][-1].startswith("[")
                        and not merged[-1][-1].endswith("]")
                    ):
                        merged[-1] += seg
                    elif seg:
                        merged.append(seg)
                for seg in merged:
                    yield page, seg


def _program(words: list[str]) -> list[str]:
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):  # VAR=value before a command
        words = words[1:]
    return words


@pytest.mark.parametrize(
    ("page", "command"),
    list(_commands()),
    ids=lambda x: (" ".join(x) if isinstance(x, list) else str(x))[-50:],
)
def test_every_documented_command_exists(page, command):
    words = _program(list(command))
    if not words:
        return
    prog, args = words[0], words[1:]
    where = f"{page.relative_to(ROOT)}: {' '.join(command)}"
    clis = _cli()
    if prog in clis:
        group = clis[prog]
        ctx = click.Context(group)
        sub = next((a for a in args if not a.startswith("-")), None)
        if sub is not None and "|" not in sub:
            assert group.get_command(ctx, sub) is not None, f"{where}: no command {sub!r}"
    elif prog == "make":
        targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
        for t in (a for a in args if not a.startswith("-") and "=" not in a):
            assert t in targets, f"{where}: no make target {t!r}"
    elif "/" in prog or prog.endswith((".sh", ".py")):
        assert (ROOT / prog).exists(), f"{where}: {prog} does not exist"
    elif prog in ("bash", "python", "python3") and args and args[0].endswith((".sh", ".py")):
        assert (ROOT / args[0]).exists(), f"{where}: {args[0]} does not exist"
    else:
        assert prog in EXTERNAL, f"{where}: {prog!r} is neither ours nor a known tool"


def test_the_readme_stays_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_the_checks_catch_a_broken_link_and_a_missing_command(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("[x](nope.md)\n```bash\nadaptor-score nosuch\n```\n")
    assert not (page.parent / "nope.md").exists()
    group = _cli()["adaptor-score"]
    assert group.get_command(click.Context(group), "nosuch") is None
    assert group.get_command(click.Context(group), "score") is not None


def test_help_texts_show_no_rest_markup_and_command_lists_are_not_cut():
    """Every command's help reads as plain text (no reST double backticks), and a group's list
    gives each command's whole first sentence (click cut them at 45 characters with '...')."""
    import click
    from click.testing import CliRunner

    from adaptor_baseline.cli import main as baseline
    from adaptor_leaderboard.cli import main as leaderboard
    from adaptor_score.cli import main as score

    def walk(group, path):
        for name, cmd in group.commands.items():
            assert "``" not in (cmd.help or ""), f"{path} {name}"
            if isinstance(cmd, click.Group):
                walk(cmd, path + [name])
                out = CliRunner().invoke(group, [name, "--help"], terminal_width=80).output
                assert "..." not in out.split("Commands:")[-1], f"{path} {name}"

    for root in (score, leaderboard, baseline):
        walk(root, [root.name or "main"])
        out = CliRunner().invoke(root, ["--help"], terminal_width=80).output
        assert "..." not in out.split("Commands:")[-1], root.name

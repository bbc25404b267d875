"""The dependency rules of the layout, checked on the source: they run one way.

adaptor_score (evaluation/) imports neither the baseline nor the leaderboard; the leaderboard
imports the scorer, never the baseline; no module grows past ~400 lines.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "adaptor_score": ROOT / "evaluation" / "adaptor_score",
    "adaptor_baseline": ROOT / "baseline" / "adaptor_baseline",
    "adaptor_leaderboard": ROOT / "leaderboard" / "adaptor_leaderboard",
}
FORBIDDEN = {
    "adaptor_score": {"adaptor_baseline", "adaptor_leaderboard", "torch", "kornia", "docker"},
    "adaptor_leaderboard": {"adaptor_baseline", "torch", "kornia"},
    "adaptor_baseline": {"adaptor_leaderboard"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_dependencies_run_one_way():
    broken = []
    for package, folder in PACKAGES.items():
        for f in sorted(folder.rglob("*.py")):
            bad = imported_modules(f) & FORBIDDEN[package]
            if bad:
                broken.append(f"{f.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert broken == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from adaptor_leaderboard.ledger import Ledger\n")
    assert "adaptor_leaderboard" in imported_modules(f)


def test_no_module_over_400_lines():
    long = [
        f"{f.relative_to(ROOT)}: {n}"
        for folder in PACKAGES.values()
        for f in folder.rglob("*.py")
        if (n := len(f.read_text().splitlines())) > 400
    ]
    assert long == []


def test_the_examples_users_copy_are_valid():
    from adaptor_leaderboard.ranking import load_rules
    from adaptor_score.manifest import load_manifest

    rules = load_rules(ROOT / "examples" / "rules.toml", "test")
    assert (rules.max_submissions, rules.metric, rules.radius) == (3, "f1", 6.0)
    assert load_rules(ROOT / "examples" / "rules.toml", "preliminary").max_submissions == 10
    m = load_manifest(ROOT / "examples" / "manifest.toml")
    assert list(m.datasets) == ["A.1", "A.2"] and m.datasets["A.2"].selected_on == "A.1"
    assert [r["kind"] for r in m.experiments[0].results] == ["folds", "runs"]

"""The demo's own result beside the band its recipe gives over training seeds
(``benchmarks/results/demo-seeds.json``, written by ``benchmarks/demo_seeds.py``), and what to
suspect when it falls outside. ``make demo`` ends with it (``adaptor-baseline demo-check``)."""

from __future__ import annotations

import json
from pathlib import Path

from adaptor_score.contract import RANKING_RADIUS
from adaptor_score.safefiles import BadFile, read_text

SEEDS_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "demo-seeds.json"

SUSPECT = (
    "Outside the band: suspect, in this order, a changed recipe (tools/demo.sh against"
    " recipes.DEMO_RECIPE: a test keeps them equal), changed demo data (another generator version"
    " in demo-output/train/synth.json), other torch or CPU kernels (the band was measured with"
    " {torch} on {cpu}), or a training run that was interrupted and resumed with other settings."
)


def f1_at_6(score_json: str | Path) -> float:
    """The pooled F1 at the ranking radius (6 px) of an ``adaptor-score score --json`` report."""
    doc = json.loads(read_text(score_json, 64 << 20))
    six = next(r for r in doc["overall"] if float(r["radius"]) == RANKING_RADIUS)
    return float(six["f1"] or 0.0)


def demo_check(
    score_json: str | Path, seeds_json: str | Path = SEEDS_FILE
) -> tuple[bool, list[str]]:
    """``(inside, lines)``: whether the demo's F1@6 lies in the sim band, and what to print.

    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s.json").write_text(json.dumps({"overall": [{"radius": 6.0, "f1": 0.5}]}))
    >>> seeds = {"summary": {"sim": {"f1_mean": 0.8, "f1_sd": 0.01, "seeds": 5, "band": [0.77, 0.83]}},
    ...          "machine": {"cpu": "AMD EPYC", "torch": "2.13.0"}}
    >>> _ = (d / "b.json").write_text(json.dumps(seeds))
    >>> inside, lines = demo_check(d / "s.json", d / "b.json")
    >>> inside, lines[0]
    (False, 'demo F1@6 = 0.500; 5 training seeds of this recipe gave 0.800 ± 0.010 (band 0.77–0.83)')
    """
    f1 = f1_at_6(score_json)
    try:
        doc = json.loads(read_text(seeds_json, 1 << 20))
        sim, machine = doc["summary"]["sim"], doc.get("machine", {})
    except (BadFile, ValueError, KeyError, TypeError):
        return True, [f"demo F1@6 = {f1:.3f} (no seed benchmark at {seeds_json} to compare with)"]
    low, high = sim["band"]
    head = (
        f"demo F1@6 = {f1:.3f}; {sim['seeds']} training seeds of this recipe gave"
        f" {sim['f1_mean']:.3f} ± {sim['f1_sd']:.3f} (band {low:.2f}–{high:.2f})"
    )
    if low <= f1 <= high:
        return True, [head, "inside the band: the demo ran as measured."]
    suspect = SUSPECT.format(torch=machine.get("torch", "?"), cpu=machine.get("cpu", "?"))
    return False, [head, suspect]

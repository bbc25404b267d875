"""The paper's claims, tested one by one on the grid's runs.

Each :class:`Claim` is a comparison the paper's text makes (section 5.1, Tables 1, 2 and 4,
Fig. 4), with the direction the text states. For each, :func:`claim_rows` gives our difference
and the exact two-sided signed-rank test (:func:`adaptor_score.signrank.wilcoxon`, the test
``compare`` uses) over **the independent unit**:

* the **surgery**, the most independent unit the ground truth gives (as the leaderboard's
  headlines, docs/statistics.md): in a cross-validation each surgery is predicted by the one fold
  model that did not see it, its seeds averaged; on the test set (A.2) every fold model predicts
  the same frames, so the surgery's value is averaged over the models and seeds
  (:func:`adaptor_score.compare.unit_values`, as ``compare`` does);
* beside it, labelled so, the other unit ``compare`` gives: the **fold** of a cross-validation
  (the same numbers where each fold holds one surgery, as every stand-in fold does; the paper's
  B.1 holds two simulations per fold, where the surgery gives 10 pairs and the fold 5) and the
  **model** on a test set (the four models see the same frames: they compare models, not
  samples of the data);
* the ``close`` claim (Fig. 4) at the fold, the figure's own unit: the shares of close labels
  are kept per run.

A claim's verdict: **reproduces** (p ≤ 0.05 in the claim's direction), **opposite
(significant)**, **not significant**, or **cannot tell at this n** when the smallest p the units
can give is above 0.05 (4 units: 0.125; 5 units: 0.0625); the direction and the number of units
that go the claim's way are given in every case.

The paper's difference comes from its tables (quoted in :data:`PAPER_F1` and
``paper_beside.PAPER_TABLE1``; a test checks each against its text), and where its prose quotes a
difference that its tables do not give, both are shown.

Three kinds of claim:

* ``f1``: F1 of one configuration against another at one radius;
* ``radius``: one configuration's F1 at 8 or 10 px against 6 px (Table 4). Matching takes the
  closest pairs first, so a wider radius keeps every match of a narrower one: the difference
  cannot be negative, and the test measures its size, not its sign;
* ``close``: the paper's Fig. 4: going from σ₁ = 2 to σ₁ = 3 lowers the share of close labels
  found (within 15 px of another label) more than the share of the other labels; per unit,
  (close drop) - (other drop), where a drop is the share at σ₁ = 2 minus the share at σ₁ = 3.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from paper_beside import PAPER_TABLE1

# The paper's F1 beyond Table 1 that its claims rest on: (dataset, experiment, radius) -> F1.
# Table 2: sigma_2 = 2 and 3 (sigma_2 = 1 is Table 1's row); Table 4: the best model of each
# domain at 8 and 10 px.
PAPER_F1 = {
    ("A.1", "v1-g2-s2", 6.0): 0.4781, ("A.1", "v1-g2-s3", 6.0): 0.4582,
    ("A.1", "v1-g3-s2", 6.0): 0.4503, ("A.1", "v1-g3-s3", 6.0): 0.4485,
    ("B.1", "v1-g2-s2", 6.0): 0.7368, ("B.1", "v1-g2-s3", 6.0): 0.7188,
    ("B.1", "v1-g3-s2", 6.0): 0.7116, ("B.1", "v1-g3-s3", 6.0): 0.7254,
    ("A.1", "v1-g3-s1", 8.0): 0.4946, ("A.1", "v1-g3-s1", 10.0): 0.5014,
    ("A.2", "v1-g3-s1", 8.0): 0.4433, ("A.2", "v1-g3-s1", 10.0): 0.4471,
    ("B.1", "v1-g2-s1", 8.0): 0.7689, ("B.1", "v1-g2-s1", 10.0): 0.7790,
}  # fmt: skip


def paper_f1(dataset: str, experiment: str, radius: float = 6.0) -> float | None:
    if radius == 6.0 and (dataset, experiment) in PAPER_TABLE1:
        return PAPER_TABLE1[dataset, experiment][2][0]
    return PAPER_F1.get((dataset, experiment, radius))


@dataclass(frozen=True)
class Claim:
    """One comparison the paper makes: ``experiment`` at ``radius`` against ``reference`` at
    ``reference_radius``, expected to differ in the direction ``expect`` (+1: higher)."""

    dataset: str
    text: str
    source: str
    experiment: str
    reference: str
    kind: str = "f1"  # "f1", "radius" or "close"
    radius: float = 6.0
    reference_radius: float = 6.0
    expect: int = 1
    prose: float | None = None  # the difference the paper's prose quotes, where it quotes one

    def paper_difference(self) -> float | None:
        if self.kind == "close":
            return None  # Fig. 4 is a bar chart; the text gives no number
        a = paper_f1(self.dataset, self.experiment, self.radius)
        b = paper_f1(self.dataset, self.reference, self.reference_radius)
        return None if a is None or b is None else round(a - b, 4)


def _claims() -> list[Claim]:
    # fmt: off
    c = Claim
    t1a, t1b, t1c, t2a, t2b = ("Table 1 (a)", "Table 1 (b)", "Table 1 (c)", "Table 2 (a)",
                               "Table 2 (b)")
    out = [
        c("A.1", "the baseline gains from σ = 1 to σ₁ = 2", t1a, "baseline-g2", "baseline-g1"),
        c("A.1", "Variant 1 (σ₁ = 3) outperforms the older baseline (σ = 1)", t1a, "v1-g3-s1",
          "baseline-g1", prose=0.0082),
        c("A.1", "Variant 1 (σ₁ = 3) outperforms the baseline with the same σ₁", t1a,
          "v1-g3-s1", "baseline-g3", prose=0.0080),
        c("A.1", "Gaussian targets (σ₁ = 3) beat Tanh (α = 10.5)", t1a, "baseline-g3",
          "baseline-t10.5", prose=0.0082),
        c("A.1", "Gaussian targets (σ₁ = 2) beat Tanh (α = 7)", t1a, "baseline-g2", "baseline-t7"),
        c("A.1", "Variant 2 does not outperform its baseline (OR)", t1a, "v2-g2-s1",
          "baseline-g2", expect=-1, prose=-0.0144),
        c("A.1", "Variant 1 yields the best model (OR): against Variant 2", t1a, "v1-g3-s1",
          "v2-g2-s1"),
        c("A.1", "the best (σ₁, σ₂) is (3, 1) in OR: against (2, 1)", t1a, "v1-g3-s1", "v1-g2-s1"),
        c("A.1", "performance drops beyond the best σ₁: (3, 1) against (4, 1)", t1a, "v1-g3-s1",
          "v1-g4-s1"),
    ]
    for s1 in (3, 2):  # "in each domain, the best performing model is with sigma_2 = 1"
        for s2 in (2, 3):
            out.append(c("A.1", f"σ₂ = 1 is best (σ₁ = {s1}, OR): against σ₂ = {s2}", t2a,
                         f"v1-g{s1}-s1", f"v1-g{s1}-s{s2}"))
    out += [
        c("A.1", "Fig. 4: from σ₁ = 2 to 3 the close labels lose more than the rest", "Fig. 4",
          "v1-g2-s1", "v1-g3-s1", kind="close"),
        c("A.2", "Variant 1 (σ₁ = 3) beats the baseline on the test set", t1b, "v1-g3-s1",
          "baseline-g3"),
        c("A.2", "Variant 1 yields the best model (test set): against Variant 2", t1b,
          "v1-g3-s1", "v2-g2-s1"),
        c("B.1", "Variant 1 (σ₁ = 2) outperforms the older baseline (σ = 1)", t1c, "v1-g2-s1",
          "baseline-g1", prose=0.0865),
        c("B.1", "Variant 1 (σ₁ = 2) outperforms the baseline with the same σ₁", t1c,
          "v1-g2-s1", "baseline-g2", prose=0.0354),
        c("B.1", "Variant 2 outperforms its baseline (simulator)", t1c, "v2-g2-s1",
          "baseline-g2", prose=0.0324),
        c("B.1", "Variant 1 yields the best model (simulator): against Variant 2", t1c,
          "v1-g2-s1", "v2-g2-s1"),
        c("B.1", "the best (σ₁, σ₂) is (2, 1) in the simulator: against (3, 1)", t1c,
          "v1-g2-s1", "v1-g3-s1"),
        c("B.1", "σ₂ = 1 is best (σ₁ = 2, simulator): against σ₂ = 2", t2b, "v1-g2-s1",
          "v1-g2-s2"),
        c("B.1", "σ₂ = 1 is best (σ₁ = 2, simulator): against σ₂ = 3", t2b, "v1-g2-s1",
          "v1-g2-s3"),
        c("B.1", "Fig. 4: from σ₁ = 2 to 3 the close labels lose more than the rest", "Fig. 4",
          "v1-g2-s1", "v1-g3-s1", kind="close"),
    ]
    for dataset, best in (("A.1", "v1-g3-s1"), ("A.2", "v1-g3-s1"), ("B.1", "v1-g2-s1")):
        for r in (8.0, 10.0):
            out.append(c(dataset, f"the best model's F1 at {r:g} px against 6 px", "Table 4",
                         best, best, kind="radius", radius=r))
    return out
    # fmt: on


PAPER_CLAIMS = _claims()
CLOSE = ("close_tp_share", "other_tp_share")


def _levels(dataset_kind: str, claim: Claim) -> tuple[str, str | None]:
    """The independent unit and the other unit shown beside it: the surgery, with the fold of a
    cross-validation or the model of a test set beside it; Fig. 4's claim at the fold, alone."""
    if claim.kind == "close":
        return "fold", None
    return "surgery", ("fold" if dataset_kind == "folds" else "model")


def _close_values(results, dataset: str, experiment: str) -> dict[str, tuple[dict, int]]:
    """Per fold (or model): the shares of close and other labels found at the ranking radius,
    averaged over the seeds, as :func:`adaptor_score.compare.unit_values` shapes its values."""
    per_run: dict = defaultdict(list)
    for r in results.rows:
        if (r.dataset, r.experiment.name) == (dataset, experiment) and (
            r.summary.radius == results.manifest.radius
        ):
            shares = [getattr(r.summary, k) for k in CLOSE]
            if None not in shares:
                per_run[r.run].append(shares)
    return {run: ({k: math.fsum(v[i] for v in vs) / len(vs) for i, k in enumerate(CLOSE)},
                  len(vs)) for run, vs in per_run.items()}  # fmt: skip


def _differences(results, claim: Claim, level: str):
    """The claim's per-unit differences (experiment minus reference; for ``close``, the close
    labels' drop minus the other labels' drop), units in a fixed order."""
    import numpy as np

    from adaptor_score.compare import unit_values

    if claim.kind == "close":
        if level == "surgery":
            return None
        mine = _close_values(results, claim.dataset, claim.experiment)
        ref = _close_values(results, claim.dataset, claim.reference)
        metric = None
    else:
        mine = unit_values(results, claim.radius, level).get((claim.dataset, claim.experiment))
        ref = unit_values(results, claim.reference_radius, level).get(
            (claim.dataset, claim.reference)
        )
        metric = "f1"
    if not mine or not ref:
        return None
    keys = sorted(set(mine) & set(ref), key=repr)
    if metric:
        d = [mine[k][0][metric] - ref[k][0][metric] for k in keys]
    else:
        d = [(mine[k][0][CLOSE[0]] - ref[k][0][CLOSE[0]])
             - (mine[k][0][CLOSE[1]] - ref[k][0][CLOSE[1]]) for k in keys]  # fmt: skip
    return np.array(d)


def _test(d) -> dict:
    from adaptor_score.signrank import hodges_lehmann, wilcoxon

    t = wilcoxon(d)
    return {"pairs": len(d), "difference": math.fsum(d) / len(d),
            "hl_estimate": hodges_lehmann(d).estimate, "p": t.p, "smallest_p": t.smallest_p,
            "p_method": t.method}  # fmt: skip


def verdict(d, test: dict, expect: int, unit: str) -> str:
    """reproduces / opposite (significant) / not significant / cannot tell at this n, with the
    direction of the mean difference and how many units go the claim's way."""
    from adaptor_score.units import count

    mean, p, floor = test["difference"], test["p"], test["smallest_p"]
    along = int(sum(1 for x in d if x * expect > 0))
    way = "same" if mean * expect > 0 else ("no" if mean == 0 else "opposite")
    counted = f"{way} direction, {along} of {count(unit, len(d))} the claim's way"
    if floor > 0.05:
        return f"cannot tell at this n ({count(unit, len(d))}: smallest two-sided p {floor:.3g}); {counted}"
    if p <= 0.05:
        return ("reproduces" if way == "same" else "opposite (significant)") + f"; {counted}"
    return f"not significant (p {p:.3g}); {counted}"


def claim_rows(results) -> list[dict]:
    """Every claim of :data:`PAPER_CLAIMS` with the paper's difference, ours, the exact test at
    the independent unit (and the other unit beside it) and a verdict. ``seeds``: the training
    seeds both configurations have on the dataset, averaged within each unit."""
    kinds = {(c.dataset, c.experiment): c.kind for c in results.cases}
    out = []
    for claim in PAPER_CLAIMS:
        row = {"dataset": claim.dataset, "claim": claim.text, "source": claim.source,
               "kind": claim.kind, "experiment": claim.experiment, "reference": claim.reference,
               "radius": claim.radius, "reference_radius": claim.reference_radius,
               "expect": claim.expect, "paper": claim.paper_difference(), "prose": claim.prose}  # fmt: skip
        kind = kinds.get((claim.dataset, claim.experiment))
        if kind is None or (claim.dataset, claim.reference) not in kinds:
            out.append({**row, "verdict": "not run yet"})
            continue
        level, other = _levels(kind, claim)
        d = _differences(results, claim, level)
        if d is None or not len(d):
            out.append({**row, "verdict": "not run yet"})
            continue
        test = _test(d)
        seeds = sorted(_seeds(results, claim), key=repr)
        row.update({"level": level, "seeds": len(seeds),
                    "differences": [float(x) for x in d], **test,
                    "per_seed": _per_seed(results, claim, level, seeds),
                    "verdict": verdict(d, test, claim.expect, level)})  # fmt: skip
        beside = _differences(results, claim, other) if other else None
        if beside is not None and len(beside):
            b = _test(beside)
            row["beside"] = {"level": other, "pairs": b["pairs"], "p": b["p"],
                             "smallest_p": b["smallest_p"], "difference": b["difference"]}  # fmt: skip
        out.append(row)
    return out


def _seeds(results, claim: Claim) -> set:
    def of(experiment):
        return {r.seed for r in results.rows
                if (r.dataset, r.experiment.name) == (claim.dataset, experiment)}  # fmt: skip

    return of(claim.experiment) & of(claim.reference)


def _per_seed(results, claim: Claim, level: str, seeds: list) -> dict:
    """Each seed's own mean difference over the units: does the direction hold seed by seed?"""
    import dataclasses

    out = {}
    for seed in seeds:
        one = dataclasses.replace(results, rows=[r for r in results.rows if r.seed == seed],
                                  cases=[c for c in results.cases if c.seed == seed])  # fmt: skip
        d = _differences(one, claim, level)
        if d is not None and len(d):
            out[str(seed)] = math.fsum(d) / len(d)
    return out


def _signed(x: float | None) -> str:
    return "—" if x is None else f"{x:+.4f}"


def claims_markdown(rows: list[dict]) -> str:
    lines = ["| dataset | the paper's claim (where) | compared | paper ΔF1 | our Δ (mean) |"
             " exact p (unit, n) | beside: exact p (unit, n) | seeds the claim's way | verdict |",
             "|---|---|---|---:|---:|---|---|---:|---|"]  # fmt: skip
    for r in rows:
        paper = _signed(r["paper"])
        if r["prose"] is not None and r["paper"] is not None and round(r["prose"], 4) != r["paper"]:
            paper += f" (its text: {r['prose']:+.4f})"
        if r["kind"] == "close":
            paper, compared = "—", f"{r['experiment']} vs {r['reference']}, close minus other drop"
        elif r["kind"] == "radius":
            compared = f"{r['experiment']}, {r['radius']:g} vs {r['reference_radius']:g} px"
        else:
            compared = f"{r['experiment']} vs {r['reference']}"
        ours = _signed(r.get("difference"))
        p = f"{r['p']:.3g} ({r['level']}, {r['pairs']})" if "p" in r else "—"
        b = r.get("beside")
        beside = f"{b['p']:.3g} ({b['level']}, {b['pairs']})" if b else "—"
        seeds = "—"
        if "seeds" in r:  # how many seeds' own mean differences go the claim's way
            along = sum(1 for v in r["per_seed"].values() if v * r["expect"] > 0)
            seeds = f"{along} of {r['seeds']}"
        lines.append(f"| {r['dataset']} | {r['claim']} ({r['source']}) | {compared} | {paper} |"
                     f" {ours} | {p} | {beside} | {seeds} | {r['verdict']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def units_to_reach(alpha: float) -> int:
    """The fewest units at which the claims' own test (:func:`wilcoxon`, two-sided) can reach
    ``alpha``: its floor, every unit one way (2 × 2⁻ⁿ when exact)."""
    from adaptor_score.signrank import wilcoxon

    n = 1
    while wilcoxon(list(range(1, n + 1))).smallest_p > alpha:
        n += 1
    return n


def reading_markdown(rows: list[dict]) -> str:
    """What the claims table says, counted from it (so that the words cannot go stale): how
    many claims were tested on how many seeds, whether any unit count can reach 0.05, and which
    claims go the paper's way, or the other way, in every unit."""
    from adaptor_score.units import count

    done = [r for r in rows if "p" in r]
    if not done:
        return "No claim can be tested yet: no configuration has a finished seed.\n"
    seeds = sorted({r["seeds"] for r in done})
    floors = sorted({(r["pairs"], r["level"], r["smallest_p"]) for r in done})
    each = " or ".join(str(s) for s in seeds) + (" seed" if seeds == [1] else " seeds")
    lines = [f"- {len(done)} of {len(rows)} claims tested, each on {each} averaged within each"
             " unit."]  # fmt: skip
    if all(r["smallest_p"] > 0.05 for r in done):
        reach = "; ".join(f"{count(level, n)}: {p:.3g}" for n, level, p in floors)
        lines.append(f"- No claim can reach p ≤ 0.05 at these unit counts (the smallest two-sided"
                     f" p: {reach}), whatever the data: more seeds steady each unit's value but"
                     " add no unit.")  # fmt: skip
    lines.append(f"- Tested together: were there no difference anywhere, about"
                 f" {0.05 * len(done):.1f} of {len(done)} claims would reach p ≤ 0.05 by chance;"
                 f" Holm's correction asks the smallest p to be at most {0.05 / len(done):.2g}."
                 " No correction is applied in the table.")  # fmt: skip
    lines.append(f"- What it would take: a claim whose every unit goes one way reaches p ≤ 0.05"
                 f" from {units_to_reach(0.05)} units on, and Holm's threshold over these"
                 f" {len(done)} claims from {units_to_reach(0.05 / len(done))}: more surgeries,"
                 " not more seeds.")  # fmt: skip
    decided = [r for r in done if r["p"] <= 0.05]
    if decided:
        lines.append(f"- p ≤ 0.05: {len(decided)} claim(s): "
                     + "; ".join(f"{r['dataset']} {r['claim']} ({r['verdict'].split(';')[0]})"
                                 for r in decided) + ".")  # fmt: skip

    def every(r, sign):
        return all(d * r["expect"] * sign > 0 for d in r["differences"])

    for label, sign in (("the claim's way in every unit", 1), ("the other way in every unit", -1)):
        hit = [r for r in done if every(r, sign)]
        names = "; ".join(f"{r['dataset']}: {r['claim']}" for r in hit) or "none"
        lines.append(f"- {label} ({len(hit)}): {names}.")
    mixed = sum(1 for r in done if not every(r, 1) and not every(r, -1))
    lines.append(f"- units split between the two ways (or tied): {mixed} claim(s).")
    return "\n".join(lines) + "\n"

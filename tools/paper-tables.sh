#!/usr/bin/env bash
# make paper-tables: the paper's sweep (examples/paper-sweep.toml) at tiny CPU settings on
# synthetic stand-ins for A.1 (4 surgeries, one per fold), A.2 (a test set predicted by every
# fold's model) and B.1 (5 simulations, one per fold), then Tables 1-4 and the close-points
# table for all three datasets from one `adaptor-score tables` call. The numbers say nothing
# about the method (one epoch of two steps); the run shows that the whole protocol holds.
#
# SETTINGS=learning runs the same grid at the settings where it learns: the demo's converged
# recipe (cv --settings learning: recipes.DEMO_RECIPE without its sigma_1 / sigma_2, which are the
# grid's own), on larger stand-ins (2 videos x 20 frames per surgery, as the demo's data). Its
# cost, and the same sweep on a SLURM cluster: docs/sweeps.md (results/paper-grid-cost.json).
set -euo pipefail
OUT=${1:-paper-output}
SWEEP=${SWEEP:-examples/paper-sweep.toml}
SETTINGS=${SETTINGS:-tiny}
case "$SETTINGS" in
  tiny)
    TRAIN=(--width 4 --depth 2 --epochs 1 --steps-per-epoch 2 --batch-size 2 --input-size 128 72)
    NOTE="Tiny settings (one epoch of two steps): the tables show the protocol's structure, not findings."
    SHAPE=(--videos 1 --frames 4) ;;
  learning)
    TRAIN=(--settings learning)
    NOTE="The demo's converged recipe on each fold (docs/sweeps.md, \"Settings at which the grid learns\")."
    SHAPE=(--videos 2 --frames 20) ;;
  *) echo "SETTINGS must be tiny or learning (got $SETTINGS)" >&2; exit 2 ;;
esac
# SEEDS="0 1 2" trains every (experiment, fold) once per seed; Table 1 then shows the seed's spread
read -r -a SEED_ARGS <<< "${SEEDS:+--seeds $SEEDS}"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== synthetic stand-ins for A.1, A.2 and B.1"
adaptor-baseline synth "$OUT/A1" --domain intraop --surgeries 4 "${SHAPE[@]}" --seed 11 >/dev/null
adaptor-baseline synth "$OUT/A2" --domain intraop --surgeries 2 "${SHAPE[@]}" --seed 12 >/dev/null
adaptor-baseline synth "$OUT/B1" --domain sim --surgeries 5 "${SHAPE[@]}" --seed 13 >/dev/null
echo "== intraop sweep: 4 folds, every fold's model also predicts the test set"
adaptor-baseline cv --data "$OUT/A1" --test "$OUT/A2" --name A.1 --test-name A.2 --out "$OUT/cv-or" \
    --sweep "$SWEEP" "${TRAIN[@]}" "${SEED_ARGS[@]}" --device cpu >"$OUT/cv-or.log"
echo "== simulator sweep: 5 folds"
adaptor-baseline cv --data "$OUT/B1" --name B.1 --out "$OUT/cv-sim" --sweep "$SWEEP" "${TRAIN[@]}" \
    "${SEED_ARGS[@]}" --device cpu >"$OUT/cv-sim.log"
echo "== one set of tables for A.1, A.2 and B.1"
adaptor-score tables "$OUT/cv-or/manifest.toml" "$OUT/cv-sim/manifest.toml" --out "$OUT/tables" \
    --write-manifest "$OUT/manifest.toml" --note "$NOTE"
ls "$OUT/tables"
echo "== paired differences against the older baseline (Gauss, sigma1 = 1), per fold and surgery"
adaptor-score compare "$OUT/manifest.toml" --reference baseline-g1 --out "$OUT/compare" >/dev/null
ls "$OUT/compare"

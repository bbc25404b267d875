#!/usr/bin/env bash
# make paper-tables: the paper's sweep (examples/paper-sweep.toml) at tiny CPU settings on
# synthetic stand-ins for A.1 (4 surgeries, one per fold), A.2 (a test set predicted by every
# fold's model) and B.1 (5 simulations, one per fold), then Tables 1-4 and the close-points
# table for all three datasets from one `adaptor-score tables` call. The numbers say nothing
# about the method (one epoch of two steps); the run shows that the whole protocol holds.
set -euo pipefail
OUT=${1:-paper-output}
SWEEP=${SWEEP:-examples/paper-sweep.toml}
TINY=(--width 4 --depth 2 --epochs 1 --steps-per-epoch 2 --batch-size 2 --input-size 128 72)
# SEEDS="0 1 2" trains every (experiment, fold) once per seed; Table 1 then shows the seed's spread
read -r -a SEED_ARGS <<< "${SEEDS:+--seeds $SEEDS}"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== synthetic stand-ins for A.1, A.2 and B.1"
adaptor-baseline synth "$OUT/A1" --domain intraop --surgeries 4 --videos 1 --frames 4 --seed 11 >/dev/null
adaptor-baseline synth "$OUT/A2" --domain intraop --surgeries 2 --videos 1 --frames 4 --seed 12 >/dev/null
adaptor-baseline synth "$OUT/B1" --domain sim --surgeries 5 --videos 1 --frames 4 --seed 13 >/dev/null
echo "== intraop sweep: 4 folds, every fold's model also predicts the test set"
adaptor-baseline cv --data "$OUT/A1" --test "$OUT/A2" --name A.1 --test-name A.2 --out "$OUT/cv-or" \
    --sweep "$SWEEP" "${TINY[@]}" "${SEED_ARGS[@]}" --device cpu >"$OUT/cv-or.log"
echo "== simulator sweep: 5 folds"
adaptor-baseline cv --data "$OUT/B1" --name B.1 --out "$OUT/cv-sim" --sweep "$SWEEP" "${TINY[@]}" \
    "${SEED_ARGS[@]}" --device cpu >"$OUT/cv-sim.log"
echo "== one set of tables for A.1, A.2 and B.1"
adaptor-score tables "$OUT/cv-or/manifest.toml" "$OUT/cv-sim/manifest.toml" --out "$OUT/tables" \
    --write-manifest "$OUT/manifest.toml"
ls "$OUT/tables"
echo "== paired differences against the older baseline (Gauss, sigma1 = 1), per fold and surgery"
adaptor-score compare "$OUT/manifest.toml" --reference baseline-g1 --out "$OUT/compare" >/dev/null
ls "$OUT/compare"

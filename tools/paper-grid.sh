#!/usr/bin/env bash
# make paper-grid: the paper's 13 configurations at settings that learn (cv --settings learning,
# the demo's recipe, with --epochs 10 so that a seed fits a working day on 2 cores), on synthetic
# stand-ins for A.1 (4 surgeries of 2 videos x 10 frames, one per fold), A.2 (5 surgeries of 10
# frames, predicted by every fold's model) and B.1 (5 simulations of 2 videos x 10 frames), once
# per seed in SEEDS; then every finished run kept as small files under
# benchmarks/results/paper-grid (benchmarks/paper_grid.py collect). Resumable: finished jobs are
# not run again. `make paper-grid-tables` rebuilds the tables from the kept files, without training.
set -euo pipefail
OUT=${1:-paper-grid-work}
SEEDS=${SEEDS:-0 1 2}
SWEEP=${SWEEP:-examples/paper-sweep.toml}
read -r -a SEED_ARGS <<< "$SEEDS"
mkdir -p "$OUT"
[ -d "$OUT/A1" ] || adaptor-baseline synth "$OUT/A1" --domain intraop --surgeries 4 --videos 2 --frames 10 --seed 11 >/dev/null
[ -d "$OUT/A2" ] || adaptor-baseline synth "$OUT/A2" --domain intraop --surgeries 5 --videos 1 --frames 10 --seed 12 >/dev/null
[ -d "$OUT/B1" ] || adaptor-baseline synth "$OUT/B1" --domain sim --surgeries 5 --videos 2 --frames 10 --seed 13 >/dev/null
TRAIN=(--sweep "$SWEEP" --settings learning --epochs 10 --seeds "${SEED_ARGS[@]}" --device "${DEVICE:-cpu}")
keep() {
  python benchmarks/paper_grid.py collect --cv "$OUT/cv-or=A.1,A.2" --cv "$OUT/cv-sim=B.1" \
      --labels "A.1=$OUT/A1" --labels "A.2=$OUT/A2" --labels "B.1=$OUT/B1"
}
echo "== intraop: A.1 cross-validation, every fold's model predicts A.2"
adaptor-baseline cv --data "$OUT/A1" --test "$OUT/A2" --name A.1 --test-name A.2 --out "$OUT/cv-or" \
    "${TRAIN[@]}" >"$OUT/cv-or.log" 2>&1 || true
echo "== simulator: B.1 cross-validation"
adaptor-baseline cv --data "$OUT/B1" --name B.1 --out "$OUT/cv-sim" "${TRAIN[@]}" >"$OUT/cv-sim.log" 2>&1 || true
keep

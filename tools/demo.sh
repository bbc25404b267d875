#!/usr/bin/env bash
# make demo: generate a small synthetic dataset, make predictions for it, score them, draw the
# worst frames. Everything lands under $1 (demo-output/).
set -euo pipefail
OUT=${1:-demo-output}
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== 1. synthetic simulator frames (AdaptOR layout)"
adaptor-baseline synth "$OUT/data" --domain sim --surgeries 3 --videos 2 --frames 10 --seed 0
adaptor-baseline contact-sheet "$OUT/data" --out "$OUT/contact-sheet.png" -n 9
echo "== 2. predictions: labels with 2 px jitter, 20 % missed, 2 false positives a frame"
adaptor-baseline perturb "$OUT/data" "$OUT/predictions" --jitter 2 --miss 0.2 --false-positives 2
adaptor-score validate "$OUT/predictions" --images "$OUT/data"
echo "== 3. scoring at 6/8/10 px, leave-one-folder-out folds"
adaptor-score score "$OUT/data" "$OUT/predictions" --radius 6 --radius 8 --radius 10 \
    --json "$OUT/score.json" --csv "$OUT/frames.csv"
adaptor-score overlay "$OUT/data" "$OUT/predictions" --out "$OUT/overlays" --worst 4
echo "demo outputs are in $OUT/"

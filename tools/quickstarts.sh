#!/usr/bin/env bash
# make quickstarts: the README's three quick starts, command for command, in quickstart-output/.
# Each block below is the one printed in the README under "Quick starts".
set -euo pipefail
OUT=${1:-quickstart-output}
rm -rf "$OUT" && mkdir -p "$OUT" && cd "$OUT"
TEMPLATE=../submission_template

echo "== participant: run the template on sample frames, validate, score"
adaptor-baseline synth sample --surgeries 2 --videos 1 --frames 4 --seed 5
ADAPTOR_INPUT=sample ADAPTOR_OUTPUT=out python "$TEMPLATE/entrypoint.py" landmark_detection
adaptor-score validate out --images sample
adaptor-score score sample out --radius 6 --radius 8 --radius 10 --json score.json

echo "== organiser: register teams, record outputs, publish the board"
adaptor-leaderboard team add "Team A" --institute "Uni A" --method-url https://example.org/a
adaptor-leaderboard ledger add-output out --ground-truth sample --team "Team A"
adaptor-baseline perturb sample noisy --jitter 4 --miss 0.3 --false-positives 3 --seed 1
adaptor-leaderboard ledger add-output noisy --ground-truth sample --team "Team B"
adaptor-leaderboard ledger list
adaptor-leaderboard publish --out site --bootstrap 200

echo "== researcher: a short training run, prediction, scores as DataFrames"
adaptor-baseline train --data sample --out run --config variant1 --width 8 --crop 128 128 \
    --batch-size 4 --epochs 2 --steps-per-epoch 10
adaptor-baseline predict --weights run --input sample --output pred
python - <<'PY'
import adaptor_score as sc
report = sc.score("sample", "pred", radii=(6, 8, 10))
print(report)
print(report.to_frame()[["radius", "tp", "fp", "fn", "f1", "rmse", "tp_distance_mean"]])
print(report.to_frame("video").head())
PY
echo "quick starts done in $OUT/"

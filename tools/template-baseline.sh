#!/usr/bin/env bash
# make template-baseline WEIGHTS=run/model.pt TAG=team-a/adaptor-baseline:1
# The submission template with the reference baseline inside, at its smallest: a copy of
# submission_template/ whose wheels/ holds the toolkit's wheel (and the CPU torch wheel `make venv`
# used, when there is one: no CUDA build), whose requirements add adaptor-toolkit[baseline], and
# whose weights/model.pt is the trained model; built by the container engine, then run on
# generated frames the way the organisers run it and validated. Say which weights with WEIGHTS
# (a model.pt or a run folder); without, a tiny model is trained first (a minute, to show the path).
set -euo pipefail
cd "$(dirname "$0")/.."
# The project's environment, else (a scratch copy, as tools/doc_blocks.py runs it) the Python on PATH.
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin || dirname "$(command -v python3)")}
TAG=${TAG:-team-a/adaptor-baseline:1}
WORK=build/template-baseline
ENGINE=${ENGINE:-$(tools/container-engine.sh | tail -n1)}
rm -rf "$WORK" && mkdir -p "$WORK" build/wheels
if [ -z "${WEIGHTS:-}" ]; then
  $PY/adaptor-baseline synth "$WORK/train" --surgeries 2 --videos 1 --frames 4 --seed 3 >/dev/null
  $PY/adaptor-baseline train --data "$WORK/train" --out "$WORK/run" --config variant1 --width 4 \
      --depth 2 --epochs 1 --steps-per-epoch 2 --crop 64 64 >/dev/null
  WEIGHTS="$WORK/run/model.pt"
fi
[ -d "$WEIGHTS" ] && WEIGHTS="$WEIGHTS/model.pt"
cp -r submission_template "$WORK/image"
rm -f build/wheels/adaptor_toolkit-*.whl
$PY/pip wheel -q --no-deps . -w build/wheels
cp build/wheels/adaptor_toolkit-*.whl "$WORK/image/wheels/"
torch_wheel=$(ls ${PIP_FIND_LINKS:-/opt/wheels}/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n1 || true)
if [ -n "$torch_wheel" ]; then
  cp "$torch_wheel" "$WORK/image/wheels/"
else  # PyTorch's CPU index: never the multi-GB CUDA build
  printf -- '--extra-index-url https://download.pytorch.org/whl/cpu\n' >> "$WORK/image/requirements.txt"
fi
printf 'torch==2.13.0\nadaptor-toolkit[baseline]\n' >> "$WORK/image/requirements.txt"
cp "$WEIGHTS" "$WORK/image/weights/model.pt"
echo "template-baseline: building $TAG"
"$ENGINE" build -q -t "$TAG" "$WORK/image" >/dev/null
$PY/adaptor-baseline synth "$WORK/sample" --surgeries 1 --videos 1 --frames 3 --seed 9 >/dev/null
mkdir -p "$WORK/out" && chmod 0777 "$WORK/out"
"$ENGINE" run --rm --network none --read-only --tmpfs /tmp -v "$PWD/$WORK/sample:/input:ro" \
    -v "$PWD/$WORK/out:/output" "$TAG" landmark_detection 2>"$WORK/run.log"
grep -q "reference baseline" "$WORK/run.log" || { cat "$WORK/run.log"; echo "template-baseline: the baseline did not run" >&2; exit 1; }
$PY/adaptor-score validate "$WORK/out" --images "$WORK/sample"
echo "template-baseline: $TAG ($("$ENGINE" image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.2f GB", $1/1e9}'))"

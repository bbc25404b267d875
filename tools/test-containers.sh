#!/usr/bin/env bash
# make test-containers: build the submission template, the baseline image and the scoring image,
# run them on generated frames the way the organisers do (no network, read-only input, memory and
# pid limits, unprivileged user), and validate and score their output. Where no engine can be had
# it says so and skips; it never passes silently.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
WORK=build/ct
log() { echo "test-containers: $*"; }
fail() { echo "test-containers: FAILED: $*" >&2; exit 1; }

if ! ENGINE=$(tools/container-engine.sh | tail -n1); then
  log "SKIPPED: no container engine could be had on this machine (see the messages above)"
  exit 0
fi
rm -rf "$WORK" && mkdir -p "$WORK" build/wheels build/weights

log "toolkit wheel, CPU torch wheel and a small trained baseline"
rm -f build/wheels/adaptor_toolkit-*.whl
$PY/pip wheel -q --no-deps . -w build/wheels
torch_wheel=$(ls ${PIP_FIND_LINKS:-/opt/wheels}/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n1 || true)
[ -n "$torch_wheel" ] && cp -n "$torch_wheel" build/wheels/ || log "no local CPU torch wheel; the build uses PyTorch's CPU index"
$PY/adaptor-baseline synth "$WORK/train" --surgeries 2 --videos 1 --frames 4 --seed 3 >/dev/null
$PY/adaptor-baseline train --data "$WORK/train" --out "$WORK/run" --config variant1 --width 4 --depth 2 \
    --epochs 1 --steps-per-epoch 2 --crop 64 64 >/dev/null
cp "$WORK/run/model.pt" build/weights/model.pt
$PY/adaptor-baseline synth "$WORK/input" --surgeries 2 --videos 1 --frames 3 --seed 9 >/dev/null
printf 'not an image' > "$WORK/input/20211001_sim00/VID000_0/images/broken.png"

build() { local tag=$1; shift; log "building $tag"; "$ENGINE" build -q -t "$tag" "$@" >/dev/null; }
build adaptor-test/template:latest submission_template
build adaptor-test/baseline:cpu -f docker/baseline.Dockerfile --build-arg WEIGHTS=build/weights/model.pt .
build adaptor-test/score:latest -f docker/score.Dockerfile .

run_submission() {  # image, output folder
  local image=$1 out=$2
  mkdir -p "$out" && chmod 0777 "$out"
  set +e
  "$ENGINE" run --rm --network none --memory 3g --pids-limit 256 --read-only --tmpfs /tmp \
      -v "$PWD/$WORK/input:/input:ro" -v "$PWD/$out:/output" "$image" landmark_detection \
      > "$out.log" 2>&1
  local rc=$?
  set -e
  echo $rc
}

for image in adaptor-test/template:latest adaptor-test/baseline:cpu; do
  out="$WORK/out-$(echo "$image" | tr '/:' '__')"
  rc=$(run_submission "$image" "$out")
  [ "$rc" = 0 ] || { cat "$out.log"; fail "$image exited $rc (expected 0: complete output, one unreadable image as a warning)"; }
  grep -q "cannot read" "$out.log" || fail "$image did not report the unreadable image"
  rm -f "$WORK/input/20211001_sim00/VID000_0/images/broken.png.tmp"
  # validate against the readable images only (the broken one has an empty result)
  n_json=$(find "$out" -name '*.json' | wc -l)
  n_img=$(find "$WORK/input" -name '*.png' | wc -l)
  [ "$n_json" = "$n_img" ] || fail "$image wrote $n_json files for $n_img images"
  mv "$WORK/input/20211001_sim00/VID000_0/images/broken.png" "$WORK/broken.png"
  mv "$out/20211001_sim00/VID000_0/images/broken.json" "$WORK/broken.json"
  $PY/adaptor-score validate "$out" --images "$WORK/input" || fail "$image output does not validate"
  mv "$WORK/broken.png" "$WORK/input/20211001_sim00/VID000_0/images/broken.png"
  log "$image: OK (exit 0: complete output, the unreadable image a warning; $n_json files, valid)"
done

set +e
"$ENGINE" run --rm --network none adaptor-test/template:latest bogus_command > "$WORK/bogus.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "landmark_detection" "$WORK/bogus.log" || fail "unknown command: exit $rc"
log "unknown command: exit 2 with an explanation"

rm "$WORK/input/20211001_sim00/VID000_0/images/broken.png"
out="$WORK/out-adaptor-test_baseline_cpu"
rm -f "$out/20211001_sim00/VID000_0/images/broken.json"
"$ENGINE" run --rm --network none -v "$PWD/$WORK/input:/gt:ro" -v "$PWD/$out:/pred:ro" \
    adaptor-test/score:latest score /gt /pred --strict > "$WORK/score.log" 2>&1 || { cat "$WORK/score.log"; fail "scoring image"; }
grep -q "Overall" "$WORK/score.log" || fail "scoring image printed no table"
"$ENGINE" run --rm --network none --entrypoint python3 adaptor-test/score:latest -c "import torch" >/dev/null 2>&1 \
    && fail "the scoring image contains torch" || true
log "scoring image: scored the baseline's output, no torch inside"

log "Grand-Challenge: the scoring image as the evaluation method, on the baseline's output"
GC="$WORK/gc"; rm -rf "$GC"; mkdir -p "$GC/input" "$GC/output"; chmod 777 "$GC/output"
$PY/python - "$out" "$GC/input" <<'PY'
import json, sys
from pathlib import Path
pred, dest = map(Path, sys.argv[1:])
jobs = []
for i, f in enumerate(sorted(pred.rglob("*.json"))):
    rel = f.relative_to(pred)
    points = [{"point": [p["x"], p["y"], 0.0]} for p in json.loads(f.read_text())["points"]]
    value = {"type": "Multiple points", "version": {"major": 1, "minor": 0}, "points": points}
    iface = {"slug": "suture-points", "kind": "Multiple points", "relative_path": "suture-points.json"}
    out = {"interface": iface, "value": value if i % 2 else None, "file": None}
    if not i % 2:  # every other job as a file output, as Grand-Challenge lays out file interfaces
        (dest / f"job-{i}" / "output").mkdir(parents=True)
        (dest / f"job-{i}" / "output" / "suture-points.json").write_text(json.dumps(value))
    name = f"{rel.parts[0]}__{rel.parts[1]}__{f.stem}.png"
    jobs.append({"pk": f"job-{i}", "status": "Succeeded", "outputs": [out],
                 "inputs": [{"interface": {"kind": "Image"}, "image": {"name": name}}]})
(dest / "predictions.json").write_text(json.dumps(jobs))
PY
"$ENGINE" run --rm --network none -v "$PWD/$WORK/input:/opt/ground-truth:ro" -v "$PWD/$GC/input:/input:ro" \
    -v "$PWD/$GC/output:/output" adaptor-test/score:latest grand-challenge > "$WORK/gc.log" 2>&1 \
    || { cat "$WORK/gc.log"; fail "grand-challenge evaluation in the scoring image"; }
$PY/adaptor-score score "$WORK/input" "$out" --radius 6 --radius 8 --radius 10 --json "$GC/host.json" >/dev/null
$PY/python - "$GC/output/metrics.json" "$GC/host.json" <<'PY' || fail "metrics.json differs from adaptor-score score"
import json, sys
gc, host = (json.load(open(p)) for p in sys.argv[1:])
for row in host["overall"]:
    a = gc["aggregates"][f"{row['radius']:g}"]
    assert (a["tp"], a["fp"], a["fn"], a["f1"]) == (row["tp"], row["fp"], row["fn"], row["f1"]), (a, row)
assert gc["case"] and not gc["problems"], gc["problems"]
PY
log "Grand-Challenge: metrics.json equals adaptor-score score on the same outputs"
log "all container checks passed"

log "air-gapped build: the scoring image from a local wheel folder, with the build's network off"
rm -rf build/offline && mkdir -p build/offline
cp build/wheels/adaptor_toolkit-*.whl build/offline/
$PY/pip download -q -d build/offline build/offline/adaptor_toolkit-*.whl
"$ENGINE" build -q --network none -t adaptor-test/score:offline -f docker/score.Dockerfile \
    --build-arg WHEELS=build/offline --build-arg PIP_OFFLINE=1 . >/dev/null || fail "offline build"
"$ENGINE" run --rm --network none adaptor-test/score:offline --version >/dev/null || fail "offline image"
log "air-gapped build: OK"

log "leaderboard runner against the engine's Docker-compatible socket (hostile containers)"
$PY/python -m pytest -q -m containers tests/leaderboard

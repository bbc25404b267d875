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
# the recipe (benchmarks/paper_grid_pace.py measures these same settings: keep them equal)
RECIPE=(--settings learning --epochs 10 --val-every 10)
TRAIN=(--sweep "$SWEEP" "${RECIPE[@]}" --seeds "${SEED_ARGS[@]}" --device "${DEVICE:-cpu}")
keep() {
  # a run that cannot be read leaves its seed out and is listed (exit 1); the tables are rebuilt
  # from what was kept all the same, and the script then fails so that nobody misses the list
  local collected=0
  python benchmarks/paper_grid.py collect --cv "$OUT/cv-or=A.1,A.2" --cv "$OUT/cv-sim=B.1" \
      --labels "A.1=$OUT/A1" --labels "A.2=$OUT/A2" --labels "B.1=$OUT/B1" || collected=$?
  # the tables, claims and comparison rebuilt from the kept runs, into docs/tables.md too
  python benchmarks/paper_grid.py tables --out paper-grid-output --reference baseline-g1 --keep
  return "$collected"
}
# Jobs run PARALLEL at a time (default 2), each on one thread: on 2 cores two one-thread jobs
# train 1.27 times as many images per second as one two-thread job (measured: one job alone
# 80 s, two at once 126 s), because the width-8 network's small convolutions do not split well
# over threads. Seed 0 of every configuration on A.1 and B.1 first, then seed 1, then seed 2, so
# that a stop leaves whole seeds.
PARALLEL=${PARALLEL:-2}
OR=(--data "$OUT/A1" --test "$OUT/A2" --name A.1 --test-name A.2 --out "$OUT/cv-or" "${TRAIN[@]}")
SIM=(--data "$OUT/B1" --name B.1 --out "$OUT/cv-sim" "${TRAIN[@]}")
adaptor-baseline cv "${OR[@]}" --list-jobs >"$OUT/cv-or.jobs"
adaptor-baseline cv "${SIM[@]}" --list-jobs >"$OUT/cv-sim.jobs"
# "<set>\0<command>\0" per job, seed-major (a job's seed from the sweep folder's jobs.json)
python - "$OUT" >"$OUT/order" <<'PY'
import json, sys
from pathlib import Path
out, rows = Path(sys.argv[1]), []
for rank, name in enumerate(("or", "sim")):
    commands = (out / f"cv-{name}.jobs").read_text().splitlines()
    for job in json.loads((out / f"cv-{name}" / "jobs.json").read_text())["jobs"]:
        rows.append((job["seed"] or 0, rank, job["job"], name, commands[job["job"]]))
sys.stdout.write("".join(f"{name}\0{cmd}\0" for *_, name, cmd in sorted(rows)))
PY
if [ "$PARALLEL" -gt 1 ]; then export OMP_NUM_THREADS=1; fi
export OUT
echo "== $(tr -cd '\0' <"$OUT/order" | wc -c | awk '{print $1 / 2}') jobs (A.1 with A.2 predicted, and B.1), $PARALLEL at a time"
# each command is shlex-quoted by `cv --list-jobs`; the device joins it quoted too
export DEVICE_ARG
DEVICE_ARG=$(printf '%q' "${DEVICE:-cpu}")
xargs -0 -n 2 -P "$PARALLEL" bash -c 'eval "$2 --device $DEVICE_ARG" >>"$OUT/cv-$1.log" 2>&1 || echo "failed: $2 (see $OUT/cv-$1.log)" >&2' _ <"$OUT/order"
keep

#!/usr/bin/env bash
# Stop the one-node cluster that tools/slurm-up.sh started (jobs are cancelled first).
set -uo pipefail
command -v scancel >/dev/null 2>&1 && scancel --user "$(id -un)" >/dev/null 2>&1
for d in slurmd slurmctld; do pkill -x "$d" 2>/dev/null; done
for _ in $(seq 1 20); do pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break; sleep 0.25; done
rm -f /run/slurmctld.pid /run/slurmd.pid  # slurmctld leaves its pid file behind
pkill -x munged 2>/dev/null
echo "slurm: down" >&2

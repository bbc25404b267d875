#!/usr/bin/env bash
# Stop the one-node cluster that tools/slurm-up.sh started, and nothing else: the jobs this
# toolkit submitted (job names adaptor-cv-* and adaptor-collect-*, this user's) are cancelled,
# then the daemons slurm-up.sh recorded in its state folder are stopped, each only if the pid
# still belongs to a process of that name. Other users' jobs and daemons are left alone.
set -uo pipefail
STATE=${SLURM_STATE_DIR:-/var/spool/slurm-adaptor}
STARTED=$STATE/started-by-slurm-up
if command -v squeue >/dev/null 2>&1; then
  ids=$(squeue -h -u "$(id -un)" -o "%i %j" 2>/dev/null | awk '$2 ~ /^adaptor-(cv|collect)-/ {print $1}')
  [ -n "$ids" ] && scancel $ids >/dev/null 2>&1
fi
if [ ! -s "$STARTED" ]; then
  echo "slurm: nothing to stop (no record of tools/slurm-up.sh in $STATE)" >&2; exit 0
fi
# slurmd and slurmctld first, munged last (they authenticate through it)
for order in slurmd slurmctld munged; do
  while read -r name pid; do
    [ "$name" = "$order" ] || continue
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ] || continue
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 20); do [ -d /proc/"$pid" ] || break; sleep 0.25; done
    case "$name" in slurmctld) rm -f /run/slurmctld.pid ;; slurmd) rm -f /run/slurmd.pid ;; esac
  done < "$STARTED"
done
rm -f "$STARTED"
echo "slurm: down" >&2

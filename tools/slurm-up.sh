#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (for `make test-slurm` and CI): Debian's slurmctld,
# slurmd, slurm-client and munge, installed when missing (needs root and apt-get), configured for
# a node named "localhost" at 127.0.0.1 with this machine's cores and memory, no accounting, no
# cgroups, no systemd. Idempotent: a running cluster is left as it is. Exits 3 when SLURM cannot
# be had here; prints "slurm: up" when `srun` works.
#
# Facts this script is built on (measured on a machine like CI's): install and start take under a
# minute; the hostname is not "localhost", so slurmd is started with -N localhost; slurmctld -c
# clears state left by an earlier start; slurmctld leaves its pid file behind when killed.
set -euo pipefail
say() { echo "slurm: $*" >&2; }
CONF=/etc/slurm/slurm.conf
STATE=${SLURM_STATE_DIR:-/var/spool/slurm-adaptor}
LOGS=${SLURM_LOG_DIR:-/var/log/slurm-adaptor}

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1 \
    || ! command -v sbatch >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "SLURM is not installed and cannot be installed here (needs root and apt-get)"; exit 3
  fi
  say "installing slurmctld, slurmd, slurm-client and munge from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null \
    || { apt-get update -q >/dev/null \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurmctld slurmd slurm-client munge >/dev/null; } \
    || { say "apt-get could not install SLURM"; exit 3; }
fi

if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  say "up (already running)"; exit 0
fi
[ "$(id -u)" = 0 ] || { say "starting the daemons needs root"; exit 3; }

# munge: the key (made by the package, or here), its folders, the daemon as the munge user
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
# What this script starts is written to $STARTED (name and pid a line), and tools/slurm-down.sh
# stops those processes and no others: on a shared machine other people's daemons stay up.
mkdir -p "$STATE"
STARTED=$STATE/started-by-slurm-up
: > "$STARTED.tmp"
started() {  # NAME PIDFILE: record the pid the daemon wrote
  for _ in $(seq 1 40); do [ -s "$2" ] && break; sleep 0.25; done
  [ -s "$2" ] && echo "$1 $(cat "$2")" >> "$STARTED.tmp"
}
if ! pgrep -x munged >/dev/null; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
  started munged /run/munge/munged.pid
fi

cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$LOGS"
cat > "$CONF" <<CONF
# Written by tools/slurm-up.sh: a one-node test cluster.
ClusterName=adaptor-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
MaxArraySize=10001
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

# A daemon of an earlier start of this script (its record) is stopped; any other is not ours.
if [ -s "$STARTED" ]; then
  while read -r name pid; do
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$name" ] && [ "$name" != munged ] && kill "$pid"
  done < "$STARTED"
  sleep 0.5
fi
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  say "a slurmctld or slurmd that this script did not start is running; stop it or use it"; exit 3
fi
rm -f /run/slurmctld.pid /run/slurmd.pid
slurmctld -c
started slurmctld /run/slurmctld.pid
slurmd -N localhost
started slurmd /run/slurmd.pid
mv "$STARTED.tmp" "$STARTED"
for _ in $(seq 1 60); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  case "$state" in
    idle*|mixed*|allocated*) break ;;
    down*|drain*|inval*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
if ! timeout 60 srun -N1 -n1 true; then
  say "the cluster did not come up; logs in $LOGS"; tail -n 20 "$LOGS"/*.log >&2 || true; exit 1
fi
say "up ($cpus CPUs, $mem_mb MB, partition debug, node localhost)"

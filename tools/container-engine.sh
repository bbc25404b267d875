#!/usr/bin/env bash
# Make a container engine available for `make test-containers` on a machine without Docker:
# podman from Debian's packages, configured for this sandbox, and the base image the Dockerfiles
# name, built with debootstrap from the machine's Debian mirror (Python 3.11 + venv + CA certs).
# Prints the engine command on the last line ("podman" or "docker"); exits 3 when none can be had.
set -euo pipefail
BASE_TAG=${BASE_TAG:-python:3.11-slim-bookworm}
say() { echo "container-engine: $*" >&2; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  say "using the running Docker engine"; echo docker; exit 0
fi
if ! command -v podman >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "no container engine, and cannot install podman here (needs root and apt-get)"; exit 3
  fi
  say "installing podman, runc and debootstrap from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >/dev/null; } \
    || { say "apt-get could not install podman"; exit 3; }
fi
conf=/etc/containers/containers.conf
if [ "$(id -u)" = 0 ] && ! grep -q 'runtime = "runc"' "$conf" 2>/dev/null; then
  mkdir -p /etc/containers
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  cat > "$conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  say "wrote $conf"
fi
if ! podman image exists "$BASE_TAG" 2>/dev/null; then
  command -v debootstrap >/dev/null 2>&1 || { say "debootstrap missing; cannot build $BASE_TAG"; exit 3; }
  # The mirror apt already uses for bookworm's main archive (not -security or -updates).
  mirror=$(apt-cache policy 2>/dev/null | awk '/bookworm\/main/ && $2 ~ /^https?:/ {print $2; exit}' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d)
  say "building $BASE_TAG with debootstrap from $mirror"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" >/dev/null \
    || { say "debootstrap failed"; rm -rf "$rootfs"; exit 3; }
  # The machine's CA bundle (it may carry extra certificates) so pip inside builds can reach the index.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | podman import --change 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
  rm -rf "$rootfs"
fi
say "podman $(podman --version | awk '{print $3}') with base image $BASE_TAG"
echo podman

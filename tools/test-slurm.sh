#!/usr/bin/env bash
# make test-slurm: start a one-node SLURM cluster (tools/slurm-up.sh), run the tests marked `slurm`
# against it (a tiny sweep submitted as a job array, checked against the local executor), stop it.
# With ADAPTOR_REQUIRE_SLURM=1 (CI) a cluster that cannot be started fails; otherwise SKIPPED.
set -euo pipefail
cd "$(dirname "$0")/.."
started=0
if bash tools/slurm-up.sh; then
  started=1
elif [ "${ADAPTOR_REQUIRE_SLURM:-0}" = 1 ]; then
  echo "test-slurm: FAILED: ADAPTOR_REQUIRE_SLURM=1 but no SLURM cluster could be started" >&2
  exit 1
else
  echo "test-slurm: SKIPPED: no SLURM cluster could be started here"
  exit 0
fi
trap '[ "$started" = 1 ] && bash tools/slurm-down.sh' EXIT
ADAPTOR_REQUIRE_SLURM=1 .venv/bin/python -m pytest -q -m slurm tests

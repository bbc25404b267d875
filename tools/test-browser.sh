#!/usr/bin/env bash
# make test-browser: the published leaderboard page in a real headless Chromium (Debian's
# package, installed here when missing and possible). Says SKIPPED with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-browser: installing Debian's chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
      || true
  fi
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "test-browser: SKIPPED: no chromium, and it cannot be installed here (needs root and apt-get)"
  exit 0
fi
.venv/bin/python -m pytest -q -m browser tests/leaderboard

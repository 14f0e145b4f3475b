#!/usr/bin/env bash
# Makes node_modules match package-lock.json, deterministically, before the
# README's commands (`npm run demo`, `npm test`) build or run anything.
#
# node_modules counts as installed only when it holds a stamp of the
# lockfile's sha256 (and of the Node version and platform), written after a
# complete `npm ci`. A missing, stale or half-filled node_modules (an install
# that was interrupted or stalled) has no matching stamp, so `npm ci` runs
# again from scratch. npm's output is shown (never sent to /dev/null), with a
# line every 15 s while it runs; a stalled download is retried by npm
# (fetch-timeout / fetch-retries) and the whole install is bounded by a
# timeout and tried at most twice.
#
# Settings (environment): EXPLORATION_DATA_NPM_TIMEOUT (seconds per attempt,
# default 900), EXPLORATION_DATA_NPM_ATTEMPTS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp=node_modules/.exploration-data-installed
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node + "-" + process.platform + "-" + process.arch')"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

timeout_s="${EXPLORATION_DATA_NPM_TIMEOUT:-900}"
attempts="${EXPLORATION_DATA_NPM_ATTEMPTS:-2}"
reason="node_modules has no stamp of this package-lock.json"
[[ -d node_modules ]] || reason="node_modules is missing"

for ((attempt = 1; attempt <= attempts; attempt++)); do
  echo "[install] npm ci: $reason (attempt $attempt of $attempts, at most ${timeout_s} s)" >&2
  start=$SECONDS
  (
    # The sleep is killed with the heartbeat, so no child keeps stderr open.
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 15 &
      nap=$!
      wait "$nap"
      echo "[install] still installing: $((SECONDS - start)) s, $(du -sm node_modules 2>/dev/null | cut -f1 || echo 0) MB in node_modules" >&2
    done
  ) &
  heartbeat=$!
  status=0
  timeout --kill-after=15 "$timeout_s" \
    npm ci --no-audit --no-fund \
    --fetch-timeout=60000 --fetch-retries=4 \
    --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=30000 >&2 || status=$?
  kill "$heartbeat" 2>/dev/null || true
  wait "$heartbeat" 2>/dev/null || true
  if [[ $status -eq 0 ]]; then
    echo "$want" >"$stamp"
    echo "[install] npm ci done in $((SECONDS - start)) s" >&2
    exit 0
  fi
  if [[ $status -eq 124 || $status -eq 137 ]]; then
    echo "[install] npm ci did not finish within ${timeout_s} s; stopped it" >&2
  else
    echo "[install] npm ci failed (exit $status) after $((SECONDS - start)) s" >&2
  fi
  reason="the previous attempt failed"
done
rm -rf node_modules
echo "[install] giving up after $attempts attempts; node_modules removed so the next run starts clean (check the network, then run again)" >&2
exit 1

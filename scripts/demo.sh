#!/usr/bin/env bash
# npm run demo [-- flags]: on a fresh clone, install what is missing (Node.js
# 24 when the node on PATH is another major, npm packages when node_modules
# does not match the lockfile, fake-gcs-server; the gcloud emulators come with
# the Google Cloud CLI), build, then run the main job on the local emulator
# stack (local/demo.ts).
#
# Before any of that: `--help` prints the usage (local/demo-usage.txt), and
# the flags are checked by the demo's own parser run from source
# (local/check-demo-flags.ts, Node.js 24 type stripping), so a bad flag is
# one line and exit 2 before anything is installed or built.
#
# Everything the run makes outside the repository (the stack's logs, gcloud
# config and signing key, the downloads) goes into one run folder, TMPDIR for
# the run; it is removed when the demo passes, and kept (its path printed)
# when it fails or with --keep DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
keep=false
for arg in "$@"; do
  case "$arg" in
  -h | --help)
    cat local/demo-usage.txt
    exit 0
    ;;
  --keep | --keep=*) keep=true ;;
  esac
done
source scripts/use-node24.sh

# The flags, from source. Exit 2 is a bad flag; any other failure of the check
# itself (say a shared/ module that started importing a package) is left to
# the built demo, which checks the flags again.
status=0
error="$(node --experimental-transform-types --disable-warning=ExperimentalWarning \
  --import ./local/source-imports.ts local/check-demo-flags.ts "$@" 2>&1)" || status=$?
if [[ $status -eq 2 ]]; then
  printf '%s\n' "$error" >&2
  exit 2
fi

run_dir="$(mktemp -d "${TMPDIR:-/tmp}/exploration-data-demo-XXXXXX")"
finish() {
  local code=$?
  if [[ $code -eq 0 && $keep == false ]]; then
    rm -rf "$run_dir"
  else
    echo "[demo] run folder kept: $run_dir (the stack's logs, gcloud config, signing key)" >&2
  fi
  exit "$code"
}
trap finish EXIT
export TMPDIR="$run_dir"

bash scripts/ensure-node-modules.sh
echo "[demo] building (tsc)" >&2
rm -rf build && node_modules/.bin/tsc -p .
echo "[demo] fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" >&2
# --max-semi-space-size=1: this process hosts the stack's storage front, router and
# bridges; V8's default young generation is tens of mostly empty MB on a laptop
# (FUNCTION_SEMI_SPACE_MB in local/functions.ts, docs/local-stack-memory.md).
node --max-semi-space-size=1 build/local/demo.js "$@"

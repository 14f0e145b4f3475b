#!/usr/bin/env bash
# npm test: everything, on a fresh machine. Puts Node.js 24 first on PATH
# (fetched once when the node that started us is another major), installs
# node_modules when it does not match the lockfile, builds (strict
# type-check), lints, installs what the tests need (Python venv,
# fake-gcs-server, OpenTofu and the provider schemas; all cached outside the
# repository), then runs every test file under build/test with node's test
# runner: unit, interop (pandas/pyarrow/TensorFlow/DuckDB), integration (real
# emulators, started and stopped by the tests themselves) and terraform (HCL
# against the code, the dated runtime table, fmt, validate, checkov). At the
# end: counts and wall time per tier (test/support/tier-summary-reporter.ts).
#
# One tier, for a developer (`npm run test:unit` etc.):
#   bash scripts/test.sh unit|integration|interop|terraform
# builds (incrementally, no lint) and runs only build/test/<tier>/, after
# installing just the tools that tier needs.
#
# Everything the tests make in TMPDIR (stacks' logs, gcloud configs, signing
# keys, scratch folders, pytest's basetemp) goes into one run folder, removed
# when the run passes; kept, and its path printed, when it fails or with --keep.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }
TIERS=(unit integration interop terraform)

usage="usage: bash scripts/test.sh [all|$(IFS="|"; echo "${TIERS[*]}")] [--keep]"
tier=all
keep=false
tier_given=false
for arg in "$@"; do
  if [[ "$arg" == --keep ]]; then
    keep=true
  elif [[ $tier_given == false && ("$arg" == all || " ${TIERS[*]} " == *" $arg "*) ]]; then
    tier="$arg"
    tier_given=true
  else
    echo "$usage, got: $*" >&2
    exit 2
  fi
done

# Node.js 24 first on PATH (fetched once if the node that started us is
# another major): npm ci, tsc, gts and every test run on it.
source scripts/use-node24.sh
source scripts/run-folder.sh
run_folder_open test "$keep" "the stacks' logs, gcloud configs, signing keys, test scratch, pytest's basetemp"

bash scripts/ensure-node-modules.sh
# gts runs `eslint` from PATH: put the project's tools there also when this
# script is run directly rather than through npm.
export PATH="$PWD/node_modules/.bin:$PATH"
# Tests run on 127.0.0.1 only: google-auth must not probe the GCE metadata
# server (169.254.169.254) from any client the tests make.
export METADATA_SERVER_DETECTION=none

# node --test takes files or globs (not folders): the tiers' test files,
# never test/support (helpers, a worker-thread module, this reporter).
run_tests() {
  local started=$SECONDS status=0 patterns=()
  for t in "$@"; do patterns+=("build/test/$t/**/*.test.js"); done
  run_child node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./build/test/support/tier-summary-reporter.js \
    --test-reporter-destination="$RUN_FOLDER/tiers.txt" \
    "${patterns[@]}" || status=$?
  step "summary"
  cat "$RUN_FOLDER/tiers.txt" 2>/dev/null || echo "(no per-tier summary: the test runner wrote none)"
  echo "tests took $((SECONDS - started)) s in all, exit $status"
  return "$status"
}

if [[ "$tier" != all ]]; then
  step "build (tsc, incremental)"
  node_modules/.bin/tsc -p . --incremental --tsBuildInfoFile build/.tsbuildinfo
  node build/scripts/row-schema-json.js # rewrites clients/python/.../row_schema.json when stale
  case "$tier" in
  interop) # the Python client's tests run against the local stack too
    echo "python: $(bash scripts/python-env.sh)"
    echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" ;;
  integration) echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" ;;
  terraform) bash scripts/terraform-tools.sh ;;
  esac
  step "tests: $tier (node $(node --version))"
  run_tests "$tier"
  exit
fi

step "build (tsc, strict)"
rm -rf build
node_modules/.bin/tsc -p .
# the Python client's row_schema.json, committed, must be what the code declares
node build/scripts/row-schema-json.js --check

step "lint (gts)"
node_modules/.bin/gts lint
npm run -s check:cycles # import cycles and layers (.dependency-cruiser.cjs)

step "install test tools (cached)"
echo "python: $(bash scripts/python-env.sh)"
echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)"
bash scripts/terraform-tools.sh   # OpenTofu + provider schemas for validate (cold: ~13 min, then cached)

step "tests (node $(node --version))"
run_tests unit interop integration terraform

#!/usr/bin/env bash
# npm test: everything, on a fresh machine. Puts Node.js 24 first on PATH
# (scripts/use-node24.sh), installs node_modules when it does
# not match the lockfile, builds (strict type-check), lints, installs what the
# tests need (Python venv, fake-gcs-server, OpenTofu and the provider
# schemas; all cached outside the repository), then runs every test file
# under build/test with node's test runner: unit, interop
# (pandas/pyarrow/TensorFlow/DuckDB), integration (real emulators, started
# and stopped by the tests themselves) and terraform (HCL against the code,
# fmt, validate, checkov).
#
# One tier, for a developer (`npm run test:unit` etc.):
#   bash scripts/test.sh unit|integration|interop|terraform
# builds (incrementally, no lint) and runs only build/test/<tier>/, after
# installing just the tools that tier needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }
TIERS=(unit integration interop terraform)

tier="${1:-all}"
if [[ "$tier" != all ]]; then
  if [[ ! " ${TIERS[*]} " == *" $tier "* || $# -gt 1 ]]; then
    echo "usage: bash scripts/test.sh [all|${TIERS[*]// /|}], got: $*" >&2
    exit 2
  fi
fi

# Node.js 24 first on PATH (fetched once if the node that started us is
# another major): npm ci, tsc, gts and every test run on it.
source scripts/use-node24.sh
bash scripts/ensure-node-modules.sh
# gts runs `eslint` from PATH: put the project's tools there also when this
# script is run directly rather than through npm.
export PATH="$PWD/node_modules/.bin:$PATH"
# Tests run on 127.0.0.1 only: google-auth must not probe the GCE metadata
# server (169.254.169.254) from any client the tests make.
export METADATA_SERVER_DETECTION=none

if [[ "$tier" != all ]]; then
  step "build (tsc, incremental)"
  node_modules/.bin/tsc -p . --incremental --tsBuildInfoFile build/.tsbuildinfo
  case "$tier" in
  interop) # the Python client's tests run against the local stack too
    echo "python: $(bash scripts/python-env.sh)"
    echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" ;;
  integration) echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)" ;;
  terraform) bash scripts/terraform-tools.sh ;;
  esac
  step "tests: $tier"
  # node --test takes files or globs: on Node.js 24 a folder is taken for a file.
  exec node --test "build/test/$tier/**/*.test.js"
fi

step "build (tsc, strict)"
rm -rf build
node_modules/.bin/tsc -p .

step "lint (gts)"
node_modules/.bin/gts lint

step "install test tools (cached)"
echo "python: $(bash scripts/python-env.sh)"
echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)"
bash scripts/terraform-tools.sh   # OpenTofu + provider schemas for validate (cold: ~13 min, then cached)

step "tests"
# The four tiers' folders, not build/test/ itself: test/support holds helpers
# (and a worker-thread module) that are not tests.
node --test 'build/test/unit/**/*.test.js' 'build/test/interop/**/*.test.js' \
  'build/test/integration/**/*.test.js' 'build/test/terraform/**/*.test.js'

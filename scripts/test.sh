#!/usr/bin/env bash
# npm test: everything, on a fresh machine. Builds (strict type-check), lints,
# installs what the tests need (Python venv, fake-gcs-server, OpenTofu and
# the provider schemas; all cached outside the repository), then runs every
# test file under build/test with node's test runner: unit, interop
# (pandas/pyarrow/TensorFlow), integration (real emulators, started and
# stopped by the tests themselves) and terraform (HCL against the code,
# fmt, validate, checkov).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "build (tsc, strict)"
rm -rf build
npx tsc -p .

step "lint (gts)"
npx gts lint

step "install test tools (cached)"
echo "python: $(bash scripts/python-env.sh)"
echo "fake-gcs-server: $(bash scripts/install-fake-gcs-server.sh)"
bash scripts/terraform-tools.sh   # OpenTofu + provider schemas for validate (cold: ~13 min, then cached)

step "tests"
node --test build/test/

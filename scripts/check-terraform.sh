#!/usr/bin/env bash
# Offline checks of terraform/:
#   1. checkov over terraform/ (no failed check; every skip is justified inline
#      with `# checkov:skip=ID:reason`), from a pinned venv in the cache
#      (scripts/terraform-requirements.txt; created on first use, needs PyPI once)
#   2. tofu fmt -check -recursive terraform/
#   3. tofu init -backend=false + tofu validate, against the provider schemas
#      of the offline toolchain built by scripts/terraform-tools.sh
#
# Usage: bash scripts/check-terraform.sh [--build] [--skip-checkov]
#   --build         build the toolchain first when it is not cached (minutes)
#   --skip-checkov  only fmt and validate
#
# Exit codes: 0 all passed; 1 a check failed; 2 usage or setup error;
#             3 checkov passed but the tofu toolchain is not cached and
#               --build was not given, so fmt and validate did not run.
# Tool output goes to log files under $CACHE/terraform/check-logs/; stdout
# gets one line per check and a last line "N passed, N failed[, N skipped]".
set -euo pipefail

build=0
run_checkov=1
for arg in "$@"; do
  case "$arg" in
    --build) build=1 ;;
    --skip-checkov) run_checkov=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "check-terraform: unknown argument $arg" >&2
      exit 2
      ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cache="${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}"
tfc="$cache/terraform"
logs="$tfc/check-logs"
mkdir -p "$logs"

passed=0
failed=0
skipped=0
result() { # NAME STATUS DETAIL
  printf 'check-terraform: %-9s %-4s %s\n' "$1" "$2" "$3"
  case "$2" in
    ok) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
    skip) skipped=$((skipped + 1)) ;;
  esac
}

# --- 1. checkov --------------------------------------------------------------
checkov_venv() {
  local req="$here/terraform-requirements.txt"
  local hash venv
  hash="$(sha256sum "$req" | cut -c1-12)"
  venv="$tfc/checkov-venv-$hash"
  if [[ -f "$venv/.installed" ]]; then
    echo "$venv"
    return 0
  fi
  exec 8>"$tfc/checkov-venv.lock"
  flock 8
  if [[ ! -f "$venv/.installed" ]]; then
    local base="${EXPLORATION_DATA_PYTHON:-python3.11}"
    rm -rf "$venv"
    echo "check-terraform: installing checkov into $venv (once; log: $logs/checkov-install.log)" >&2
    {
      "$base" -m venv "$venv" &&
        "$venv/bin/pip" install --no-input --disable-pip-version-check -r "$req" &&
        "$venv/bin/checkov" --version
    } >"$logs/checkov-install.log" 2>&1 || {
      rm -rf "$venv"
      return 1
    }
    touch "$venv/.installed"
  fi
  flock -u 8
  echo "$venv"
}

if [[ $run_checkov == 1 ]]; then
  if venv=$(checkov_venv); then
    log="$logs/checkov.log"
    # --skip-download: no Prisma Cloud lookups (offline); the checks run locally.
    if (cd "$root" && "$venv/bin/checkov" --directory terraform --framework terraform \
      --quiet --compact --skip-download >"$log" 2>&1); then
      result checkov ok "$(grep -m1 -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$log" || echo 'no findings')"
    else
      result checkov FAIL "$(grep -m1 -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$log" || echo 'did not run'); see $log"
      grep -E '^Check: |FAILED for resource|File: ' "$log" | head -n 30 | sed 's/^/  /' || true
    fi
  else
    result checkov FAIL "venv install failed; see $logs/checkov-install.log"
  fi
else
  result checkov skip "--skip-checkov"
fi

# --- 2./3. tofu fmt and validate ---------------------------------------------
if [[ $build == 1 ]]; then
  bash "$here/terraform-tools.sh" || {
    result toolchain FAIL "scripts/terraform-tools.sh failed"
    echo "$passed passed, $failed failed, $skipped skipped"
    exit 1
  }
fi
tofu="$tfc/bin/tofu"
if [[ ! -f "$tfc/.stamp" || ! -x "$tofu" || ! -f "$tfc/tofu.tfrc" ]]; then
  result fmt skip "no tofu toolchain in $tfc"
  result validate skip "run scripts/terraform-tools.sh (or pass --build) first"
  echo "$passed passed, $failed failed, $skipped skipped"
  [[ $failed -gt 0 ]] && exit 1
  exit 3
fi

export TF_CLI_CONFIG_FILE="$tfc/tofu.tfrc"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1

if "$tofu" fmt -check -recursive -diff -no-color "$root/terraform" >"$logs/fmt.log" 2>&1; then
  result fmt ok "tofu fmt -check -recursive terraform/"
else
  result fmt FAIL "unformatted: $(grep -v '^[-+@ ]' "$logs/fmt.log" | grep -E '\.tf(vars)?$' | xargs -r -n1 basename | tr '\n' ' '); see $logs/fmt.log"
fi

# init + validate on a scratch copy of the repository's terraform/ (with the
# package files its archive_file reads), so nothing lands in the work tree:
# no .terraform/ and, above all, no lock file with the schema-only providers'
# checksums (a real `terraform init` writes the real ones).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/terraform"
cp -r "$root/terraform/." "$work/terraform/"
rm -rf "$work/terraform/.terraform" "$work/terraform/.terraform.lock.hcl" "$work/terraform/dist" "$work/terraform/"*.tfstate*
cp "$root/package.json" "$root/package-lock.json" "$work/"
[[ -d "$root/build" ]] && ln -s "$root/build" "$work/build"

if "$tofu" -chdir="$work/terraform" init -backend=false -input=false -no-color >"$logs/init.log" 2>&1; then
  if "$tofu" -chdir="$work/terraform" validate -no-color >"$logs/validate.log" 2>&1; then
    result validate ok "$(grep -m1 -i 'success' "$logs/validate.log" || echo valid) ($(sed -n 2p "$tfc/.stamp" | cut -d';' -f1))"
  else
    result validate FAIL "see $logs/validate.log"
    grep -E '^(Error|│ Error|  on |│   on )' "$logs/validate.log" | head -n 20 | sed 's/^/  /' || true
  fi
else
  result validate FAIL "tofu init failed; see $logs/init.log"
  tail -n 15 "$logs/init.log" | sed 's/^/  /'
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]

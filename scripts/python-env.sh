#!/usr/bin/env bash
# Creates (once) the Python 3.11 virtual environment used by the interop tests,
# the benchmark baselines and the Python client's lint, type-check and tests
# (clients/python; the client itself is not installed here: its tests put its
# src/ on PYTHONPATH), outside the repository, and prints the absolute
# path of its python on stdout (last line):
#
#   PY=$(bash scripts/python-env.sh)
#
# Location: ${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}/venv-<hash>,
# where <hash> is a short sha256 of scripts/python-requirements.txt, so a change
# of pins makes a new venv. A stamp file is written only after every package
# installed and imported; a venv without it (failed or interrupted install) is
# removed and built again. pip's output goes to a log file in the cache dir.
# The interpreter is python3.11, or $EXPLORATION_DATA_PYTHON if set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/python-requirements.txt"
cache="${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="$cache/venv-$hash"
py="$venv/bin/python"
stamp="$venv/.installed"

if [[ -f "$stamp" && -x "$py" ]]; then
  echo "$py"
  exit 0
fi

mkdir -p "$cache"
log="$cache/venv-$hash.log"

# One installer at a time; a second caller waits, then finds the stamp.
exec 9>"$cache/venv-$hash.lock"
flock 9
if [[ -f "$stamp" && -x "$py" ]]; then
  echo "$py"
  exit 0
fi

base="${EXPLORATION_DATA_PYTHON:-python3.11}"
if ! "$base" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "python-env: need Python 3.11 ('$base' is missing or another version); set EXPLORATION_DATA_PYTHON" >&2
  exit 1
fi

echo "python-env: installing Python packages into $venv (a few minutes, once; log: $log)" >&2
start=$SECONDS
rm -rf "$venv"
{
  echo "== $(date -u +%FT%TZ) creating $venv from $req"
  "$base" -m venv "$venv" &&
    "$py" -m pip install --no-input --disable-pip-version-check -r "$req" &&
    "$py" -m pip check &&
    "$py" -c 'import numpy, pandas, pyarrow, pyarrow.parquet, tensorflow as tf; print("imports ok", tf.__version__, numpy.__version__, pandas.__version__, pyarrow.__version__)' &&
    "$py" -c 'import google_crc32c, tqdm, requests, google.auth, google.oauth2.id_token, pytest, mypy, ruff; print("client imports ok", google_crc32c.implementation)'
} >>"$log" 2>&1 || {
  echo "python-env: install failed after $((SECONDS - start)) s; see $log" >&2
  rm -rf "$venv"
  exit 1
}
echo "installed in $((SECONDS - start)) s" >>"$log"
touch "$stamp"
echo "$py"

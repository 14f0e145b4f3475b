#!/usr/bin/env bash
# The OPTIONAL Open Bandit Pipeline venv: the bench's OBP producer
# (bench/baselines/obp_synthetic.py) and the OBP half of docs/ope.md's example.
# OBP is not a dependency of exploration-data, its tests, its demo or its CI:
# nothing but `npm run bench -- --obp` and the docs' example call this.
#
#   PY=$(bash scripts/obp-env.sh)           # make it (once, bounded time) and print its python
#   PY=$(bash scripts/obp-env.sh --check)   # print its python if it is already made; exit 1 if not
#
# Location: ${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}/venv-obp-<hash>,
# <hash> a short sha256 of scripts/obp-requirements.txt (every package pinned),
# never inside the repository. A stamp file is written only after every package
# installed and `obp.dataset.SyntheticBanditDataset` and the Python client's
# imports worked; a venv without it is removed and made again. pip's output
# goes to venv-obp-<hash>.log beside it; the install is stopped after
# $OBP_ENV_TIMEOUT seconds (default 1800: torch and its CUDA wheels are ~4 GB).
# On failure the last line on stderr says why (the bench records it) and the
# same line is kept in venv-obp-<hash>.failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/obp-requirements.txt"
cache="${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="$cache/venv-obp-$hash"
py="$venv/bin/python"
stamp="$venv/.installed"
log="$cache/venv-obp-$hash.log"
failed="$cache/venv-obp-$hash.failed"
limit="${OBP_ENV_TIMEOUT:-1800}"

if [[ -f "$stamp" && -x "$py" ]]; then
  echo "$py"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "obp-env: no OBP venv at $venv (bash scripts/obp-env.sh makes it)" >&2
  exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/venv-obp-$hash.lock"
flock 9
if [[ -f "$stamp" && -x "$py" ]]; then
  echo "$py"
  exit 0
fi

base="${EXPLORATION_DATA_PYTHON:-python3.11}"
if ! "$base" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  reason="obp-env: need Python 3.11 ('$base' is missing or another version); set EXPLORATION_DATA_PYTHON"
  echo "$reason" | tee "$failed" >&2
  exit 1
fi

echo "obp-env: installing Open Bandit Pipeline into $venv (at most $limit s, once; log: $log)" >&2
start=$SECONDS
rm -rf "$venv" "$failed"
status=0
{
  echo "== $(date -u +%FT%TZ) creating $venv from $req (limit $limit s)"
  "$base" -m venv "$venv" &&
    timeout "$limit" "$py" -m pip install --no-input --disable-pip-version-check -r "$req" &&
    "$py" -m pip check &&
    "$py" -c 'import obp, torch; from obp.dataset import SyntheticBanditDataset; from obp.ope import InverseProbabilityWeighting; print("obp imports ok", obp.__version__, torch.__version__)' &&
    "$py" -c 'import numpy, pandas, pyarrow.parquet, requests, google_crc32c, tqdm, matplotlib; print("client imports ok", numpy.__version__, pandas.__version__, pyarrow.__version__)'
} >>"$log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  # The first error line pip or python printed, for the bench's record.
  why="$(grep -m1 -E '^(ERROR|error|Traceback|ModuleNotFoundError|ImportError)|Error:' "$log" | cut -c1-300 || true)"
  [[ $status -eq 124 ]] && why="pip install did not finish within $limit s"
  reason="obp-env: install failed (exit $status) after $((SECONDS - start)) s: ${why:-see the log}; log: $log"
  echo "$reason" | tee "$failed" >&2
  rm -rf "$venv"
  exit 1
fi
echo "installed in $((SECONDS - start)) s" >>"$log"
touch "$stamp"
echo "$py"

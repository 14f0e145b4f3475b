#!/usr/bin/env bash
# Prints the bin directory of a Node.js 24 (the major the functions deploy on,
# terraform runtime nodejs24) on stdout, fetching the pinned one when needed:
#
#   PATH="$(bash scripts/node24.sh):$PATH"      (scripts/use-node24.sh does this)
#
# When the node on PATH is v24.x, that is its directory. Otherwise the package
# and version pinned in scripts/node-version are fetched with `npm pack`
# (bounded by EXPLORATION_DATA_NODE_TIMEOUT seconds, default 600, with a
# progress line every 10 s), the tarball is checked against the integrity
# recorded there, unpacked into
# ${EXPLORATION_DATA_CACHE:-~/.cache/exploration-data}/node-v<version>-linux-x64
# and its bin/node asked for its version; a stamp written last makes later
# calls instant. Every failure is one line on stderr and exit 1, and leaves
# nothing half-unpacked. The tarball holds node only (no npm): npm is the
# machine's, run by this node (its launcher is `#!/usr/bin/env node`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() {
  echo "node24: $*" >&2
  exit 1
}

if current="$(node --version 2>/dev/null)" && [[ "$current" == v24.* ]]; then
  dirname "$(command -v node)"
  exit 0
fi

pin() { sed -n "s/^$1 //p" "$here/node-version"; }
package="$(pin package)"
version="$(pin version)"
integrity="$(pin integrity)"
[[ -n "$package" && "$version" == 24.* && "$integrity" == sha512-* ]] ||
  fail "scripts/node-version must give a package, a 24.x version and a sha512- integrity"
[[ "$(uname -s) $(uname -m)" == "Linux x86_64" ]] ||
  fail "the pinned $package is for Linux x86_64, this is $(uname -s) $(uname -m): install Node.js 24 and put it first on PATH"

cache="${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}"
home="$cache/node-v$version-linux-x64"
stamp="$home/.installed"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$integrity" && -x "$home/bin/node" ]]; then
  echo "$home/bin"
  exit 0
fi

mkdir -p "$cache"
# One fetch at a time; a second caller waits, then finds the stamp.
exec 9>"$home.lock"
flock 9
if [[ -f "$stamp" && "$(cat "$stamp")" == "$integrity" && -x "$home/bin/node" ]]; then
  echo "$home/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 ||
  fail "npm is not on PATH: it is needed to fetch $package@$version (or put Node.js 24 first on PATH)"
timeout_s="${EXPLORATION_DATA_NODE_TIMEOUT:-600}"
work="$(mktemp -d "$cache/node-fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/npm-pack.log"

echo "[node24] node on PATH is ${current:-missing}: fetching $package@$version (53 MB, once; at most ${timeout_s} s) into $home" >&2
start=$SECONDS
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  while :; do
    sleep 10 &
    nap=$!
    wait "$nap"
    echo "[node24] still fetching: $((SECONDS - start)) s" >&2
  done
) &
heartbeat=$!
status=0
(cd "$work" && timeout --kill-after=10 "$timeout_s" npm pack "$package@$version" \
  --silent --fetch-timeout=60000 --fetch-retries=4 >"$log" 2>&1) || status=$?
kill "$heartbeat" 2>/dev/null || true
wait "$heartbeat" 2>/dev/null || true
if [[ $status -eq 124 || $status -eq 137 ]]; then
  fail "npm pack $package@$version did not finish within ${timeout_s} s; stopped it (check the network, then run again)"
fi
tarball="$work/$package-$version.tgz"
[[ $status -eq 0 && -f "$tarball" ]] ||
  fail "npm pack $package@$version failed (exit $status): $(tail -n 1 "$log" 2>/dev/null)"

# The recorded integrity is npm's: sha512 of the tarball, base64.
want="$(printf '%s' "${integrity#sha512-}" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
got="$(sha512sum "$tarball" | cut -d' ' -f1)"
[[ -n "$want" && "$got" == "$want" ]] ||
  fail "$package-$version.tgz does not match the integrity in scripts/node-version (sha512 $got); nothing installed"

tar -xzf "$tarball" -C "$work" ||
  fail "cannot unpack $package-$version.tgz into $work"
said="$("$work/package/bin/node" --version 2>/dev/null || true)"
[[ "$said" == "v$version" ]] ||
  fail "the unpacked bin/node says '${said:-nothing}', not v$version; nothing installed"
rm -rf "$home"
mv "$work/package" "$home"
echo "$integrity" >"$stamp"
echo "[node24] Node.js v$version ready in $((SECONDS - start)) s: $home/bin" >&2
echo "$home/bin"

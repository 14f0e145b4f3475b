#!/usr/bin/env bash
# Installs fake-gcs-server (the Cloud Storage emulator of the local stack, see
# docs/local-stack.md), pinned and patched, as
# ${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}/bin/fake-gcs-server-streaming:
# the pinned module source (`go mod download`), with
# scripts/fake-gcs-server-streaming-uploads.patch applied, built with
# `go build`. The patch makes the filesystem backend stream uploads to disk
# instead of holding each object in memory (7 GB of RSS for one 10M-row
# dataset without it; see docs/local-stack-memory.md).
#
# Idempotent: does nothing when the binary there was already built from the
# pinned version and this patch (recorded in bin/fake-gcs-server-streaming.version).
# The go command's output goes to a log file next to it; the only thing
# printed on stdout is the binary's path, so callers can do
#   FAKE_GCS_SERVER_BIN="$(bash scripts/install-fake-gcs-server.sh)"
set -euo pipefail

readonly MODULE=github.com/fsouza/fake-gcs-server
readonly VERSION="${FAKE_GCS_SERVER_VERSION:-v1.56.1}"
readonly PATCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fake-gcs-server-streaming-uploads.patch"

cache_dir="${EXPLORATION_DATA_CACHE:-${HOME}/.cache/exploration-data}"
bin_dir="${cache_dir}/bin"
log_dir="${cache_dir}/logs"
# Its own name, not bin/fake-gcs-server (the unpatched build of earlier
# versions of this script): the two never replace each other.
bin="${bin_dir}/fake-gcs-server-streaming"
stamp_file="${bin}.version"
log="${log_dir}/install-fake-gcs-server.log"

mkdir -p "${bin_dir}" "${log_dir}"

if ! command -v go >/dev/null 2>&1; then
  echo "install-fake-gcs-server: the go command is not on PATH (Go >= 1.26 is needed)" >&2
  exit 1
fi
for tool in patch sha256sum; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "install-fake-gcs-server: the ${tool} command is not on PATH" >&2
    exit 1
  fi
done

# What the binary must have been built from: the version and the patch's digest.
stamp="${VERSION}+$(sha256sum "${PATCH}" | cut -c1-16)"

if [[ -x "${bin}" && -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${stamp}" ]]; then
  echo "${bin}"
  exit 0
fi

{
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) build ${MODULE}@${VERSION} + $(basename "${PATCH}") -> ${bin_dir}"
  go version
} >>"${log}" 2>&1
echo "install-fake-gcs-server: building ${MODULE}@${VERSION} with its patch (once; 1.5 to 3 minutes; log: ${log})" >&2
started=$SECONDS

fail() {
  echo "install-fake-gcs-server: $1; see ${log}" >&2
  tail -n 20 "${log}" >&2
  exit 1
}

# Work outside any module so that a go.mod nearby cannot interfere.
work_dir="$(mktemp -d)"
trap 'chmod -R u+w "${work_dir}" 2>/dev/null; rm -rf "${work_dir}"' EXIT
module_dir="$(cd "${work_dir}" && go mod download -json "${MODULE}@${VERSION}" 2>>"${log}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" ||
  fail "go mod download ${MODULE}@${VERSION} failed"
[[ -n "${module_dir}" && -d "${module_dir}" ]] ||
  fail "go mod download ${MODULE}@${VERSION} named no source directory"
# The module cache is read-only: patch and build a copy.
cp -R "${module_dir}" "${work_dir}/src"
chmod -R u+w "${work_dir}/src"
(cd "${work_dir}/src" && patch -p1 --forward <"${PATCH}") >>"${log}" 2>&1 ||
  fail "$(basename "${PATCH}") does not apply to ${MODULE}@${VERSION}"
(cd "${work_dir}/src" && GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
  go build -trimpath -o "${work_dir}/fake-gcs-server" .) >>"${log}" 2>&1 ||
  fail "go build of ${MODULE}@${VERSION} failed"

mv -f "${work_dir}/fake-gcs-server" "${bin}"
echo "${stamp}" >"${stamp_file}"
echo "== installed ${bin} (${stamp}) in $((SECONDS - started)) s" >>"${log}"
echo "install-fake-gcs-server: built in $((SECONDS - started)) s" >&2
echo "${bin}"

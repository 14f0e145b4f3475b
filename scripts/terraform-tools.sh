#!/usr/bin/env bash
# Builds, once, the offline toolchain that scripts/check-terraform.sh uses to
# check terraform/ without any network access at check time:
#
#   $TFC/bin/tofu        OpenTofu, built from its Go module (Go module proxy)
#   $TFC/mirror/<host>/hashicorp/google/<ver>/linux_amd64/terraform-provider-google_v<ver>
#   $TFC/mirror/<host>/hashicorp/archive/<ver>/linux_amd64/terraform-provider-archive_v<ver>
#                        a filesystem mirror (unpacked layout) of the providers
#   $TFC/tofu.tfrc       CLI config: export TF_CLI_CONFIG_FILE=$TFC/tofu.tfrc and
#                        `tofu init -backend=false` installs from the mirror only
#   $TFC/logs/           every tool's output, plus build figures (*.time)
#   $TFC/.stamp          written last; holds the pins below
#
# where TFC=${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}/terraform
# and <host> is OpenTofu's default registry host, asked from tofu itself.
#
# About the providers. The google provider (github.com/hashicorp/terraform-provider-google)
# cannot be built from the Go module proxy: its go.mod has no /vN suffix, so its
# v2+ releases are not Go module versions, and the proxy serves only v1.20.0
# (2018, before Cloud Functions gen2 and Eventarc existed). The same holds for
# hashicorp/terraform-provider-archive. What the mirror holds instead is a
# schema-only provider: a small terraform-plugin-go server that answers
# GetProviderSchema with the real provider's schema and accepts every
# configuration it is asked to validate. The schema comes from the CDK Terrain
# prebuilt bindings on PyPI (cdktn-provider-google / cdktn-provider-archive,
# pinned by version and sha256), which are generated from the real provider's
# `providers schema -json`: every attribute with its type and
# required/optional/computed flags, every nested block with its nesting mode.
# So `tofu validate` checks resource and data source types, argument and block
# names, types, required arguments and references against the real schema;
# what it does not check is what only the real provider's code does (enum
# values, conflicting arguments, max_items), which a real `terraform plan`
# does. The shim refuses to read, plan or apply.
#
# Usage: bash scripts/terraform-tools.sh [--force]
# Prints one status line on stdout; exits non-zero on failure (see the logs).
set -euo pipefail

OPENTOFU_VERSION=v1.12.6
PLUGIN_GO_VERSION=v0.31.0 # github.com/hashicorp/terraform-plugin-go
GOOGLE_VERSION=8.7.0
GOOGLE_BINDINGS="cdktn-provider-google==21.1.0" # generated from hashicorp/google 8.7.0
GOOGLE_BINDINGS_SHA256=157dead5025d5db5abe48e40cc49f0b6a4d8088fd0498eb17ad5a36bca811b2a
ARCHIVE_VERSION=2.8.1
ARCHIVE_BINDINGS="cdktn-provider-archive==14.0.1" # generated from hashicorp/archive 2.8.1
ARCHIVE_BINDINGS_SHA256=b2cd6a0c8d443c83e7f11e4d6ef292978828b7402099261528358ba85db20eec
STAMP_FORMAT=1

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "terraform-tools: unknown argument $arg" >&2
      exit 2
      ;;
  esac
done

if ! command -v go >/dev/null; then
  echo "terraform-tools: needs the go command" >&2
  exit 1
fi
platform="$(go env GOOS)_$(go env GOARCH)"
cache="${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}"
tfc="$cache/terraform"
stamp="$tfc/.stamp"
pins="format=$STAMP_FORMAT opentofu=$OPENTOFU_VERSION plugin-go=$PLUGIN_GO_VERSION google=$GOOGLE_VERSION($GOOGLE_BINDINGS) archive=$ARCHIVE_VERSION($ARCHIVE_BINDINGS) $platform"

ready() {
  [[ -f "$stamp" && "$(head -n1 "$stamp")" == "$pins" && -x "$tfc/bin/tofu" && -f "$tfc/tofu.tfrc" && -d "$tfc/mirror" ]]
}

if [[ $force == 0 ]] && ready; then
  echo "terraform-tools: ready (cached) in $tfc: $(sed -n 2p "$stamp")"
  exit 0
fi

mkdir -p "$tfc/logs"
# One builder at a time; a second caller waits, then finds the stamp.
exec 9>"$tfc/.lock"
flock 9
if [[ $force == 0 ]] && ready; then
  echo "terraform-tools: ready (cached) in $tfc: $(sed -n 2p "$stamp")"
  exit 0
fi
rm -f "$stamp"

py="${EXPLORATION_DATA_PYTHON:-python3}"
# tofu below only reports its version and its registry host: no CLI config.
export TF_CLI_CONFIG_FILE=/dev/null
logs="$tfc/logs"
start=$SECONDS

fail() {
  echo "terraform-tools: $1 failed; see $2" >&2
  tail -n 20 "$2" >&2 || true
  exit 1
}

# measure NAME LOG CMD...: runs CMD in its own process group with all output
# in LOG; writes NAME's wall time, CPU time and memory to $logs/NAME.time:
# max_rss_kb (largest single process, from GNU time or Python's rusage) and
# peak_tree_rss_kb (largest sum over the whole process tree, sampled each
# second, i.e. the memory the step really needs with go's parallel compiles).
measure() {
  local name="$1" log="$2"
  shift 2
  local tfile="$logs/$name.time" rc=0
  : >"$log"
  if [[ -x /usr/bin/time ]]; then
    setsid /usr/bin/time -v -o "$tfile.raw" "$@" >>"$log" 2>&1 &
  else
    setsid "$py" -c '
import resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write("Elapsed (wall clock) time (seconds): %.1f\n" % (time.monotonic() - t0))
    f.write("User time (seconds): %.1f\nSystem time (seconds): %.1f\n" % (ru.ru_utime, ru.ru_stime))
    f.write("Maximum resident set size (kbytes): %d\n" % ru.ru_maxrss)
sys.exit(rc)' "$tfile.raw" "$@" >>"$log" 2>&1 &
  fi
  local pid=$! peak=0 cur
  while kill -0 "$pid" 2>/dev/null; do
    cur=$(ps -o rss= -g "$pid" 2>/dev/null | awk '{s += $1} END {print s + 0}')
    ((cur > peak)) && peak=$cur
    sleep 1
  done
  wait "$pid" || rc=$?
  {
    echo "step=$name exit=$rc"
    grep -E 'Elapsed|User time|System time|Maximum resident' "$tfile.raw" 2>/dev/null || true
    echo "peak_tree_rss_kb=$peak"
  } >"$tfile"
  rm -f "$tfile.raw"
  return "$rc"
}

summary() { # NAME -> "12m03s wall, 1.2 GiB peak"
  awk -v n="$1" '
    /Elapsed/ { w = $NF
      if (w ~ /:/) { k = split(w, p, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + p[i] } else s = w }
    /^peak_tree_rss_kb=/ { split($0, q, "="); m = q[2] }
    /Maximum resident/ { r = $NF }
    END { printf "%s %dm%02ds wall, %.0f MiB peak (largest process %.0f MiB)", n, s / 60, s % 60, m / 1024, r / 1024 }
  ' "$logs/$1.time"
}

# --- 1. OpenTofu -------------------------------------------------------------
# `go install ...@version` refuses modules whose go.mod has replace directives
# (OpenTofu's has one, for its HCL fork), so build it as the main module.
tofu_src="$tfc/src/opentofu-$OPENTOFU_VERSION"
if [[ ! -x "$tfc/bin/tofu" || "$("$tfc/bin/tofu" version 2>/dev/null | head -n1)" != "OpenTofu ${OPENTOFU_VERSION}" ]]; then
  dir=$(go mod download -json "github.com/opentofu/opentofu@$OPENTOFU_VERSION" 2>"$logs/tofu-download.log" |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') || fail "downloading OpenTofu $OPENTOFU_VERSION" "$logs/tofu-download.log"
  rm -rf "$tofu_src"
  mkdir -p "$tfc/src" "$tfc/bin"
  cp -r "$dir" "$tofu_src"
  chmod -R u+w "$tofu_src"
  (cd "$tofu_src" && measure tofu-build "$logs/tofu-build.log" env CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$tfc/bin/tofu" ./cmd/tofu) ||
    fail "building OpenTofu $OPENTOFU_VERSION" "$logs/tofu-build.log"
  rm -rf "$tofu_src"
fi
tofu="$tfc/bin/tofu"

# The registry host OpenTofu puts in front of "hashicorp/<name>", from tofu
# itself (offline), for the mirror's directory layout.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'terraform {\n  required_providers {\n    google = { source = "hashicorp/google" }\n  }\n}\n' >"$probe/main.tf"
host=$("$tofu" -chdir="$probe" providers 2>"$logs/tofu-providers.log" |
  sed -n 's|.*provider\[\([^]/]*\)/hashicorp/google\].*|\1|p' | head -n1)
[[ -n "$host" ]] || fail "asking tofu for its registry host" "$logs/tofu-providers.log"

# --- 2. Provider schemas from the pinned CDK Terrain bindings (PyPI) ---------
src="$tfc/src/schema-shim"
rm -rf "$src"
mkdir -p "$src" "$tfc/wheels"
printf '%s --hash=sha256:%s\n%s --hash=sha256:%s\n' \
  "$GOOGLE_BINDINGS" "$GOOGLE_BINDINGS_SHA256" "$ARCHIVE_BINDINGS" "$ARCHIVE_BINDINGS_SHA256" >"$src/bindings.txt"
"$py" -m pip download --no-deps --require-hashes --only-binary=:all: --disable-pip-version-check \
  --no-input -d "$tfc/wheels" -r "$src/bindings.txt" >"$logs/bindings-download.log" 2>&1 ||
  fail "downloading the provider bindings" "$logs/bindings-download.log"

cat >"$src/cdk2schema.py" <<'PYEOF'
"""Rebuild a Terraform provider schema from a CDK Terrain prebuilt-provider wheel.

Its jsii tarball holds lib/<x>/index.js, one per resource / data source plus
provider/index.js, generated from the real provider's `providers schema -json`.
Every generated getter carries a comment
`// <name> - computed: B, optional: B, required: B` and every configurable
field an entry `{isBlock, type, storageClassType}`; from those the attribute
and block tree is rebuilt.

Output: JSON {"provider": BLOCK, "resources": {type: BLOCK},
"data_sources": {type: BLOCK}} where BLOCK is
{"attributes": [{name, type, required, optional, computed}],
 "block_types": [{name, nesting, min_items, block}]}; types use the cty JSON
encoding ("string", ["list", "string"], ["object", {...}], "dynamic").
"""
import json
import re
import sys
import tarfile
import zipfile

CLASS_RE = re.compile(r"^class (\w+) extends ([\w.]+) \{\n(.*?)^\}$", re.M | re.S)
FUNC_RE = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}$", re.M | re.S)
HCL_RE = re.compile(
    r"^\s+(\w+): \{\n\s+value: [^\n]*\n\s+isBlock: (true|false),\n"
    r"\s+type: \"(\w+)\",\n\s+storageClassType: \"(\w+)\",",
    re.M,
)
CMT_RE = re.compile(r"^\s+// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)$", re.M)
TYPE_RE = re.compile(r"static tfResourceType = \"([\w-]+)\";")
GET_RE = re.compile(r"get \w+\(\) \{\n\s+return ([^\n]*);")
SIMPLE = {"string": "string", "number": "number", "boolean": "bool"}
GETTERS = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "getAnyMapAttribute": ["map", "dynamic"],
}
MAPS = {
    "cdktn.StringMap": ["map", "string"],
    "cdktn.NumberMap": ["map", "number"],
    "cdktn.BooleanMap": ["map", "bool"],
    "cdktn.AnyMap": ["map", "dynamic"],
    "cdktn.StringMapList": ["list", ["map", "string"]],
    "cdktn.NumberMapList": ["list", ["map", "number"]],
    "cdktn.BooleanMapList": ["list", ["map", "bool"]],
    "cdktn.AnyMapList": ["list", ["map", "dynamic"]],
}
unknown = {}


def lcfirst(s):
    return s[:1].lower() + s[1:]


class Module:
    def __init__(self, text):
        self.classes = {m.group(1): (m.group(2), m.group(3)) for m in CLASS_RE.finditer(text)}
        self.funcs = {m.group(1): m.group(2) for m in FUNC_RE.finditer(text)}

    def hcl_attrs(self, text):
        return {m.group(1): (m.group(2) == "true", m.group(3), m.group(4)) for m in HCL_RE.finditer(text)}

    def entries(self, body):
        """[(name, computed, optional, required, segment)] for a class body."""
        ms = list(CMT_RE.finditer(body))
        out = []
        for i, m in enumerate(ms):
            end = ms[i + 1].start() if i + 1 < len(ms) else len(body)
            out.append((m.group(1), m.group(2) == "true", m.group(3) == "true", m.group(4) == "true",
                        body[m.end():end]))
        return out

    def struct_of(self, storage):
        """Struct name for a storageClassType / class name."""
        for suffix in ("OutputReference", "List", "Map"):
            if storage.endswith(suffix) and storage[: -len(suffix)] + "OutputReference" in self.classes:
                return storage[: -len(suffix)]
        return storage if storage + "OutputReference" in self.classes else None

    def object_type(self, struct, seen):
        if struct in seen:
            return "dynamic"
        cls = self.classes.get(struct + "OutputReference")
        if not cls:
            return "dynamic"
        attrs = {}
        hcl = self.hcl_attrs(self.funcs.get(lcfirst(struct), ""))
        for name, _c, _o, _r, seg in self.entries(cls[1]):
            attrs[name] = self.attr_type(name, seg, hcl.get(name), seen | {struct})
        return ["object", attrs]

    def getter_type(self, name, seg, seen):
        g = GET_RE.search(seg)
        expr = g.group(1) if g else ""
        m = re.match(r"(cdktn\.Fn\.tolist\()?this\.(\w+)\('", expr)
        if m and m.group(2) in GETTERS:
            t = GETTERS[m.group(2)]
            if m.group(1) and isinstance(t, list):
                t = ["set", t[1]]
            return t
        m = re.match(r"this\.(_\w+)(\.internalValue)?$", expr)
        if m:
            f = re.search(re.escape(m.group(1)) + r" = new ([\w.]+)\(this, \"\w+\"(?:, (true|false))?\)", seg)
            if f:
                ctor, wraps_set = f.group(1), f.group(2)
                if ctor in MAPS:
                    return MAPS[ctor]
                struct = self.struct_of(ctor)
                if struct:
                    obj = self.object_type(struct, seen)
                    if ctor.endswith("OutputReference"):
                        return obj
                    if ctor.endswith("Map"):
                        return ["map", obj]
                    return ["set" if wraps_set == "true" else "list", obj]
        unknown[expr] = unknown.get(expr, 0) + 1
        return "dynamic"

    def attr_type(self, name, seg, hcl, seen):
        if hcl:
            is_block, kind, storage = hcl
            if storage in ("string", "number", "boolean") and kind == "simple":
                return SIMPLE[storage]
            m = re.match(r"(string|number|boolean|any)(List|Map)$", storage)
            if m:
                el = SIMPLE.get(m.group(1), "dynamic")
                if m.group(2) == "Map":
                    return ["map", el]
                return ["set" if kind == "set" else "list", el]
            struct = self.struct_of(storage)
            if struct:
                obj = self.object_type(struct, seen)
                if kind == "struct":
                    return obj
                return [kind if kind in ("list", "set", "map") else "list", obj]
        return self.getter_type(name, seg, seen)

    def block(self, body, hcl, seen=frozenset()):
        attrs, blocks = [], []
        for name, computed, optional, required, seg in self.entries(body):
            h = hcl.get(name)
            if h and h[0]:
                _blk, kind, storage = h
                struct = self.struct_of(storage)
                cls = self.classes.get((struct or "") + "OutputReference")
                if struct and cls and struct not in seen:
                    inner = self.block(cls[1], self.hcl_attrs(self.funcs.get(lcfirst(struct), "")), seen | {struct})
                else:
                    inner = {"attributes": [], "block_types": []}
                nesting = {"list": "list", "set": "set", "struct": "single"}.get(kind, "list")
                blocks.append({"name": name, "nesting": nesting, "min_items": 1 if required else 0, "block": inner})
                continue
            attrs.append({
                "name": name,
                "type": self.attr_type(name, seg, h, seen),
                "required": required,
                "optional": optional,
                "computed": computed,
            })
        return {"attributes": attrs, "block_types": blocks}


def load_modules(wheel):
    """Yield (lib dir name, index.js text) from the wheel's embedded jsii tarball, and the README."""
    with zipfile.ZipFile(wheel) as zf:
        inner = [n for n in zf.namelist() if n.endswith(".jsii.tgz")]
        if len(inner) != 1:
            raise SystemExit(f"{wheel}: expected one .jsii.tgz, found {inner}")
        with zf.open(inner[0]) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tf:
            for m in tf:
                parts = m.name.split("/")
                if m.isfile() and (m.name == "package/README.md" or
                                   (len(parts) == 4 and parts[:2] == ["package", "lib"] and parts[3] == "index.js")):
                    yield parts[2] if len(parts) == 4 else "README", tf.extractfile(m).read().decode("utf-8")


def main(wheel, provider, version, out):
    schema = {"provider": None, "resources": {}, "data_sources": {}}
    readme_ok = False
    for d, text in load_modules(wheel):
        if d == "README":
            readme_ok = f"hashicorp/{provider} provider version {version}" in text
            continue
        mod = Module(text)
        for cname, (base, body) in mod.classes.items():
            kind = {"cdktn.TerraformResource": "resources", "cdktn.TerraformDataSource": "data_sources",
                    "cdktn.TerraformProvider": "provider"}.get(base)
            if not kind:
                continue
            t = TYPE_RE.search(body)
            syn = re.search(r"synthesizeHclAttributes\(\) \{\n(.*?)^    \}$", body, re.M | re.S)
            blk = mod.block(body, mod.hcl_attrs(syn.group(1) if syn else ""))
            if kind == "provider":
                schema["provider"] = blk
            elif t:
                schema[kind][t.group(1)] = blk
    if not readme_ok:
        raise SystemExit(f"{wheel}: not the bindings of hashicorp/{provider} {version}")
    if not schema["resources"] and not schema["data_sources"]:
        raise SystemExit(f"{wheel}: no resource or data source found")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(schema, f, separators=(",", ":"), sort_keys=True)
    print(f"{provider} {version}: {len(schema['resources'])} resources, {len(schema['data_sources'])} data sources, "
          f"{sum(unknown.values())} attributes typed dynamic")


if __name__ == "__main__":
    main(*sys.argv[1:5])
PYEOF

cat >"$src/main.go" <<'GOEOF'
// Schema-only Terraform provider: serves a provider schema rebuilt from the
// provider's published CDK bindings, so `tofu validate` can check a
// configuration offline. It cannot plan or apply: every such call fails.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
	"github.com/hashicorp/terraform-plugin-go/tfprotov5/tf5server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

//go:embed schema.json
var schemaJSON []byte

// Set with -ldflags "-X main.providerAddr=<registry host>/hashicorp/<name>" (the
// host as tofu reports it, see the mirror step).
var providerAddr = "unknown/hashicorp/unknown"

type jAttr struct {
	Name     string          `json:"name"`
	Type     json.RawMessage `json:"type"`
	Required bool            `json:"required"`
	Optional bool            `json:"optional"`
	Computed bool            `json:"computed"`
}

type jNested struct {
	Name     string `json:"name"`
	Nesting  string `json:"nesting"`
	MinItems int64  `json:"min_items"`
	Block    jBlock `json:"block"`
}

type jBlock struct {
	Attributes []jAttr   `json:"attributes"`
	BlockTypes []jNested `json:"block_types"`
}

type jSchema struct {
	Provider    *jBlock           `json:"provider"`
	Resources   map[string]jBlock `json:"resources"`
	DataSources map[string]jBlock `json:"data_sources"`
}

var nesting = map[string]tfprotov5.SchemaNestedBlockNestingMode{
	"single": tfprotov5.SchemaNestedBlockNestingModeSingle,
	"list":   tfprotov5.SchemaNestedBlockNestingModeList,
	"set":    tfprotov5.SchemaNestedBlockNestingModeSet,
	"map":    tfprotov5.SchemaNestedBlockNestingModeMap,
	"group":  tfprotov5.SchemaNestedBlockNestingModeGroup,
}

func convert(b jBlock) (*tfprotov5.SchemaBlock, error) {
	out := &tfprotov5.SchemaBlock{}
	for _, a := range b.Attributes {
		t, err := tftypes.ParseJSONType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		out.Attributes = append(out.Attributes, &tfprotov5.SchemaAttribute{
			Name: a.Name, Type: t, Required: a.Required, Optional: a.Optional, Computed: a.Computed,
		})
	}
	for _, n := range b.BlockTypes {
		inner, err := convert(n.Block)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", n.Name, err)
		}
		mode, ok := nesting[n.Nesting]
		if !ok {
			return nil, fmt.Errorf("block %s: nesting %q", n.Name, n.Nesting)
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov5.SchemaNestedBlock{
			TypeName: n.Name, Nesting: mode, Block: inner, MinItems: n.MinItems,
		})
	}
	return out, nil
}

type server struct {
	schema *tfprotov5.GetProviderSchemaResponse
	meta   *tfprotov5.GetMetadataResponse
}

var errSchemaOnly = errors.New("schema-only provider (offline validation): it cannot read, plan or apply; use the real provider for that")

func load() (*server, error) {
	var js jSchema
	if err := json.Unmarshal(schemaJSON, &js); err != nil {
		return nil, err
	}
	resp := &tfprotov5.GetProviderSchemaResponse{
		Provider:                 &tfprotov5.Schema{Block: &tfprotov5.SchemaBlock{}},
		ResourceSchemas:          map[string]*tfprotov5.Schema{},
		DataSourceSchemas:        map[string]*tfprotov5.Schema{},
		Functions:                map[string]*tfprotov5.Function{},
		EphemeralResourceSchemas: map[string]*tfprotov5.Schema{},
	}
	meta := &tfprotov5.GetMetadataResponse{ServerCapabilities: &tfprotov5.ServerCapabilities{}}
	if js.Provider != nil {
		b, err := convert(*js.Provider)
		if err != nil {
			return nil, fmt.Errorf("provider: %w", err)
		}
		resp.Provider = &tfprotov5.Schema{Block: b}
	}
	for name, blk := range js.Resources {
		b, err := convert(blk)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		resp.ResourceSchemas[name] = &tfprotov5.Schema{Block: b}
		meta.Resources = append(meta.Resources, tfprotov5.ResourceMetadata{TypeName: name})
	}
	for name, blk := range js.DataSources {
		b, err := convert(blk)
		if err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
		resp.DataSourceSchemas[name] = &tfprotov5.Schema{Block: b}
		meta.DataSources = append(meta.DataSources, tfprotov5.DataSourceMetadata{TypeName: name})
	}
	return &server{schema: resp, meta: meta}, nil
}

func (s *server) GetMetadata(context.Context, *tfprotov5.GetMetadataRequest) (*tfprotov5.GetMetadataResponse, error) {
	return s.meta, nil
}
func (s *server) GetProviderSchema(context.Context, *tfprotov5.GetProviderSchemaRequest) (*tfprotov5.GetProviderSchemaResponse, error) {
	return s.schema, nil
}
func (s *server) GetResourceIdentitySchemas(context.Context, *tfprotov5.GetResourceIdentitySchemasRequest) (*tfprotov5.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov5.GetResourceIdentitySchemasResponse{IdentitySchemas: map[string]*tfprotov5.ResourceIdentitySchema{}}, nil
}
func (s *server) PrepareProviderConfig(_ context.Context, r *tfprotov5.PrepareProviderConfigRequest) (*tfprotov5.PrepareProviderConfigResponse, error) {
	return &tfprotov5.PrepareProviderConfigResponse{PreparedConfig: r.Config}, nil
}
func (s *server) ConfigureProvider(context.Context, *tfprotov5.ConfigureProviderRequest) (*tfprotov5.ConfigureProviderResponse, error) {
	return &tfprotov5.ConfigureProviderResponse{}, nil
}
func (s *server) StopProvider(context.Context, *tfprotov5.StopProviderRequest) (*tfprotov5.StopProviderResponse, error) {
	return &tfprotov5.StopProviderResponse{}, nil
}
func (s *server) ValidateResourceTypeConfig(context.Context, *tfprotov5.ValidateResourceTypeConfigRequest) (*tfprotov5.ValidateResourceTypeConfigResponse, error) {
	return &tfprotov5.ValidateResourceTypeConfigResponse{}, nil
}
func (s *server) ValidateDataSourceConfig(context.Context, *tfprotov5.ValidateDataSourceConfigRequest) (*tfprotov5.ValidateDataSourceConfigResponse, error) {
	return &tfprotov5.ValidateDataSourceConfigResponse{}, nil
}
func (s *server) ValidateEphemeralResourceConfig(context.Context, *tfprotov5.ValidateEphemeralResourceConfigRequest) (*tfprotov5.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov5.ValidateEphemeralResourceConfigResponse{}, nil
}
func (s *server) GetFunctions(context.Context, *tfprotov5.GetFunctionsRequest) (*tfprotov5.GetFunctionsResponse, error) {
	return &tfprotov5.GetFunctionsResponse{Functions: map[string]*tfprotov5.Function{}}, nil
}

func (s *server) UpgradeResourceState(context.Context, *tfprotov5.UpgradeResourceStateRequest) (*tfprotov5.UpgradeResourceStateResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) ReadResource(context.Context, *tfprotov5.ReadResourceRequest) (*tfprotov5.ReadResourceResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) PlanResourceChange(context.Context, *tfprotov5.PlanResourceChangeRequest) (*tfprotov5.PlanResourceChangeResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) ApplyResourceChange(context.Context, *tfprotov5.ApplyResourceChangeRequest) (*tfprotov5.ApplyResourceChangeResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) ImportResourceState(context.Context, *tfprotov5.ImportResourceStateRequest) (*tfprotov5.ImportResourceStateResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) MoveResourceState(context.Context, *tfprotov5.MoveResourceStateRequest) (*tfprotov5.MoveResourceStateResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) UpgradeResourceIdentity(context.Context, *tfprotov5.UpgradeResourceIdentityRequest) (*tfprotov5.UpgradeResourceIdentityResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) GenerateResourceConfig(context.Context, *tfprotov5.GenerateResourceConfigRequest) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) ReadDataSource(context.Context, *tfprotov5.ReadDataSourceRequest) (*tfprotov5.ReadDataSourceResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) CallFunction(context.Context, *tfprotov5.CallFunctionRequest) (*tfprotov5.CallFunctionResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) OpenEphemeralResource(context.Context, *tfprotov5.OpenEphemeralResourceRequest) (*tfprotov5.OpenEphemeralResourceResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) RenewEphemeralResource(context.Context, *tfprotov5.RenewEphemeralResourceRequest) (*tfprotov5.RenewEphemeralResourceResponse, error) {
	return nil, errSchemaOnly
}
func (s *server) CloseEphemeralResource(context.Context, *tfprotov5.CloseEphemeralResourceRequest) (*tfprotov5.CloseEphemeralResourceResponse, error) {
	return nil, errSchemaOnly
}

func main() {
	s, err := load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema:", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "-check" {
		fmt.Printf("%s: %d resources, %d data sources\n", providerAddr, len(s.schema.ResourceSchemas), len(s.schema.DataSourceSchemas))
		return
	}
	if err := tf5server.Serve(providerAddr, func() tfprotov5.ProviderServer { return s }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
GOEOF

cat >"$src/go.mod" <<GOMOD
module exploration-data/schema-shim

go 1.25.0

require github.com/hashicorp/terraform-plugin-go $PLUGIN_GO_VERSION
GOMOD

# --- 3. Schema-only providers, laid out as a filesystem mirror ---------------
mirror="$tfc/mirror"
rm -rf "$mirror.new"
shim_step() {
  local name="$1" version="$2" wheel="$3"
  local work="$src/$name" dest="$mirror.new/$host/hashicorp/$name/$version/$platform"
  mkdir -p "$work" "$dest"
  cp "$src/main.go" "$src/go.mod" "$work/"
  "$py" "$src/cdk2schema.py" "$wheel" "$name" "$version" "$work/schema.json" >"$logs/schema-$name.log" 2>&1 ||
    fail "extracting the $name $version schema" "$logs/schema-$name.log"
  (cd "$work" && measure "provider-$name-build" "$logs/provider-$name-build.log" env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "-s -w -X main.providerAddr=$host/hashicorp/$name" \
    -o "$dest/terraform-provider-${name}_v$version" .) ||
    fail "building the $name schema provider" "$logs/provider-$name-build.log"
  "$dest/terraform-provider-${name}_v$version" -check >>"$logs/schema-$name.log" 2>&1 ||
    fail "loading the $name schema" "$logs/schema-$name.log"
}
(cd "$src" && go mod download -x >"$logs/shim-deps.log" 2>&1) || fail "downloading terraform-plugin-go" "$logs/shim-deps.log"
shim_step google "$GOOGLE_VERSION" "$tfc/wheels/cdktn_provider_google-${GOOGLE_BINDINGS#*==}-py3-none-any.whl"
shim_step archive "$ARCHIVE_VERSION" "$tfc/wheels/cdktn_provider_archive-${ARCHIVE_BINDINGS#*==}-py3-none-any.whl"
rm -rf "$mirror"
mv "$mirror.new" "$mirror"
rm -rf "$src"

cat >"$tfc/tofu.tfrc" <<TFRC
# Written by scripts/terraform-tools.sh: providers come from the local mirror
# only (no registry access); see that script for what the mirror holds.
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["hashicorp/google", "hashicorp/archive"]
  }
}
TFRC

figures="$(summary tofu-build 2>/dev/null || echo 'tofu cached'); $(summary provider-google-build); total $((SECONDS - start)) s"
printf '%s\n%s\n' "$pins" "OpenTofu ${OPENTOFU_VERSION#v}, google $GOOGLE_VERSION + archive $ARCHIVE_VERSION (schema-only); $figures" >"$stamp"
echo "terraform-tools: built in $tfc: $(sed -n 2p "$stamp")"

#!/usr/bin/env bash
# Installs the peer tools nv2's tests run against into $HOME/.cache/nv2/peers (outside the checkout, so a second run is
# fast). Idempotent: a peer already present at the pinned version is not rebuilt.
#
# Peers installed here:
#   conformance  OCI distribution-spec conformance suite, two builds (v1.1.1 as pinned, and the redesigned suite),
#                used by host-registry's conformance test.
#   oras         ORAS CLI v1.3.3, used by host-registry's client interop test.
#   notation     Notation CLI v1.3.2, used by host-registry's sign/verify interop test.
#   regctl       regclient CLI v0.11.5 (`artifact tree`), used by host-registry's client interop test.
#   registry     CNCF distribution registry v3.1.1: the registry without the referrers API (tag-schema fallback
#                tests of nv2's client and `nv2 copy -r`), and the registry benchmark's anchor.
#   opa          Open Policy Agent v1.19.0: `opa test` on the Gatekeeper template's Rego (deploy/gatekeeper).
#   gator        Gatekeeper's offline CLI v3.23.0: `gator verify` on the template, constraint and test objects.
#   SBoM validators  spdx-tools (pyspdxtools) and cyclonedx-python-lib[json-validation] from PyPI, in a venv at
#                $HOME/.cache/nv2/sbom-venv: the SBoM tests validate nv2's SPDX 2.3 and CycloneDX 1.5 output with them.
#   skopeo       Debian package, used by host-registry's image copy test (the only peer not under $PEERS).
# Only with `--bench` or NV2_BENCH_PEERS=1 (the registry benchmark, bench/; the normal CI run does not pay for it):
#   zot          zot registry v2.1.20 (minimal build), performance anchor with referrers. The Go module proxy reachable
#                here refuses every zotregistry.dev/zot/v2 version, so the bench reports it as not measured.
set -euo pipefail

# The Go toolchain lives in /usr/local/go on these machines; CI's PATH may not include it.
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go > /dev/null; then
  echo "install-peers: the Go toolchain is required (go not found)" >&2
  exit 1
fi

PEERS="${NV2_PEERS_DIR:-$HOME/.cache/nv2/peers}"
export GOBIN="$PEERS/bin"
mkdir -p "$GOBIN"

# Two builds of the OCI distribution-spec conformance suite, each used by host-registry/tests/conformance.rs:
#   conformance-v1.1.1  the commit the registry issue pins (a139cc4, distribution-spec v1.1.1; ginkgo, junit.xml).
#                       The module proxy did not always serve it ("version not available"); when it refuses, the
#                       refusal is recorded in $GOBIN/.conformance-v1.1.1-unavailable and the test reports that
#                       instead of passing silently.
#   conformance         the redesigned suite at the newest pseudo-version the proxy serves (pinned): every v1.1
#                       check plus sha512, more data sets and the ?tag= / digest-header workflows. Required.
CONFORMANCE_MODULE=github.com/opencontainers/distribution-spec/conformance

install_conformance() { # <binary> <version> <required: yes|no>
  local bin=$1 version=$2 required=$3
  if [[ -x "$GOBIN/$bin" && "$(cat "$GOBIN/.$bin-version" 2>/dev/null)" == "$version" ]]; then
    echo "install-peers: $bin already built ($version)"
    return
  fi
  local dir refusal
  refusal=$(mktemp)
  dir=$(go mod download -json "$CONFORMANCE_MODULE@$version" 2>"$refusal" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' || true)
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "install-peers: conformance $version not available from the module proxy: $(tr '\n' ' ' < "$refusal")" >&2
    if [[ "$required" == yes ]]; then exit 1; fi
    { date -u +%FT%TZ; cat "$refusal"; } > "$GOBIN/.$bin-unavailable"
    rm -f "$refusal"
    return 0
  fi
  rm -f "$refusal" "$GOBIN/.$bin-unavailable"
  local work="$PEERS/src/$bin"
  rm -rf "$work"
  mkdir -p "$work"
  cp -R "$dir"/. "$work"/
  chmod -R u+w "$work"
  if grep -q '^package main' "$work"/main.go 2>/dev/null; then
    (cd "$work" && CGO_ENABLED=0 go build -buildvcs=false -o "$GOBIN/$bin" .)
  else
    (cd "$work" && CGO_ENABLED=0 go test -c -o "$GOBIN/$bin" -ldflags="-X $CONFORMANCE_MODULE.Version=v1.1.1")
  fi
  echo "$version" > "$GOBIN/.$bin-version"
  echo "install-peers: built $GOBIN/$bin ($version)"
}

install_go_tool() { # <binary> <module/cmd path> <version>
  local bin=$1 pkg=$2 version=$3
  if [[ -x "$GOBIN/$bin" && -f "$GOBIN/.$bin-version" && "$(cat "$GOBIN/.$bin-version")" == "$version" ]]; then
    echo "install-peers: $bin already at $version"
    return
  fi
  CGO_ENABLED=0 go install "$pkg@$version"
  echo "$version" > "$GOBIN/.$bin-version"
  echo "install-peers: installed $bin $version"
}

# `go install notation@v1.3.2` fails here: the proxy refuses the module's version list, which go install reads for
# deprecation notices. Building the same package from a throw-away module that requires the pinned version works.
install_notation() {
  local version=v1.3.2
  if [[ -x "$GOBIN/notation" && -f "$GOBIN/.notation-version" && "$(cat "$GOBIN/.notation-version")" == "$version" ]]
  then
    echo "install-peers: notation already at $version"
    return
  fi
  local work="$PEERS/src/notation"
  rm -rf "$work"
  mkdir -p "$work"
  printf 'module nv2peers/notation\n\ngo 1.24\n' > "$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/notaryproject/notation/cmd/notation"\n' \
    > "$work/tools.go"
  (cd "$work" && go get "github.com/notaryproject/notation/cmd/notation@$version" \
    && CGO_ENABLED=0 go build -o "$GOBIN/notation" github.com/notaryproject/notation/cmd/notation)
  echo "$version" > "$GOBIN/.notation-version"
  echo "install-peers: built notation $version"
}

# Builds <pkg>@<version> like install_go_tool, but falls back to a throw-away module requiring the pinned version
# (the notation work-around) when `go install pkg@version` is refused by the proxy.
install_bench_peer() { # <binary> <module> <cmd package> <version>
  local bin=$1 module=$2 pkg=$3 version=$4
  if [[ -x "$GOBIN/$bin" && -f "$GOBIN/.$bin-version" && "$(cat "$GOBIN/.$bin-version")" == "$version" ]]; then
    echo "install-peers: $bin already at $version"
    return
  fi
  if ! CGO_ENABLED=0 go install "$pkg@$version"; then
    echo "install-peers: go install $pkg@$version failed; trying a throw-away module" >&2
    local work="$PEERS/src/$bin"
    rm -rf "$work"
    mkdir -p "$work"
    printf 'module nv2peers/%s\n\ngo 1.24\n' "$bin" > "$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > "$work/tools.go"
    if ! (cd "$work" && go get "$module@$version" && CGO_ENABLED=0 go build -o "$GOBIN/$bin" "$pkg"); then
      # A benchmark peer is optional: the bench reports it as not measured instead of failing the whole install.
      echo "install-peers: could not build $bin $version (module proxy refused it); the bench marks it n/a" >&2
      return 0
    fi
  fi
  echo "$version" > "$GOBIN/.$bin-version"
  echo "install-peers: installed $bin $version"
}

if [[ "${1:-}" == "--bench" || "${NV2_BENCH_PEERS:-0}" == "1" ]]; then
  install_bench_peer zot zotregistry.dev/zot/v2 zotregistry.dev/zot/v2/cmd/zot v2.1.20
  install_bench_peer registry github.com/distribution/distribution/v3 \
    github.com/distribution/distribution/v3/cmd/registry v3.1.1
  if [[ "${1:-}" == "--bench" ]]; then exit 0; fi
fi

install_conformance conformance-v1.1.1 a139cc423184af6078077b9b7ee336eddbd03f8f no
install_conformance conformance v0.0.0-20260831232431-97274622c111 yes
install_go_tool oras oras.land/oras/cmd/oras v1.3.3
install_notation
install_go_tool regctl github.com/regclient/regclient/cmd/regctl v0.11.5
install_go_tool opa github.com/open-policy-agent/opa v1.19.0
install_go_tool gator github.com/open-policy-agent/gatekeeper/v3/cmd/gator v3.23.0
install_bench_peer registry github.com/distribution/distribution/v3 \
  github.com/distribution/distribution/v3/cmd/registry v3.1.1
if [[ ! -x "$GOBIN/registry" && "${CI:-}" == "true" ]]; then
  echo "install-peers: the distribution registry is required in CI" >&2
  exit 1
fi

if ! command -v skopeo > /dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq skopeo
  else
    echo "install-peers: skopeo missing and not root; install it with apt-get install skopeo" >&2
  fi
fi

# SBoM validators in a venv of their own (idempotent: reinstalled only when the pinned set changes).
SBOM_VENV="${NV2_CACHE:-$HOME/.cache/nv2}/sbom-venv"
SBOM_PACKAGES="spdx-tools==0.8.5 cyclonedx-python-lib[json-validation]==11.12.0"
if [[ ! -x "$SBOM_VENV/bin/pyspdxtools" || "$(cat "$SBOM_VENV/.packages" 2>/dev/null)" != "$SBOM_PACKAGES" ]]; then
  python3 -m venv "$SBOM_VENV"
  # shellcheck disable=SC2086
  if "$SBOM_VENV/bin/pip" install -q $SBOM_PACKAGES; then
    echo "$SBOM_PACKAGES" > "$SBOM_VENV/.packages"
    echo "install-peers: installed SBoM validators in $SBOM_VENV"
  else
    echo "install-peers: could not install the SBoM validators ($SBOM_PACKAGES)" >&2
    [[ "${CI:-}" == "true" ]] && exit 1
  fi
else
  echo "install-peers: SBoM validators already installed"
fi

# What the tests read to find the peers (sourced by .ci/test).
cat > "$PEERS/env" <<ENV
export PATH="$GOBIN:\$PATH"
export NV2_PEERS_DIR="$PEERS"
export NV2_PYSPDXTOOLS="$SBOM_VENV/bin/pyspdxtools"
export NV2_SBOM_PYTHON="$SBOM_VENV/bin/python"
ENV

#!/usr/bin/env bash
# Runs every nv2-core cargo-fuzz target for N seconds (default 10) and prints the executions per target.
# Usage: .ci/fuzz-smoke.sh [seconds] [target...]. Needs the nightly toolchain and cargo-fuzz; skips (exit 0) without
# them. Corpora are seeded from the public fixture corpus ($NV2_CORPUS_DIR or shared/fixtures/notation above the
# checkout) into core/fuzz/corpus/<target> (gitignored). Not run by CI by default.
set -euo pipefail
cd "$(dirname "$0")/../core"

seconds="${1:-10}"
shift || true
export CARGO_TARGET_DIR="${NV2_FUZZ_TARGET_DIR:-$HOME/.cache/nv2/fuzz-target}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly' || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: nightly toolchain or cargo-fuzz missing; skipped" >&2
  exit 0
fi

fixtures="${NV2_CORPUS_DIR:-}"
if [ -z "$fixtures" ]; then
  dir="$PWD"
  while [ "$dir" != / ]; do
    if [ -f "$dir/shared/fixtures/notation/cases.json" ]; then fixtures="$dir/shared/fixtures/notation"; break; fi
    dir="$(dirname "$dir")"
  done
fi

all_targets=(manifest reference jws cose certificate_chain trust_policy timestamp pipeline)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# seed <target> <file>...: copies fixture files into the target's corpus (content-addressed names).
seed() {
  local target="$1"; shift
  mkdir -p "fuzz/corpus/$target"
  for file in "$@"; do
    [ -f "$file" ] && cp "$file" "fuzz/corpus/$target/seed-$(sha256sum "$file" | cut -c1-16)"
  done
  return 0
}

# The pipeline input is: flags byte, u16 big-endian manifest length, manifest, envelope.
pipeline_seed() {
  local flags="$1" manifest="$2" envelope="$3" out len
  out="fuzz/corpus/pipeline/seed-$flags-$(basename "$envelope")"
  len=$(stat -c %s "$manifest")
  [ "$len" -lt 65536 ] || return 0
  { printf "\\x$(printf %02x "$flags")\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))"
    cat "$manifest" "$envelope"; } > "$out"
}

if [ -n "$fixtures" ]; then
  f="$fixtures"
  seed manifest "$f"/oci-layouts/*/index.json $(find "$f/oci-layouts" -path '*blobs/sha256/*' -size -8k | head -40) \
    "$f"/targets/sha256/*
  mkdir -p fuzz/corpus/reference
  for r in ubuntu docker.io/library/ubuntu:22.04 localhost:5000/net-monitor:v1 \
    "registry.example.com:443/a/b/c@sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0" \
    "[::1]:5000/repo:tag"; do
    printf %s "$r" > "fuzz/corpus/reference/seed-$(printf %s "$r" | sha256sum | cut -c1-16)"
  done
  seed jws $(grep -l '"protected"' "$f"/envelopes/*/*/* 2>/dev/null)
  seed cose $(grep -L '"protected"' "$f"/envelopes/*/*/* 2>/dev/null)
  seed certificate_chain $(find "$f/certs" "$f/truststores" "$f/revocation" -type f -size -16k | head -60)
  seed trust_policy $(find "$f/trustpolicies" -type f)
  seed timestamp $(find "$f/timestamp-tokens" -type f)
  mkdir -p fuzz/corpus/pipeline
  manifest="$f/targets/sha256/19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
  for env in "$f"/envelopes/notation-go/internal/*.sig; do
    flags=2; case "$env" in *cose*) flags=3 ;; esac
    pipeline_seed "$flags" "$manifest" "$env"
  done
fi

printf '%-20s %12s %s\n' target executions result
status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  log="$(mktemp)"
  if cargo +nightly fuzz run "$target" -O -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log)"
    status=1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  [ -n "$runs" ] || runs=$(grep -Eo '^#[0-9]+[[:space:]]+DONE' "$log" | grep -Eo '[0-9]+' | tail -1)
  printf '%-20s %12s %s\n' "$target" "${runs:-?}" "$result"
  [ "$result" = ok ] && rm -f "$log"
done
exit "$status"

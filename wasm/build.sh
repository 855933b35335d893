#!/usr/bin/env bash
# Builds the two wasm faces of the core into wasm/dist/ and prints their sizes before and after wasm-opt.
# Idempotent: installs what is missing (the wasm32 target, wasm-bindgen-cli of the exact version in Cargo.lock
# into $NV2_CACHE/cargo-bin, binaryen's wasm-opt of the pinned version from the npm registry into
# $NV2_CACHE/binaryen), rebuilds only what changed, replaces outputs atomically.
#
#   wasm/dist/nv2-policy.wasm     the policy module: no imports, ABI in wasm/README.md; built for speed with
#                                 `cargo build-policy-module` (.cargo/config.toml: profile wasm-speed, the
#                                 wide-arithmetic proposal), then wasm-opt -O3: it sits on the admission path
#   wasm/dist/browser/            the wasm-bindgen package (--target web): nv2_wasm.js, nv2_wasm_bg.wasm, .d.ts;
#                                 built for size (profile wasm-release, wasm-opt -Oz): browsers download it
#
# Usage: bash wasm/build.sh [--check]
#   --check  also lints both crates for wasm32 (clippy -D warnings), loads the browser package in node when node is
#            installed (wasm/browser/smoke.mjs), and runs the differential test against the optimised module in
#            dist/ (NV2_POLICY_WASM), so what ships is what was compared.
set -euo pipefail
cd "$(dirname "$0")/.."

NV2_CACHE="${NV2_CACHE:-$HOME/.cache/nv2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NV2_CACHE/target}"
TOOLS="$NV2_CACHE/cargo-bin"
TARGET=wasm32-unknown-unknown
PROFILE=wasm-release
POLICY_PROFILE=wasm-speed # the profile of the build-policy-module alias (.cargo/config.toml)
OUT=wasm/dist
BUILT="$CARGO_TARGET_DIR/$TARGET/$PROFILE"
POLICY_BUILT="$CARGO_TARGET_DIR/$TARGET/$POLICY_PROFILE"
# binaryen 130 was the first to know the wide-arithmetic proposal (Debian's 108 cannot read the policy module); the
# npm package is binaryen compiled to wasm, run by node.
BINARYEN_VERSION=132.0.0
BINARYEN="$NV2_CACHE/binaryen/node_modules/binaryen/bin"
# The features rustc enables for wasm32-unknown-unknown by default; wasm-opt must accept them.
WASM_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-multivalue --enable-reference-types)
# The policy module also uses the wide-arithmetic proposal (.cargo/config.toml, alias build-policy-module).
POLICY_FEATURES=("${WASM_FEATURES[@]}" --enable-wide-arithmetic)
CHECK=false
[ "${1:-}" = "--check" ] && CHECK=true

step() { printf '\n==> %s\n' "$*"; }
size() { stat -c %s "$1"; }
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

step "tools"
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
bindgen_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
[ -n "$bindgen_version" ] || { echo "wasm-bindgen is not in Cargo.lock" >&2; exit 1; }
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $bindgen_version"; then
  # --locked first (the CLI's own lock file); a registry that lacks one of its locked versions gets the newest
  # compatible ones instead, the version of the CLI itself staying exact.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked --root "$TOOLS" \
    || cargo install wasm-bindgen-cli --version "$bindgen_version" --root "$TOOLS"
fi
if ! "$BINARYEN/wasm-opt" --version 2>/dev/null | grep -q "^wasm-opt version ${BINARYEN_VERSION%%.*} "; then
  command -v npm >/dev/null || { echo "npm is needed to install binaryen $BINARYEN_VERSION" >&2; exit 1; }
  npm install --no-audit --no-fund --prefix "$NV2_CACHE/binaryen" "binaryen@$BINARYEN_VERSION"
fi
wasm_opt() { "$BINARYEN/wasm-opt" "$@"; }
echo "wasm-bindgen $bindgen_version, $(wasm_opt --version)"

step "build (policy module: profile $POLICY_PROFILE; browser package: profile $PROFILE; $TARGET)"
# Two invocations, so the policy module's features are its own (as when the differential test builds it).
cargo build-policy-module --locked
cargo build -p nv2-wasm --profile "$PROFILE" --target "$TARGET" --locked

step "policy module"
mkdir -p "$OUT/browser"
wasm_opt -O3 "${POLICY_FEATURES[@]}" --strip-debug --strip-producers "$POLICY_BUILT/nv2_policy_wasm.wasm" \
  -o "$OUT/nv2-policy.wasm.tmp"
imports=$("$BINARYEN/wasm-dis" "$OUT/nv2-policy.wasm.tmp" | grep -c '^ *(import ' || true)
[ "$imports" = 0 ] || { echo "the policy module has $imports imports; it must have none" >&2; exit 1; }
mv "$OUT/nv2-policy.wasm.tmp" "$OUT/nv2-policy.wasm"

step "browser package"
# wasm-opt runs before wasm-bindgen, so it never rewrites the externref table wasm-bindgen adds (binaryen 108
# exported the wrong one, which the JS glue then could not initialise). The file keeps its name, so the glue is
# nv2_wasm.js. No wide-arithmetic here: browsers do not ship the proposal.
rm -rf "$OUT/browser.tmp" && mkdir -p "$OUT/browser.tmp/opt"
wasm_opt -Oz "${WASM_FEATURES[@]}" "$BUILT/nv2_wasm.wasm" -o "$OUT/browser.tmp/opt/nv2_wasm.wasm"
"$TOOLS/bin/wasm-bindgen" --target web --out-dir "$OUT/browser.tmp" "$OUT/browser.tmp/opt/nv2_wasm.wasm"
rm -rf "$OUT/browser.tmp/opt"
rm -rf "$OUT/browser" && mv "$OUT/browser.tmp" "$OUT/browser"

step "sizes"
printf '%-34s %14s %14s %14s\n' artifact "cargo" "wasm-opt" "gzip -9"
printf '%-34s %14s %14s %14s\n' "policy module (nv2-policy.wasm)" "$(kib "$(size "$POLICY_BUILT/nv2_policy_wasm.wasm")")" \
  "$(kib "$(size "$OUT/nv2-policy.wasm")")" "$(kib "$(gzip -9c "$OUT/nv2-policy.wasm" | wc -c)")"
printf '%-34s %14s %14s %14s\n' "browser (nv2_wasm_bg.wasm)" "$(kib "$(size "$BUILT/nv2_wasm.wasm")")" \
  "$(kib "$(size "$OUT/browser/nv2_wasm_bg.wasm")")" "$(kib "$(gzip -9c "$OUT/browser/nv2_wasm_bg.wasm" | wc -c)")"
echo "(policy module: wasm-opt -O3; browser: cargo output, wasm-opt -Oz, then wasm-bindgen)"

if $CHECK; then
  step "clippy for $TARGET"
  cargo clippy -p nv2-policy-wasm --target "$TARGET" --locked -- -D warnings
  cargo clippy -p nv2-wasm --target "$TARGET" --locked -- -D warnings
  if command -v node >/dev/null; then
    step "browser package in node"
    # A real notation envelope from the fixture corpus, found as the core's tests find it.
    corpus="${NV2_CORPUS_DIR:-}" dir="$PWD"
    while [ -z "$corpus" ] && [ "$dir" != / ]; do
      [ -f "$dir/shared/fixtures/notation/cases.json" ] && corpus="$dir/shared/fixtures/notation"
      dir=$(dirname "$dir")
    done
    envelope="$corpus/envelopes/notation-go/mock/ca_valid_sig_env.json"
    [ -f "$envelope" ] || envelope=""
    node wasm/browser/smoke.mjs "$OUT/browser" $envelope
  fi
  step "differential test against $OUT/nv2-policy.wasm"
  NV2_POLICY_WASM="$PWD/$OUT/nv2-policy.wasm" cargo test -p nv2-wasm-differential --locked -- --nocapture 2>&1 \
    | grep -E '^(differential:|test result|  )'
fi

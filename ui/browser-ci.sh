#!/usr/bin/env bash
# CI for CoUp in the browser, from a fresh machine: Chromium (Debian's, never a
# downloaded one) and Node, the server with its embedded web UI, the check that
# the browser's API types match the server's OpenAPI document, the Playwright
# suite (ui/e2e-browser/tests) against the real server — with a call between
# Chromium and the native engine's headless peer (examples/call_peer) — and the
# size and first-load budgets (ui/e2e-browser/measure.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

echo "== browser: system packages"
MISSING=()
command -v chromium >/dev/null 2>&1 || MISSING+=(chromium)
command -v npm >/dev/null 2>&1 || MISSING+=(nodejs npm)
# Korean text in the screenshots.
dpkg -s fonts-nanum >/dev/null 2>&1 || MISSING+=(fonts-nanum)
# The native peer's codecs (coup-core feature `media`): libvpx (VP8), libopus,
# libclang (vpx-rs generates its bindings), cmake (the opus crate's fallback).
for p in libvpx-dev libopus-dev libclang-dev clang cmake pkg-config; do
  dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "installing: ${MISSING[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

echo "== browser: coup-server with the web UI (build.rs builds ui/ with npm)"
cargo build --locked -p coup-server
export COUP_E2E_SERVER_BIN="$CARGO_TARGET_DIR/debug/coup-server"

echo "== browser: the native call peer (examples/call_peer, feature media)"
cargo build --locked -p coup-core --features media --example call_peer
export COUP_E2E_CALL_PEER_BIN="$CARGO_TARGET_DIR/debug/examples/call_peer"

echo "== browser: suite tools (playwright-core, openapi-typescript)"
(cd ui/e2e-browser && npm ci --no-audit --no-fund --loglevel=error)

echo "== browser: API types match the server's OpenAPI document"
node ui/e2e-browser/api-types.mjs --check

echo "== browser: Playwright suite (Chromium against the real server)"
(cd ui/e2e-browser && npm test)

echo "== browser: first-load size and time budgets"
node ui/e2e-browser/measure.mjs >/dev/null
echo "browser CI passed"

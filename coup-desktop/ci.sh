#!/usr/bin/env bash
# CI for the desktop app and the shared UI, from a fresh machine: system
# packages, the UI (npm ci, typecheck, lint, Vitest, build), the Rust shell
# (build, clippy, tests on Tauri's mock runtime), tauri-driver, and the
# end-to-end test under Xvfb against a real coup-server (with the headless
# call peer in a call with the app).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Its own build cache (Tauri and WebKit bindings are big; kept warm between runs).
export CARGO_TARGET_DIR="${COUP_DESKTOP_TARGET_DIR:-/var/cache/coup-ci/desktop-target}"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
TOOLS="${COUP_DESKTOP_TOOLS:-/var/cache/coup-desktop/tools}"
mkdir -p "$CARGO_TARGET_DIR" "$TOOLS"

echo "== desktop: system packages"
PACKAGES=(libwebkit2gtk-4.1-dev build-essential file libssl-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev libdbus-1-dev pkg-config xvfb xauth webkit2gtk-driver imagemagick
  fonts-nanum curl python3
  # The call engine (coup-core feature `media`): VP8, Opus, the bindings vpx-rs
  # generates, and ALSA for remote audio.
  libvpx-dev libopus-dev libclang-dev clang cmake libasound2-dev)
MISSING=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "installing: ${MISSING[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

echo "== desktop: UI (npm ci, typecheck, lint, unit tests, build)"
(
  cd ui
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent typecheck
  npm run --silent lint
  npx vitest run
  npm run --silent build
)

echo "== desktop: rustfmt, clippy, build"
cargo fmt -p coup-desktop -- --check
cargo clippy --locked -p coup-desktop --all-targets -- -D warnings
cargo build --locked -p coup-desktop -p coup-server
# The headless call peer of the end-to-end call step.
cargo build --locked -p coup-core --features media --example call_peer

echo "== desktop: Rust tests (Tauri mock runtime)"
cargo test --locked -p coup-desktop

echo "== desktop: tauri-driver"
if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
  cargo install tauri-driver --locked --root "$TOOLS"
fi

echo "== desktop: end to end (Xvfb, tauri-driver + WebKitWebDriver, real coup-server)"
TAURI_DRIVER="$TOOLS/bin/tauri-driver" bash "$ROOT/coup-desktop/e2e/run.sh"
echo "desktop CI passed"

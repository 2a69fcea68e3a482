#!/usr/bin/env bash
# CI for the call engine (coup-core feature `media`), from a fresh machine: the
# codec libraries and Xvfb, lints with the feature, the engine's unit tests, the
# headless peer's CLI, and the media tests against a real coup-server on
# loopback (with an Xvfb display for the X11 screen-share test).
set -euo pipefail
cd "$(dirname "$0")/.."

# The caller's build cache (CI shares one): webrtc and the codecs are only
# compiled here, by the `media` feature, never by the workspace's default build.
export CARGO_TARGET_DIR="${COUP_MEDIA_TARGET_DIR:-${CARGO_TARGET_DIR:-/var/cache/coup-ci/target}}"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"

echo "== media: system packages"
# libvpx (VP8), libopus (Opus), libclang (vpx-rs generates its libvpx bindings),
# cmake (the opus crate's fallback build), Xvfb for the screen-share test.
PACKAGES=(libvpx-dev libopus-dev libclang-dev clang cmake pkg-config build-essential xvfb xauth)
MISSING=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if [ "${#MISSING[@]}" -gt 0 ]; then
  echo "installing: ${MISSING[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

echo "== media: clippy with the feature"
cargo clippy --locked -p coup-core --features media --all-targets -- -D warnings
cargo clippy --locked -p coup-core --no-default-features --features media -- -D warnings

echo "== media: the engine's unit tests (rules, pattern, codecs, pixel conversions, camera)"
cargo test --locked -p coup-core --no-default-features --features media --lib media::

echo "== media: the headless peer"
cargo run --locked -q -p coup-core --features media --example call_peer -- --help >/dev/null

echo "== media: calls against the real server (loopback, Xvfb)"
cargo build --locked -q -p coup-server
export COUP_SERVER_BIN="$CARGO_TARGET_DIR/debug/coup-server"
# A display number nobody holds (a lock left by an earlier run counts as held).
DISPLAY_NO=97
while [ -e "/tmp/.X$DISPLAY_NO-lock" ]; do DISPLAY_NO=$((DISPLAY_NO + 1)); done
Xvfb ":$DISPLAY_NO" -screen 0 640x480x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
trap 'kill "$XVFB" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$DISPLAY_NO" ] && break; sleep 0.1; done
export DISPLAY=":$DISPLAY_NO"
# One test at a time: each runs up to four peers encoding video on two cores.
cargo test --locked -p coup-core --features media --test media_calls -- --test-threads=1

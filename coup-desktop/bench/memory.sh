#!/usr/bin/env bash
# The desktop app's memory and launch time (BENCHMARKS.md, "Desktop app"): the
# release app under Xvfb through tauri-driver against a real coup-server, with
# 1,000 messages scrolled through, then live chat at 1 msg/s.
#
#   bash coup-desktop/bench/memory.sh [MINUTES]    # live-chat duration, default 10
#
# COUP_DESKTOP_WEBKIT=stock measures WebKit's default settings instead of the
# app's (src/webview.rs); WebKit's and JSC's environment variables (WEBKIT_*,
# JSC_*) reach the app's processes. COUP_BENCH_LABEL names the run.
# Results: coup-desktop/bench/out/memory.txt (appended), or
# $COUP_BENCH_OUT/memory.txt (runs side by side each with its own).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/coup-desktop/target}" CARGO_INCREMENTAL=0
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build)
cargo build --locked --release -p coup-desktop
cargo build --locked -p coup-server
MINUTES="${1:-10}"
OUT="${COUP_BENCH_OUT:-$(pwd)/coup-desktop/bench/out}"
mkdir -p "$OUT"
E2E_PROFILE=release E2E_SCRIPT="$(pwd)/coup-desktop/e2e/bench_memory.py" \
  E2E_OUT_DIR="$OUT" BENCH_MINUTES="$MINUTES" \
  E2E_TIMEOUT=$(( ${MINUTES%.*} * 60 + 1200 )) \
  bash coup-desktop/e2e/run.sh

#!/usr/bin/env bash
# The benchmark in miniature, for CI: 300 clients chatting for 5 seconds against
# CoUp and against the Socket.IO peer. Fails if a connection fails or drops or a
# delivery is lost; prints timings without judging them (CI machines are noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --locked -p coup-server -p coup-loadgen
(cd bench/peers/socketio && npm ci --no-audit --no-fund --loglevel=error)

"$CARGO_TARGET_DIR/debug/coup-loadgen" smoke \
  --coup-server "$CARGO_TARGET_DIR/debug/coup-server" "$@"

#!/usr/bin/env bash
# Reruns the whole benchmark (about 15 minutes): builds coup-server and
# coup-loadgen in release mode, installs the Socket.IO peer from its lockfile, runs
# every scenario against CoUp and against Socket.IO alternately, and rewrites
# bench/results/ and the generated section of BENCHMARKS.md. Arguments are passed
# to `coup-loadgen suite` (e.g. --scenarios chat-1k,idle-1k; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --locked --release -p coup-server -p coup-loadgen
(cd bench/peers/socketio && npm ci --no-audit --no-fund --loglevel=error)

# Both servers and the load generator need a descriptor per connection.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt 20000 ]; then
  echo "note: open files are capped at $(ulimit -n); idle-19k needs 20000" >&2
fi

COUP_BENCH_COMMAND="bash bench/run.sh${*:+ $*}" exec "$CARGO_TARGET_DIR/release/coup-loadgen" suite \
  --coup-server "$CARGO_TARGET_DIR/release/coup-server" "$@"

#!/usr/bin/env bash
# End-to-end test of the desktop app: a real coup-server on an ephemeral port, the
# real app under Xvfb driven over WebDriver (tauri-driver + Debian's
# WebKitWebDriver), a second client on the REST API, and the headless call
# peer (examples/call_peer) in a call with the app. Screenshots go to
# coup-desktop/e2e/out/. Expects the binaries built (coup-desktop/ci.sh does).
#
# The same setup runs the memory benchmark (coup-desktop/bench/memory.sh):
# E2E_SCRIPT picks the Python script, E2E_PROFILE the app's build
# (debug or release), E2E_OUT_DIR where results go, E2E_TIMEOUT its
# time limit in seconds.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
TARGET="${CARGO_TARGET_DIR:-$HERE/../../target}"
APP="$TARGET/${E2E_PROFILE:-debug}/coup-desktop"
SCRIPT="${E2E_SCRIPT:-$HERE/test_app.py}"
SERVER_BIN="$TARGET/debug/coup-server"
TAURI_DRIVER="${TAURI_DRIVER:-$(command -v tauri-driver || echo /var/cache/coup-desktop/tools/bin/tauri-driver)}"
NATIVE_DRIVER="${NATIVE_DRIVER:-/usr/bin/WebKitWebDriver}"
# The headless call peer (built as ui/browser-ci.sh builds it for the browser's call test).
CALL_PEER_BIN="${COUP_E2E_CALL_PEER_BIN:-$TARGET/debug/examples/call_peer}"
NEEDED=("$APP" "$SERVER_BIN" "$TAURI_DRIVER" "$NATIVE_DRIVER")
# Only the e2e test makes a call (the memory benchmark does not).
[ "$SCRIPT" = "$HERE/test_app.py" ] && NEEDED+=("$CALL_PEER_BIN")
for f in "${NEEDED[@]}"; do
  [ -x "$f" ] || { echo "missing $f (run coup-desktop/ci.sh, or build it)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/coup-e2e.XXXXXX)
OUT="${E2E_OUT_DIR:-$HERE/out}"
{ [ -n "${E2E_OUT_DIR:-}" ] || rm -rf "$OUT"; } && mkdir -p "$OUT" "$WORK/control" "$WORK/server" "$WORK/app" "$WORK/downloads"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${WATCH_PID:-}" ] && kill "$WATCH_PID" 2>/dev/null || true
  # The server of the last start (the watcher restarts it in its own shell).
  [ -f "$WORK/server.pid" ] && kill "$(cat "$WORK/server.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A display of our own: one whose lock nobody holds (other suites run Xvfb too).
DISPLAY_NUM=$(( 90 + RANDOM % 100 ))
while [ -e "/tmp/.X$DISPLAY_NUM-lock" ]; do DISPLAY_NUM=$(( DISPLAY_NUM + 1 )); done
Xvfb ":$DISPLAY_NUM" -screen 0 1280x860x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NUM"
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break; sleep 0.1; done

# The server reads every COUP_* variable as configuration: not the app's or the benchmark's.
NOT_THE_SERVERS=(-u COUP_DESKTOP_WEBKIT -u COUP_BENCH_LABEL -u COUP_BENCH_HISTORY -u COUP_BENCH_OUT)
start_server() {  # $1: address to bind
  env "${NOT_THE_SERVERS[@]}" "$SERVER_BIN" --bind "$1" --data-dir "$WORK/server" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  echo "$SERVER_PID" >"$WORK/server.pid"
  for _ in $(seq 1 100); do
    ADDR=$(sed -nE 's/.*listening on http:\/\/([0-9.:]+).*/\1/p' "$WORK/server.log" | tail -1)
    if [ -n "$ADDR" ] && curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
# A platform administrator for the suspension step.
ADMIN_EMAIL="admin@coup.test" ADMIN_PASSWORD="e2e-admin-correct-horse-battery"
COUP_ADMIN_PASSWORD="$ADMIN_PASSWORD" env "${NOT_THE_SERVERS[@]}" "$SERVER_BIN" --data-dir "$WORK/server" create-admin \
  --email "$ADMIN_EMAIL" --name "Admin Choi" >>"$WORK/server.log" 2>&1
start_server 127.0.0.1:0
BOUND=$ADDR
echo "server on http://$BOUND"

# The test asks for the server to stop and start (the offline step) through files.
(
  while true; do
    if [ -e "$WORK/control/stop" ]; then
      kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
      rm -f "$WORK/control/stop"
    fi
    if [ -e "$WORK/control/start" ]; then
      start_server "$BOUND"
      rm -f "$WORK/control/start"
    fi
    sleep 0.1
  done
) &
WATCH_PID=$!

PORT=$(( 4444 + RANDOM % 1000 ))
# The app's call media on loopback, as the peer's (--loopback); the test
# pattern as its camera (this machine has none), read back at the peer.
COUP_DESKTOP_DATA_DIR="$WORK/app" COUP_DESKTOP_TOKEN_STORE=file COUP_DESKTOP_MEDIA_BIND=127.0.0.1:0 COUP_DESKTOP_CAMERA=pattern COUP_DESKTOP_DOWNLOAD_DIR="$WORK/downloads" \
  "$TAURI_DRIVER" --port "$PORT" --native-port $(( PORT + 1 )) --native-driver "$NATIVE_DRIVER" \
  >"$WORK/tauri-driver.log" 2>&1 &
PIDS+=($!)

set +e
COUP_E2E_SERVER="http://$BOUND" COUP_E2E_APP="$APP" COUP_E2E_CALL_PEER_BIN="$CALL_PEER_BIN" COUP_E2E_DRIVER="http://127.0.0.1:$PORT" \
  COUP_E2E_OUT="$OUT" COUP_E2E_CONTROL="$WORK/control" COUP_E2E_WORK="$WORK" COUP_BENCH_MINUTES="${BENCH_MINUTES:-10}" \
  COUP_E2E_ADMIN_EMAIL="$ADMIN_EMAIL" COUP_E2E_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  timeout "${E2E_TIMEOUT:-900}" python3 "$SCRIPT"
STATUS=$?
set -e
if [ "$STATUS" -ne 0 ]; then
  echo "--- tauri-driver log"; tail -40 "$WORK/tauri-driver.log"
  echo "--- server log"; tail -20 "$WORK/server.log"
fi
ls "$OUT"
exit "$STATUS"

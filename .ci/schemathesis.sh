#!/usr/bin/env bash
# Attacks the real server through its own OpenAPI document with schemathesis
# (pinned, from PyPI, in a venv this script makes): every operation with
# generated valid and invalid input, then stateful sequences, within a time
# budget. Fails on any server error (5xx) or any status the document does not
# list for the operation.
#
#   bash .ci/schemathesis.sh            # 180 s budget
#   SCHEMATHESIS_MAX_TIME=60 bash .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
BUDGET="${SCHEMATHESIS_MAX_TIME:-180}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
VENV="${SCHEMATHESIS_VENV:-$CARGO_TARGET_DIR/schemathesis-$VERSION}"

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$VERSION"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build --locked -p coup-server
BIN="$CARGO_TARGET_DIR/debug/coup-server"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The server refuses unknown COUP_* variables; start it with none of the caller's.
: >"$WORK/stdout"
env $(env | sed -n 's/^\(COUP_[A-Z0-9_]*\)=.*/-u \1/p') RUST_LOG=warn \
  "$BIN" --bind 127.0.0.1:0 --data-dir "$WORK/data" --demo >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 120); do
  BASE="$(sed -n 's/^listening on //p' "$WORK/stdout" | head -n 1)"
  [ -n "$BASE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/stderr" >&2; echo "the server did not start" >&2; exit 1; }
  sleep 0.5
done
[ -n "$BASE" ] || { echo "the server did not say where it listens" >&2; exit 1; }

# A SYSTEM_ADMIN's session, so the admin operations are reached too.
TOKEN="$(curl -sf -X POST "$BASE/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"admin@example.com","password":"study-together-42"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

# Logout would end the session the run uses; everything else is fair game.
"$VENV/bin/schemathesis" run "$BASE/api/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance \
  --exclude-path /api/auth/logout \
  --max-time "$BUDGET" --workers 2 --seed 13 \
  --request-timeout 30 \
  --warnings off

kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server died during the run" >&2; exit 1; }
# 5xx answers are logged at ERROR ("request failed"); there must be none.
if grep -q "request failed" "$WORK/stderr"; then
  grep "request failed" "$WORK/stderr" | head -n 20 >&2
  echo "the server answered with internal errors" >&2
  exit 1
fi
echo "schemathesis: no server errors, no undocumented statuses"

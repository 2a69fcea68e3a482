#!/usr/bin/env bash
# Call benchmark on loopback: N headless peers (the call_peer example) in one
# study's call against a fresh coup-server, each sending the 640×480 test
# pattern and a tone to everyone else for SECS seconds after a warm-up. Prints
# each peer's JSON report and a summary line per peer: received fps (worst
# track), frame-timestamp → decoded latency p95 (worst track), CPU % of one
# core. With JOINS=k it instead joins k 2-person calls one after the other and
# prints the join → first decoded remote frame times.
#
#   bash bench/calls.sh 2 60        # 1:1 call, 60 s
#   bash bench/calls.sh 4 60        # 4-way mesh
#   JOINS=20 bash bench/calls.sh    # join → first frame, 20 calls
#
# Needs curl, jq and /usr/bin/time; builds what it runs (debug profile, the
# workspace's own; set PROFILE=release for optimised Rust code).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2}
SECS=${2:-60}
WARM=${WARM:-5}
PROFILE=${PROFILE:-debug}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/coup-calls/target}"
FLAG=(); [ "$PROFILE" = release ] && FLAG=(--release)
cargo build -q "${FLAG[@]}" -p coup-server
cargo build -q "${FLAG[@]}" -p coup-core --features media --example call_peer
BIN="$CARGO_TARGET_DIR/$PROFILE"
OUT=$(mktemp -d)
"$BIN/coup-server" --bind 127.0.0.1:0 --data-dir "$OUT/data" >"$OUT/server.out" 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$OUT/server.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^listening on //p' "$OUT/server.out")
PASS=study-together-42

signup() { # name → token
  curl -sf -X POST "$BASE/api/auth/signup" -H 'content-type: application/json' \
    -d "{\"email\":\"$1@example.com\",\"password\":\"$PASS\",\"name\":\"$1\"}" | jq -r .token
}
new_study() { # owner token → study id
  curl -sf -X POST "$BASE/api/studies" -H 'content-type: application/json' -H "authorization: Bearer $1" \
    -d '{"name":"Bench","description":"calls","category":"프로그래밍","tags":[],"maxMembers":10,"isPublic":true,"joinPolicy":"AUTO","isRecruiting":true}' | jq -r .id
}
join_study() { # token study
  curl -sf -X POST "$BASE/api/studies/$2/join" -H 'content-type: application/json' -H "authorization: Bearer $1" -d '{}' >/dev/null
}
peer() { # name study seconds warmup → runs call_peer, JSON to $OUT/name.json, times to $OUT/name.time
  /usr/bin/time -f "%U %S %e" -o "$OUT/$1.time" "$BIN/examples/call_peer" --server "$BASE" --loopback \
    --email "$1@example.com" --password "$PASS" --study "$2" --seconds "$3" --warmup "$4" \
    --cache "$OUT/$1.db" 2>/dev/null | tail -1 >"$OUT/$1.json"
}

if [ -n "${JOINS:-}" ]; then
  for i in $(seq 1 "$JOINS"); do
    a="a$i"; b="b$i"
    ta=$(signup "$a"); tb=$(signup "$b"); s=$(new_study "$ta"); join_study "$tb" "$s"
    peer "$a" "$s" 6 0 & pa=$!
    sleep 1 # b joins a call in progress: its join → first frame is what is timed
    peer "$b" "$s" 4 0
    wait $pa
    jq -r '[.tracks[] | select(.track=="camera") | .firstFrameMs] | first // "none"' "$OUT/$b.json"
  done | tee "$OUT/joins.txt"
  sort -n "$OUT/joins.txt" | awk '{v[NR]=$1} END {i=int((NR-1)*0.95+0.5)+1; printf "join → first frame over %d calls: p50 %s ms, p95 %s ms, max %s ms\n", NR, v[int((NR+1)/2)], v[i], v[NR]}'
  exit 0
fi

tokens=(); for i in $(seq 1 "$N"); do tokens+=("$(signup "p$i")"); done
S=$(new_study "${tokens[0]}")
for i in $(seq 2 "$N"); do join_study "${tokens[$((i - 1))]}" "$S"; done
PEERS=()
for i in $(seq 1 "$N"); do peer "p$i" "$S" $((SECS + WARM)) "$WARM" & PEERS+=($!); done
# The peers only: a bare `wait` would wait for the server too, forever.
wait "${PEERS[@]}"
for i in $(seq 1 "$N"); do
  cat "$OUT/p$i.json"
  read -r u s e <"$OUT/p$i.time"
  jq -r --arg cpu "$(echo "$u $s $e" | awk '{printf "%.0f", ($1+$2)/$3*100}')" \
    '[.tracks[] | select(.track=="camera")] as $v | [.tracks[] | select(.track=="mic")] as $a |
     "p\(.user[0:8]): \($v|length) video tracks, worst fps \($v|map(.fps)|min), worst latency p95 \($v|map(.latencyP95Ms)|max) ms, backwards \($v|map(.backwards)|add), audio packets \($a|map(.audioPackets)|min), CPU \($cpu)% of a core"' \
    "$OUT/p$i.json"
done

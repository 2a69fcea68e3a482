#!/usr/bin/env bash
# CI of coup-ffi, from a fresh machine: installs what the binding suites need
# (Debian's JDK 17 and JNA, a Python venv with pinned PyPI packages, the npm
# Kotlin compiler from its lockfile), builds the server and the bindings
# (build-bindings.sh), builds and installs the Python wheel (maturin), and runs
# the Python suite (pytest) and the Kotlin suite (a Kotlin script on the JVM).
# Any failure fails the run. Swift is generated only: no toolchain here.
#
# Usage: bash coup-ffi/ci.sh   (honours CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
FFI="$ROOT/coup-ffi"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TERM_COLOR=never
OUT="$FFI/bindings"

echo "== coup-ffi: system packages"
need=()
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v npm >/dev/null || need+=(npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v strip >/dev/null || need+=(binutils)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "== coup-ffi: lints and unit tests"
cargo clippy --locked -p coup-ffi --all-targets -- -D warnings
cargo test --locked -p coup-ffi

echo "== coup-ffi: the server the suites run against"
cargo build --locked -p coup-server
export COUP_SERVER_BIN="$CARGO_TARGET_DIR/debug/coup-server"

echo "== coup-ffi: library and generated Kotlin, Swift, Python"
bash "$FFI/build-bindings.sh" "$OUT"
for generated in kotlin/uniffi/coup_ffi/coup_ffi.kt swift/coup_ffi.swift swift/coup_ffiFFI.h python/coup_ffi.py; do
  [ -s "$OUT/$generated" ] || { echo "missing generated $generated" >&2; exit 1; }
done

echo "== coup-ffi: Python wheel (maturin) and suite (pytest)"
VENV="$FFI/.venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$FFI/tests/python/requirements.txt"
rm -rf "$OUT/wheels"
"$VENV/bin/maturin" build --release --locked --manifest-path "$FFI/Cargo.toml" --out "$OUT/wheels"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$OUT"/wheels/coup_ffi-*.whl
(cd "$FFI" && "$VENV/bin/python" -m pytest -p no:cacheprovider -q)

echo "== coup-ffi: Kotlin suite (kotlinc from npm, JNA, JDK 17)"
(cd "$FFI/tests/kotlin" && npm ci --no-audit --no-fund --loglevel=error)
bash "$FFI/tests/kotlin/run.sh" "$OUT"
echo "coup-ffi CI passed"

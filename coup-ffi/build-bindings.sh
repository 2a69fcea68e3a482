#!/usr/bin/env bash
# Builds coup-ffi's release library and generates its Kotlin, Swift and Python
# bindings into OUT_DIR (a build output: never committed):
#
#   OUT_DIR/lib/libcoup_ffi.so        the library, stripped (.dylib on macOS)
#   OUT_DIR/kotlin/uniffi/coup_ffi/   coup_ffi.kt (JNA; needs kotlinx-coroutines)
#   OUT_DIR/swift/                    coup_ffi.swift, coup_ffiFFI.h, coup_ffiFFI.modulemap
#   OUT_DIR/python/                   coup_ffi.py with the library beside it
#
# Usage: coup-ffi/build-bindings.sh OUT_DIR   (honours CARGO_TARGET_DIR)
set -euo pipefail
OUT="${1:?usage: coup-ffi/build-bindings.sh OUT_DIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$(dirname "$0")/.."

cargo build --locked --release -p coup-ffi --lib --bin uniffi-bindgen
TARGET_DIR="$(cargo metadata --locked --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
case "$(uname -s)" in
  Darwin) LIB_NAME=libcoup_ffi.dylib ;;
  *) LIB_NAME=libcoup_ffi.so ;;
esac
LIB="$TARGET_DIR/release/$LIB_NAME"
BINDGEN="$TARGET_DIR/release/uniffi-bindgen"

mkdir -p "$OUT/lib"
cp "$LIB" "$OUT/lib/$LIB_NAME"
if command -v strip >/dev/null; then
  case "$(uname -s)" in
    Darwin) strip -x "$OUT/lib/$LIB_NAME" ;;
    *) strip --strip-unneeded "$OUT/lib/$LIB_NAME" ;;
  esac
fi

for language in kotlin swift python; do
  rm -rf "${OUT:?}/$language"
  "$BINDGEN" generate --no-format --library "$LIB" --language "$language" --out-dir "$OUT/$language"
done
# Python loads the library from beside its module.
cp "$OUT/lib/$LIB_NAME" "$OUT/python/$LIB_NAME"
echo "bindings in $OUT (library: $OUT/lib/$LIB_NAME, $(wc -c <"$OUT/lib/$LIB_NAME") bytes)"

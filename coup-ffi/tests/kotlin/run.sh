#!/usr/bin/env bash
# Compiles the generated Kotlin bindings and runs the Kotlin suite on the JVM:
# kotlinc from npm (`npm ci` here first), JNA from Debian's libjna-java, JDK 17.
# Usage: run.sh BINDINGS_DIR   (the OUT_DIR of build-bindings.sh; COUP_SERVER_BIN set)
set -euo pipefail
OUT="$(cd "${1:?usage: run.sh BINDINGS_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
KOTLIN="$HERE/node_modules/kotlin-compiler"
KOTLINC="$KOTLIN/bin/kotlinc"
JNA=/usr/share/java/jna.jar
CP="$JNA:$KOTLIN/lib/kotlinx-coroutines-core-jvm.jar"
BUILD="$HERE/build"
mkdir -p "$BUILD"

[ -x "$KOTLINC" ] || { echo "kotlinc missing: run npm ci in $HERE" >&2; exit 1; }
: "${COUP_SERVER_BIN:?set COUP_SERVER_BIN to the coup-server binary}"

# The generated bindings, compiled once into a jar the script links against.
"$KOTLINC" -nowarn -cp "$CP" "$OUT/kotlin/uniffi/coup_ffi/coup_ffi.kt" -d "$BUILD/coup_ffi.jar"
# JNA finds libcoup_ffi.so through jna.library.path.
JAVA_OPTS="-Djna.library.path=$OUT/lib ${JAVA_OPTS:-}" \
  "$KOTLINC" -nowarn -cp "$CP:$BUILD/coup_ffi.jar" -script "$HERE/coup_ffi_test.kts"

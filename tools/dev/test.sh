#!/bin/bash
# Builds everything and runs every test: unit tests beside the code,
# integration tests with real processes, the Python client test, buf lint;
# then builds the fuzz targets with clang and runs each for a bounded time.
#   tools/dev/test.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
"$ROOT/tools/dev/setup.sh" "$BUILD"
cd "$BUILD"
ctest --output-on-failure -j2 --timeout 900
"$ROOT/tools/dev/fuzz.sh" 25

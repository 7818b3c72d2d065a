#!/bin/bash
# Builds the fuzz targets (tests/fuzz) with clang, libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer, and runs each for a bounded time on its
# corpus. CI runs it after the tests with 25 seconds a target; run longer
# locally (e.g. 600) after changing a parser, a validation or the deadline
# engine.
#   tools/dev/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# A crash leaves its input in build-fuzz/artifacts/ and fails the run: fix
# the code, then copy the input into tests/fuzz/corpus/<target>/ so the
# ordinary test suite replays it for good (ctest -L fuzz).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_EACH="${1:-25}"
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(config_fuzz case_requests_fuzz handoff_import_fuzz scheduling_requests_fuzz media_rooms_fuzz
           routing_fuzz
           reception_log_fuzz deadline_fuzz)
fi
BUILD="$ROOT/build-fuzz"
CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
  -DRECEPTION_FUZZ=ON -DRECEPTION_BUILD_TESTS=OFF -DRECEPTION_BUILD_BENCHMARKS=OFF >/dev/null
ninja -C "$BUILD" fuzzers
mkdir -p "$BUILD/artifacts"
failed=()
for t in "${TARGETS[@]}"; do
  # New inputs go to a scratch corpus; the repository's stays as committed.
  scratch="$BUILD/corpus/$t"
  mkdir -p "$scratch"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  if ! ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
      "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 \
      -max_len=65536 -len_control=10 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
      "$scratch" "$ROOT/tests/fuzz/corpus/$t" >"$BUILD/$t.log" 2>&1; then
    failed+=("$t")
    tail -60 "$BUILD/$t.log"
  fi
  grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$BUILD/$t.log" | tail -2 | sed "s/^/  $t: /"
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $BUILD/artifacts)"
  exit 1
fi
echo "fuzz: every target ran ${SECONDS_EACH}s without a finding"

#!/bin/bash
# examples/cpp_client, the integrator's C++ example, against a real
# receptiond (development mode, loopback): its output is what the example
# promises an integrator (the retry returns the same case, paging, the
# error details by field and by state).
#   tests/e2e/cpp_example_test.sh RECEPTIOND EXAMPLE_CLIENT SOURCE_DIR
set -euo pipefail
RECEPTIOND="$1"; EXAMPLE="$2"; SRC="$(cd "$3" && pwd)"
T="$(mktemp -d)"; PID=""
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cat >"$T/node.yaml" <<YAML
unit_code: "48"
listen_address: 127.0.0.1:0
admin_address: 127.0.0.1:0
data_dir: $T/data
topology_file: $SRC/deploy/topology/da-nang-2025.yaml
rules_file: $SRC/deploy/rules/vn.yaml
calendar_file: $SRC/deploy/calendars/vn-2025-2026.yaml
YAML
"$RECEPTIOND" --config "$T/node.yaml" --ready_file "$T/ready" >"$T/node.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [[ -f "$T/ready" ]] && break; sleep 0.1; done
[[ -f "$T/ready" ]] || { cat "$T/node.log"; echo "FAIL: receptiond did not start"; exit 1; }
PORT=$(sed -n 's/^grpc_port=//p' "$T/ready")
"$EXAMPLE" --server "127.0.0.1:$PORT" --unit 48 >"$T/out.txt" 2>&1 || { cat "$T/out.txt"; echo "FAIL: exit $?"; exit 1; }
cat "$T/out.txt"
expect() { grep -qF -- "$1" "$T/out.txt" || { echo "FAIL: no line: $1"; exit 1; }; }
NAME=$(sed -n 's/^created \(cases\/[^;]*\);.*/\1/p' "$T/out.txt")
expect "created $NAME; retry returned $NAME"
expect "listed 1 case(s)"
expect "  reason INVALID_FIELD (reception.gov.vn)"
expect "  field case.petitioners[0].citizen_id: must be 12 digits"
expect "  reason TRANSITION_NOT_ALLOWED (reception.gov.vn)"
expect "  precondition STATE RECEIVED: AcceptCase is allowed only from CLASSIFIED"
echo "PASS: the C++ example"

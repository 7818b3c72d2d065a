#!/bin/bash
# A/B of durable CreateCase between builds of receptiond, on one machine in
# one run: each measurement on a fresh node (2 s warm-up, 5 s measured,
# c=64), the builds interleaved with an etcd Put measurement, ROUNDS times.
# Prints QPS, p99 and the server's CPU per call (user + system, /proc).
#   tools/bench/ab_create.sh ROUNDS BUILD_DIR_A [BUILD_DIR_B ...]
# e.g. a worktree of the commit before a change, built with
#   git worktree add /tmp/before HEAD~1 && cmake -S /tmp/before -B /tmp/before/build -G Ninja \
#     -DCMAKE_BUILD_TYPE=Release -DRECEPTION_BUILD_TESTS=OFF && ninja -C /tmp/before/build receptiond loadgen
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROUNDS=$1
shift
WORK=$(mktemp -d /tmp/reception-ab.XXXXXX)
LOADGEN="$1/tools/loadgen/loadgen"
# Each build reads the rule pack, topology and calendar of its own source
# tree (a pack may gain keys an older build does not know).
node_yaml() {  # node_yaml BUILD_DIR > file
  local src
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$1/CMakeCache.txt")
  cat <<YAML
unit_code: "48"
listen_address: 127.0.0.1:0
admin_address: 127.0.0.1:0
data_dir: $WORK/node
topology_file: ${src:-$ROOT}/deploy/topology/da-nang-2025.yaml
rules_file: ${src:-$ROOT}/deploy/rules/vn.yaml
calendar_file: ${src:-$ROOT}/deploy/calendars/vn-2025-2026.yaml
logging: {level: warn}
YAML
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
EC=$(port) EP=$(port)
etcd --name ab --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$EC" \
  --advertise-client-urls "http://127.0.0.1:$EC" --listen-peer-urls "http://127.0.0.1:$EP" \
  --initial-advertise-peer-urls "http://127.0.0.1:$EP" --initial-cluster "ab=http://127.0.0.1:$EP" \
  --log-level warn > "$WORK/etcd.log" 2>&1 &
ETCD=$!
trap 'kill $ETCD 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 2
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
report() {  # label pid-cpu-before pid-cpu-after json
  python3 - "$@" <<'PY'
import json, os, sys
label, c0, c1, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
d = json.load(open(path))
tick = os.sysconf("SC_CLK_TCK")
print(f"{label:<40} qps {d['qps']:7.0f}  p99 {d['p99_ms']:5.1f} ms  server CPU "
      f"{(c1 - c0) / tick / max(1, d['ok']) * 1e6:4.0f} us/call")
PY
}
for round in $(seq "$ROUNDS"); do
  for build in "$@"; do
    rm -rf "$WORK/node" "$WORK/ready"
    node_yaml "$build" > "$WORK/node.yaml"
    "$build/services/node/receptiond" --config "$WORK/node.yaml" --ready_file "$WORK/ready" \
      > "$WORK/node.log" 2>&1 &
    for _ in $(seq 100); do [[ -f "$WORK/ready" ]] && break; sleep 0.1; done
    PORT=$(grep grpc_port "$WORK/ready" | cut -d= -f2)
    PID=$(grep pid "$WORK/ready" | cut -d= -f2)
    "$LOADGEN" --target="127.0.0.1:$PORT" --method=create --concurrency=64 --duration=2 \
      --warmup=0 > /dev/null
    c0=$(cpu "$PID")
    "$LOADGEN" --target="127.0.0.1:$PORT" --method=create --concurrency=64 --duration=5 \
      --warmup=0 > "$WORK/lg.json"
    c1=$(cpu "$PID")
    report "round $round $build" "$c0" "$c1" "$WORK/lg.json"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
  done
  "$LOADGEN" --target="127.0.0.1:$EC" --method=etcd-put --concurrency=64 --duration=1 \
    --warmup=0 > /dev/null
  c0=$(cpu "$ETCD")
  "$LOADGEN" --target="127.0.0.1:$EC" --method=etcd-put --concurrency=64 --duration=5 \
    --warmup=0 > "$WORK/lg.json"
  c1=$(cpu "$ETCD")
  report "round $round etcd Put" "$c0" "$c1" "$WORK/lg.json"
done

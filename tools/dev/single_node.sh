#!/bin/bash
# A single node on the embedded default: starts a node (RocksDB, no media
# server) in a temp dir and walks a complaint and a denunciation through
# their lifecycles with receptionctl, printing each step.
#   tools/dev/single_node.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
"$ROOT/tools/dev/setup.sh" "$BUILD" >/dev/null

WORK="$(mktemp -d /tmp/reception-demo-XXXXXX)"
NODE_PID=""
cleanup() {
  if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/services/node/receptiond" --config "$ROOT/deploy/local/node.yaml" \
  --data_dir "$WORK/data" --listen 127.0.0.1:0 --admin_listen 127.0.0.1:0 \
  --ready_file "$WORK/ready" >"$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 300); do [[ -f "$WORK/ready" ]] && break; sleep 0.1; done
[[ -f "$WORK/ready" ]] || { echo "receptiond did not start:"; cat "$WORK/node.log"; exit 1; }
PORT=$(sed -n 's/^grpc_port=//p' "$WORK/ready")
ADMIN=$(sed -n 's/^admin_port=//p' "$WORK/ready")

export RECEPTION_SERVER="127.0.0.1:$PORT" RECEPTION_UNIT=48
CTL="$BUILD/tools/receptionctl"
TODAY=$(TZ=Asia/Ho_Chi_Minh date +%F)
step() {
  printf '\n\033[1m== %s\033[0m\n$ receptionctl' "$1"
  for a in "${@:2}"; do if [[ "$a" =~ [[:space:]\|] ]]; then printf ' "%s"' "$a"; else printf ' %s' "$a"; fi; done
  printf '\n'
  "$CTL" "${@:2}"
}
number() { sed -n 's|^cases/\([^ ]*\).*|\1|p' | head -1; }

echo "receptiond serves Đà Nẵng (unit 48) on 127.0.0.1:$PORT, metrics on 127.0.0.1:$ADMIN/metrics"

step "An officer registers a complaint received in person today" \
  --subject officer.lan create --kind complaint --round first --channel in_person \
  --petitioner "Nguyễn Văn An|049201001234|12 Trần Phú, Hải Châu|0905123456" \
  --respondent-unit 48-1 --respondent-official "Trần Văn Bình" --respondent-position "Chủ tịch UBND phường" \
  --act-reference "123/QĐ-UBND" --content "Khiếu nại quyết định thu hồi đất số 123/QĐ-UBND" \
  --received "$TODAY" | tee "$WORK/c1"
C1=$(number <"$WORK/c1")
step "Classify it: within competence, complex" --subject officer.lan classify "$C1" --competent yes --complexity complex
step "Accept it (thụ lý) with a written notice" --subject officer.lan accept "$C1" --notice "TL-01/2026"
step "An inspector starts verification" --subject inspector.hung --role inspector start-verification "$C1"
step "Pause: waiting for a land survey" --subject inspector.hung --role inspector suspend "$C1" \
  --reason "Chờ kết quả đo đạc địa chính" --evidence "CV-55/2026"
step "Resume" --subject inspector.hung --role inspector resume "$C1"
step "The chairman decides: partly right" --subject chairman --role head decide "$C1" \
  --outcome complaint_partly_right --decision "QĐ-77/2026" --summary "Điều chỉnh phương án bồi thường"
step "Close it" --subject officer.lan close "$C1"
step "The statutory clocks it ran against (a period running into a year the calendar does not list yet shows why it has no due date)" get "$C1"
step "Deadlines a complex first-time complaint received on 5 October 2026 gets, and the rules behind them" \
  deadlines preview --kind complaint --round first --complexity complex --received 2026-10-05
step "What is overdue on this node" overdue
step "Its hash-chained history" history "$C1"
step "Verify the chain" verify "$C1"

step "A denunciation: the denouncer's identity is sealed and redacted" \
  --subject officer.lan create --kind denunciation --channel mail \
  --petitioner "Lê Thị Cúc|049301009999|Hội An" --respondent-official "Phạm Văn Dũng" \
  --respondent-position "Cán bộ địa chính" --content "Tố cáo cán bộ địa chính nhận tiền" \
  --received "$TODAY" | tee "$WORK/c2"
C2=$(number <"$WORK/c2")
step "A search by the denouncer's name finds nothing" list --query "le thi cuc"
step "An officer may not reveal the identity" reveal "$C2" --reason "Xác minh thông tin" || true
step "An inspector of the owning unit may, with a reason, and it is audited" \
  --subject inspector.hung --role inspector reveal "$C2" --reason "Cần xác minh thông tin người tố cáo"
step "The reveal is in the denunciation's history" history "$C2"
step "Accent-insensitive search: 'nguyen van an'" list --query "nguyen van an"
step "The reception log (Circular 04/2021 form 03) as CSV" export --from "$TODAY" --to "$TODAY"
printf '\nDone: the node stops (SIGTERM) and its temp dir is removed.\n'

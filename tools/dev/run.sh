#!/bin/bash
# The main job: a local federation on the embedded default (RocksDB, no media
# server). Three receptiond processes on loopback, one per level of Quảng Nam
# as it was until 30 June 2025 (province, the city of Tam Kỳ, the ward of An
# Mỹ), then a complaint and a denunciation received at the ward travel to the
# competent levels, decided by the jurisdiction rules and handed over node to
# node; then Tam Kỳ schedules an online session with the ward as a bridge
# point, the ward registers the complainant, the chairman receives her
# online (the ward's node relaying), and the signed minutes join the case.
# Printed as a timeline.
#   tools/dev/run.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build}"
"$ROOT/tools/dev/setup.sh" "$BUILD" >/dev/null

WORK="$(mktemp -d /tmp/reception-federation-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The three-level map of Quảng Nam ended on 1 July 2025, so the nodes' date is
# set to 16 June 2025 (the test seam --clock_file; a real node uses the system
# clock).
echo 2025-06-16 >"$WORK/today"
UNITS=(49 502 502-1)
declare -A PORT LABEL
LABEL[49]="Tỉnh Quảng Nam (province headquarters)"
LABEL[502]="Thành phố Tam Kỳ (district board)"
LABEL[502-1]="Phường An Mỹ (commune bridge point)"
for u in "${UNITS[@]}"; do
  # A random free port below the kernel's ephemeral range, so no outgoing
  # connection takes it between this choice and the node binding it.
  PORT[$u]=$(python3 "$ROOT/tools/dev/free_port.py")
done
# Trust, as in production but made here: a development CA issues each node
# a certificate naming its unit (spiffe://reception.local/unit/<u>/node), and
# a development identity provider signs people's bearer tokens (its public
# key set is what every node verifies them against). Nodes call each other
# over mTLS; every receptionctl call below presents a token.
"$ROOT/tools/pki/dev_pki.sh" "$WORK/pki" "${UNITS[@]}"
mkdir -p "$WORK/pki/tokens"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/pki/tokens/issuer.key" 2>/dev/null
"$BUILD/tools/receptionctl" token jwks --key "$WORK/pki/tokens/issuer.key" --kid dev-1 >"$WORK/pki/tokens/jwks.json"
for u in "${UNITS[@]}"; do
  {
    echo "unit_code: \"$u\""
    echo "auth:"
    echo "  mode: mtls"
    echo "  tls: {ca_file: $WORK/pki/ca.crt, cert_file: $WORK/pki/$u/node.crt, key_file: $WORK/pki/$u/node.key}"
    echo "  jwt: {jwks_file: $WORK/pki/tokens/jwks.json, issuer: \"https://id.dev.reception\", audience: reception}"
    echo "listen_address: 127.0.0.1:${PORT[$u]}"
    echo "admin_address: 127.0.0.1:0"
    echo "data_dir: $WORK/$u"
    echo "topology_file: $ROOT/deploy/topology/quang-nam-2024.yaml"
    echo "rules_file: $ROOT/deploy/rules/vn.yaml"
    echo "calendar_file: $ROOT/deploy/calendars/vn-2025-2026.yaml"
    echo "duplicates: {matching_key_file: $WORK/pki/matching.key}"
    echo "documents: {forms_file: $ROOT/deploy/forms/vn.yaml, lookup_url: \"https://tiepcongdan.example/tra-cuu\"}"
    echo "federation:"
    echo "  peers:"
    for p in "${UNITS[@]}"; do
      [[ "$p" == "$u" ]] || echo "    - {unit_code: \"$p\", address: \"127.0.0.1:${PORT[$p]}\"}"
    done
  } >"$WORK/$u.yaml"
  "$BUILD/services/node/receptiond" --config "$WORK/$u.yaml" --ready_file "$WORK/$u.ready" \
    --clock_file "$WORK/today" >"$WORK/$u.log" 2>&1 &
  PIDS+=($!)
done
for u in "${UNITS[@]}"; do
  for _ in $(seq 1 300); do [[ -f "$WORK/$u.ready" ]] && break; sleep 0.1; done
  [[ -f "$WORK/$u.ready" ]] || { echo "receptiond $u did not start:"; cat "$WORK/$u.log"; exit 1; }
done

T0=$(date +%s.%N)
# receptionctl as a person of UNIT: leading --subject S and --role R choose
# the token (issued once by the development identity provider, 8 hours).
as_person() {  # as_person UNIT [--subject S] [--role R] [--json] args...
  local unit=$1 subject=cli role=officer pre=()
  shift
  while (($#)); do
    case "$1" in
      --subject) subject=$2; shift 2 ;;
      --role) role=$2; shift 2 ;;
      --json) pre+=(--json); shift ;;
      *) break ;;
    esac
  done
  local token="$WORK/pki/tokens/$unit.$subject.$role"
  [[ -f "$token" ]] || "$BUILD/tools/receptionctl" token issue --key "$WORK/pki/tokens/issuer.key" --kid dev-1 \
    --issuer https://id.dev.reception --audience reception --subject "$subject" --role "$role" --unit "$unit" >"$token"
  RECEPTION_SERVER="127.0.0.1:${PORT[$unit]}" RECEPTION_CA="$WORK/pki/ca.crt" RECEPTION_TOKEN_FILE="$token" \
    "$BUILD/tools/receptionctl" "${pre[@]}" "$@"
}
at() {  # at UNIT "what happens" receptionctl-args...
  local unit=$1 what=$2
  shift 2
  printf '\n\033[1m[+%5.2fs] %s\033[0m\n  %s\n$ receptionctl --token <%s>' \
    "$(echo "$(date +%s.%N) - $T0" | bc)" "${LABEL[$unit]}" "$what" "$unit"
  for a in "$@"; do if [[ "$a" =~ [[:space:]\|] ]]; then printf ' "%s"' "$a"; else printf ' %s' "$a"; fi; done
  printf '\n'
  as_person "$unit" "$@"
}
ctl() { as_person "$@"; }
number() { sed -n 's|^cases/\([^ ]*\).*|\1|p' | head -1; }
handoff_of() { sed -n 's|^  handoff *\(handoffs/[^ ]*\).*|\1|p' | head -1; }
wait_delivered() {  # wait_delivered UNIT HANDOFF
  for _ in $(seq 1 100); do
    [[ "$(ctl "$1" handoff "$2")" == *"[delivered]"* ]] && return 0
    sleep 0.1
  done
  echo "handoff $2 was not delivered"; exit 1
}

echo "Three nodes on loopback over mTLS (federated by handoffs, each with its own RocksDB);"
echo "people reach them with bearer tokens from a development identity provider:"
for u in "${UNITS[@]}"; do printf '  %-6s %-42s 127.0.0.1:%s\n' "$u" "${LABEL[$u]}" "${PORT[$u]}"; done

at 502-1 "A citizen complains about a decision of the Chairman of Tam Kỳ" \
  --subject officer.hoa create --kind complaint --round first --channel in_person \
  --petitioner "Nguyễn Thị Lan|049301002345|Tổ 3, phường An Mỹ|0905111222" \
  --respondent-unit 502 --respondent-official "Chủ tịch UBND thành phố Tam Kỳ" --head-of-unit \
  --act-reference "215/QĐ-UBND" --content "Khiếu nại quyết định thu hồi đất số 215/QĐ-UBND" \
  --received 2025-06-16 | tee "$WORK/c1"
C1=$(number <"$WORK/c1")
at 502-1 "The officer hands the citizen a receipt (PDF from the form in force that day; its hash is recorded)" \
  document "$C1" receipt -o "$WORK/receipt.pdf"
CODE=$(pdftotext -raw "$WORK/receipt.pdf" - | sed -n 's/.*Mã tra cứu: \([0-9-]*\).*/\1/p' | head -1)
echo "  (the receipt, as text:)"
pdftotext -raw "$WORK/receipt.pdf" - | sed -n '1,12p' | sed 's/^/  | /'
at 502-1 "Anyone holding the receipt may look the matter up, without an account (rate limited)" \
  lookup "${C1#cases/}" "$CODE"
at 502-1 "Which level is competent? (jurisdiction rules of the pack in force that day)" route "$C1"
at 502-1 "Hand it over: the case is frozen here and queued in the outbox in one write" \
  route "$C1" --apply --request-id route-c1 | tee "$WORK/r1"
wait_delivered 502-1 "$(handoff_of <"$WORK/r1")"
at 502 "Tam Kỳ now owns the complaint (its clocks restart on its own receipt)" get "$C1"
at 502-1 "The ward prints the transfer slip for Tam Kỳ (recorded on the handoff)" \
  document "$C1" transfer-slip -o "$WORK/transfer-slip.pdf"
at 502-1 "The citizen's receipt now shows where the matter went" lookup "${C1#cases/}" "$CODE"

at 502-1 "A denunciation of a provincial department official; the denouncer's identity is sealed" \
  --subject officer.hoa create --kind denunciation --channel in_person \
  --petitioner "Lê Văn Hùng|049201003456|Tổ 5, phường An Mỹ" --respondent-unit 49 \
  --respondent-official "Phạm Văn Dũng" --respondent-position "Phó Giám đốc Sở Tài nguyên và Môi trường" \
  --content "Tố cáo cán bộ nhận tiền khi giải quyết hồ sơ đất đai" --received 2025-06-16 | tee "$WORK/d1"
D1=$(number <"$WORK/d1")
at 502-1 "Route and hand it to the province (the identity travels sealed for the province's node key)" \
  route "$D1" --apply --request-id route-d1 | tee "$WORK/r2"
wait_delivered 502-1 "$(handoff_of <"$WORK/r2")"
at 49 "The province owns the denunciation" get "$D1"
at 49 "Only an inspector of the owning node can reveal the denouncer, with a reason (audited)" \
  --subject inspector.minh --role inspector reveal "$D1" --reason "Xác minh nội dung tố cáo theo thẩm quyền"

at 502-1 "The ward sees where each case went and its status" list
at 502 "Tam Kỳ starts handling the complaint: classified within its competence" \
  --subject officer.binh classify "$C1" --competent yes --complexity normal >"$WORK/classified"
head -5 "$WORK/classified"  # (a file, not a pipe: head must not cut receptionctl off)
at 502-1 "Asked at the ward, the complaint's status comes from its owner's node (Tam Kỳ)" get "$C1"
at 502-1 "Its handoffs" handoffs
at 502-1 "The ward may no longer change a case it handed over (the error names the owner)" \
  classify "$C1" --competent yes || true
at 502-1 "Its view of the federation" federation
# An online reception: Tam Kỳ's chairman receives the complainant, who stays
# at the ward's bridge point and talks only to the ward's node.
at 502 "Tam Kỳ schedules an online reception with the ward as a bridge point (its room comes from the media service)" \
  session create --kind online --date 2025-06-16 --start 14:00 --end 16:30 --presiding chairman.tk \
  --title "Tiếp công dân trực tuyến định kỳ" --bridge 502-1=5 --cutoff 2025-06-16 --request-id tk-online | tee "$WORK/session"
SESSION=$(sed -n 's|^\(sessions/[^ ]*\).*|\1|p' "$WORK/session" | head -1)
for _ in $(seq 1 100); do
  ctl 502 --json session get "$SESSION" >"$WORK/session.json"
  grep -q '"room"' "$WORK/session.json" && break
  sleep 0.1
done
ROOM=$(sed -n 's|.*"room": "\(rooms/[^"]*\)".*|\1|p' "$WORK/session.json")
for _ in $(seq 1 100); do
  ctl 502-1 session get "$SESSION" >/dev/null 2>&1 && break
  sleep 0.1
done
at 502-1 "The ward learns of the session (the city's node told it) and registers the complainant: queue number 1" \
  --subject officer.hoa register "$SESSION" --name "Nguyễn Thị Lan" --citizen-id 049301002345 --case "$C1" \
  --bridge 502-1 --request-id lan-1 >/dev/null
for _ in $(seq 1 100); do
  ctl 502-1 session agenda "$SESSION" >"$WORK/agenda"
  grep -q confirmed "$WORK/agenda" && break
  sleep 0.1
done
at 502-1 "The agenda at the ward, as confirmed by Tam Kỳ" session agenda "$SESSION"
at 502 "(open the session's room: participants may join)" room open "$ROOM"
at 502-1 "The ward's node joins the room as the bridge site and relays for its citizens" \
  room bridge "$ROOM" --host 502
participant() { sed -n 's|^participant \(p[0-9]*\).*|\1|p'; }
CHAIR_TOKEN=$(ctl 502 room token "$ROOM" --participant-role presiding --site 502 --for chairman.tk)
CHAIR=$(ctl 502 --subject chairman.tk --role head room join "$ROOM" --join-token "$CHAIR_TOKEN" | participant)
CITIZEN_TOKEN=$(ctl 502-1 --subject officer.hoa room token "$ROOM" --participant-role citizen --site 502-1 --for citizen.an)
at 502-1 "The complainant joins at the ward (a token issued by the ward's officer): the lobby" \
  --subject citizen.an --role viewer room join "$ROOM" --join-token "$CITIZEN_TOKEN" | tee "$WORK/joined"
CITIZEN=$(participant <"$WORK/joined")
ctl 502 --subject chairman.tk --role head room admit "$ROOM" --as "$CHAIR" --target "$CITIZEN" >/dev/null
ctl 502-1 --subject citizen.an --role viewer room hand "$ROOM" --as "$CITIZEN" >/dev/null
at 502 "The chairman admitted the citizen, who raised a hand at the ward; the floor is given" \
  --subject chairman.tk --role head room grant "$ROOM" --as "$CHAIR" --target "$CITIZEN"
ctl 502 --subject chairman.tk --role head room minutes "$ROOM" --as "$CHAIR" --place "Trụ sở UBND thành phố Tam Kỳ" \
  --case "$C1" --statement "$CITIZEN=Đề nghị xem xét lại quyết định thu hồi đất" \
  --conclusions "Giao phòng Tài nguyên và Môi trường kiểm tra, trả lời trong 10 ngày" >/dev/null
ctl 502 --subject chairman.tk --role head room sign "$ROOM" --as "$CHAIR" >/dev/null
at 502-1 "The minutes are drafted at Tam Kỳ; the citizen signs them at the ward, which locks them" \
  --subject citizen.an --role viewer room sign "$ROOM" --as "$CITIZEN"
for _ in $(seq 1 100); do
  ctl 502 --json room get "$ROOM" >"$WORK/room"
  grep -q ATTACHMENT_STATE_ATTACHED "$WORK/room" && break
  sleep 0.1
done
at 502 "The events of the room, in order (what WatchRoom streams)" room events "$ROOM"
at 502 "The session is recorded: who presided, how many citizens; its room closes" \
  --subject chairman.tk --role head session record "$SESSION" --presided-by "Chủ tịch UBND thành phố Tam Kỳ" \
  --presiding-role head --citizens 1 --case "$C1"
at 502 "The signed minutes are in the complaint's record" get "$C1"
at 502 "...and print as the minutes of the online reception (PDF)" \
  document "$C1" minutes -o "$WORK/minutes.pdf"
at 502 "The complaint's history at Tam Kỳ: received at the ward, handed over, imported, minutes attached" history "$C1"
at 502 "And it verifies end to end" verify "$C1"
echo
echo "Done: the three nodes stop (SIGTERM) and their temp dir is removed."

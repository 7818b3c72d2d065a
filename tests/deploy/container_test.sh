#!/bin/bash
# Three nodes from the project's images (deploy/container/build_images.sh:
# Debian packages only, nothing pulled), province, district and commune of
# Quảng Nam as it was until 30 June 2025, each a container with a read-only
# root file system, as user 10001, every capability dropped, no new
# privileges, over mTLS with certificates from tools/pki/dev_pki.sh. A
# complaint received at the commune is routed and handed to the district,
# which owns it; the province sees it through the feed it follows. The
# image's health check (receptionctl health) answers healthy.
#
# Exit 77 (ctest: skipped) with the reason when no container engine can run
# a container on this machine.
#
#   tests/deploy/container_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC="$1"; BUILD="$2"
TAG="test-$$"
T="$(mktemp -d)"
CONTAINERS=()
cleanup() {
  for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  for i in receptiond case routing media scheduling; do
    podman rmi -f "localhost/reception/$i:$TAG" >/dev/null 2>&1 || true
  done
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for c in "${CONTAINERS[@]}"; do echo "--- $c"; podman logs "$c" 2>&1 | tail -20; done; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v podman >/dev/null || skip "podman is not installed"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed"
# runc where crun cannot run (cgroups v1/hybrid hosts).
RUNTIME=()
if command -v runc >/dev/null; then RUNTIME=(--runtime runc); fi
# Limits no higher than this host's hard limits: raising them needs a
# capability a VM's root may lack.
NOFILE=$(ulimit -Hn); ((NOFILE > 65536)) && NOFILE=65536
RUN=(podman "${RUNTIME[@]}" run --ulimit "nofile=$NOFILE:$NOFILE" --ulimit nproc=8192:8192)

echo "building the images (tag $TAG)"
"$SRC/deploy/container/build_images.sh" --build "$BUILD" --tag "$TAG" >"$T/build.log" 2>&1 ||
  { tail -30 "$T/build.log"; fail "the images did not build"; }
IMAGE="localhost/reception/receptiond:$TAG"
if ! "${RUN[@]}" --rm --entrypoint /usr/local/bin/receptionctl "$IMAGE" help >"$T/probe" 2>&1; then
  skip "podman cannot start a container here: $(grep -v level= "$T/probe" | tail -1)"
fi

# The image: non-root, the project's health check, nothing but libraries.
USER_OF=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[[ "$USER_OF" == "10001:10001" ]] || fail "the image runs as '$USER_OF', not 10001"
podman image inspect --format '{{json .HealthCheck}}' "$IMAGE" | grep -q receptionctl ||
  fail "the image has no receptionctl health check"
for i in case routing media scheduling; do
  podman image inspect --format '{{json .Config.Entrypoint}}' "localhost/reception/$i:$TAG" |
    grep -q "reception-$i" || fail "image $i does not run reception-$i"
done

UNITS=(49 502 502-1)
declare -A PORT
for u in "${UNITS[@]}"; do
  PORT[$u]=$(python3 "$SRC/tools/dev/free_port.py")
done
"$SRC/tools/pki/dev_pki.sh" "$T/pki" "${UNITS[@]}" >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/issuer.key" 2>/dev/null
CTL="$BUILD/tools/receptionctl"
"$CTL" token jwks --key "$T/issuer.key" --kid c-1 >"$T/jwks.json"
for u in "${UNITS[@]}"; do
  E="$T/$u/etc"; mkdir -p "$E/tls" "$T/$u/data"
  cp "$T/pki/ca.crt" "$E/tls/ca.crt"
  cp "$T/pki/$u/node.crt" "$E/tls/node.crt"
  cp "$T/pki/$u/node.key" "$E/tls/node.key"
  cp "$T/pki/matching.key" "$E/matching.key"
  cp "$T/jwks.json" "$E/jwks.json"
  echo 2025-06-16 >"$E/today"
  # The keys are the node user's own (mode 0600), as on a real host.
  chown 10001:10001 "$E/tls/node.key" "$E/matching.key"
  chmod 0600 "$E/tls/node.key" "$E/matching.key"
  chown -R 10001:10001 "$T/$u/data"
  {
    echo "unit_code: \"$u\""
    echo "listen_address: 127.0.0.1:${PORT[$u]}"
    echo "admin_address: 127.0.0.1:0"
    echo "data_dir: /var/lib/reception"
    echo "topology_file: /usr/local/share/reception/topology/quang-nam-2024.yaml"
    echo "rules_file: /usr/local/share/reception/rules/vn.yaml"
    echo "calendar_file: /usr/local/share/reception/calendars/vn-2025-2026.yaml"
    echo "documents: {forms_file: /usr/local/share/reception/forms/vn.yaml}"
    echo "duplicates: {matching_key_file: matching.key}"
    echo "auth:"
    echo "  mode: mtls"
    echo "  tls: {ca_file: tls/ca.crt, cert_file: tls/node.crt, key_file: tls/node.key}"
    echo "  jwt: {jwks_file: jwks.json, issuer: \"https://id.test.reception\", audience: reception}"
    echo "federation:"
    echo "  retry_initial_millis: 100"
    echo "  retry_max_millis: 1000"
    echo "  peers:"
    for p in "${UNITS[@]}"; do
      [[ "$p" == "$u" ]] || echo "    - {unit_code: \"$p\", address: \"127.0.0.1:${PORT[$p]}\"}"
    done
  } >"$E/node.yaml"
  name="reception-test-$$-$u"
  "${RUN[@]}" -d --name "$name" --network host --read-only --cap-drop all \
    --security-opt no-new-privileges \
    -e "RECEPTION_SERVER=127.0.0.1:${PORT[$u]}" \
    -v "$E:/etc/reception:ro" -v "$T/$u/data:/var/lib/reception" \
    "$IMAGE" --clock_file /etc/reception/today >/dev/null 2>>"$T/podman.log"
  CONTAINERS+=("$name")
done

as() {  # as UNIT receptionctl-args...
  local u=$1; shift
  local token="$T/token.$u"
  [[ -f "$token" ]] || "$CTL" token issue --key "$T/issuer.key" --kid c-1 --issuer https://id.test.reception \
    --audience reception --subject "officer.$u" --role officer --unit "$u" >"$token"
  "$CTL" --server "127.0.0.1:${PORT[$u]}" --ca "$T/pki/ca.crt" --token "$(cat "$token")" "$@"
}
for u in "${UNITS[@]}"; do
  ok=0
  for _ in $(seq 1 150); do
    if "$CTL" --server "127.0.0.1:${PORT[$u]}" --ca "$T/pki/ca.crt" health >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  ((ok)) || fail "the container of $u did not become healthy"
done
for u in "${UNITS[@]}"; do
  podman "${RUNTIME[@]}" healthcheck run "reception-test-$$-$u" >/dev/null 2>&1 ||
    fail "the image's health check of $u is not healthy"
done
echo "three containers serving: ${UNITS[*]}"

as 502-1 create --kind complaint --round first --channel in_person \
  --petitioner "Nguyễn Thị Lan|049301002345|Tổ 3, phường An Mỹ|0905111222" \
  --respondent-unit 502 --respondent-official "Chủ tịch UBND thành phố Tam Kỳ" --head-of-unit \
  --act-reference "215/QĐ-UBND" --content "Khiếu nại quyết định thu hồi đất số 215/QĐ-UBND" \
  --received 2025-06-16 >"$T/c1" || fail "create at the commune"
C1=$(sed -n 's|^cases/\([^ ]*\).*|\1|p' "$T/c1" | head -1)
[[ -n "$C1" ]] || fail "no case number in: $(cat "$T/c1")"
as 502-1 route "$C1" --apply --request-id route-c1 >"$T/r1" || fail "route at the commune"
H=$(sed -n 's|^  handoff *\(handoffs/[^ ]*\).*|\1|p' "$T/r1" | head -1)
[[ -n "$H" ]] || fail "no handoff in: $(cat "$T/r1")"
delivered=0
for _ in $(seq 1 100); do
  if [[ "$(as 502-1 handoff "$H")" == *"[delivered]"* ]]; then delivered=1; break; fi
  sleep 0.2
done
((delivered)) || fail "handoff $H was not delivered to the district"
as 502 get "$C1" >"$T/at-district" || fail "get at the district"
grep -qE "^  owner +unit 502," "$T/at-district" || fail "the district does not own $C1: $(cat "$T/at-district")"
seen=0
for _ in $(seq 1 150); do
  if as 49 get "$C1" >"$T/at-province" 2>/dev/null && grep -qE "^  owner +unit 502," "$T/at-province"; then
    seen=1; break
  fi
  sleep 0.2
done
((seen)) || fail "the province does not see $C1 owned by the district: $(cat "$T/at-province" 2>&1)"
echo "PASS: $C1 received at the commune, owned by the district, seen at the province (containers, mTLS)"
